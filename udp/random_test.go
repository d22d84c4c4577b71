//go:build linux || windows

package udp_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// TestRandomCallbackActions drives the transport's state machine with random sequences of what a
// protocol may do from its own callbacks (SendTo that goes, SendTo that fails, Close, Abort, both,
// PauseReading and a later ResumeReading, new water marks), seeded so that a failure names the
// seed that replays it. After every sequence: ConnectionLost ran once and last, no callback came
// after it, no panic was reported, only the failing sends were reported, and the peer got exactly
// the replies SendTo accepted, in order (after Abort: a prefix of them). Two sequences in three end
// with the loop stopped (also from inside a callback, mid-batch) with the transport in whatever
// state it is, then Loop.Close (which must run its ConnectionLost, once, last) or Loop.Shutdown
// (which runs the loop again while the transport flushes, the protocol still acting from its
// callbacks, and must lose no accepted reply).
//
// Fault: random Close, Abort, twice, SendTo, PauseReading, water marks and loop Stop from inside every callback, mid-batch, and from another goroutine through CallSoonThreadsafe → ConnectionLost once and last, every accepted datagram delivered in order (a prefix after Abort)
func TestRandomCallbackActions(t *testing.T) {
	testloop.ForSeeds(t, 100, func(seed uint64) {
		randomRun(t, rand.New(rand.NewPCG(seed, 9)), fmt.Sprintf("seed %d", seed))
	})
}

// FuzzCallbackActions is TestRandomCallbackActions with the fuzzer making the choices (one byte
// each, testloop.Bytes), so that coverage guides which sequences of actions run: make fuzz.
func FuzzCallbackActions(f *testing.F) {
	for _, seed := range [][]byte{nil, {0}, {1, 44, 1, 62, 2, 65, 3, 70, 1, 78}, {2, 2, 81, 0, 74, 99}, []byte("aioloop state machine")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, choices []byte) {
		randomRun(t, testloop.Bytes(choices), fmt.Sprintf("input %x", choices))
	})
}

// maxReplies bounds the replies one run sends: the peer's default receive buffer (208 KiB) holds
// about 250 small datagrams on loopback, and the fuzzer found a run of 258 that lost 3 there.
const maxReplies = 150

// randomRun is one run, its choices made by rng; name says which run it is in a failure.
func randomRun(t *testing.T, rng testloop.Chooser, name string) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	r := &recorder{}
	tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return flowRecorder{r} }, udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	c := newPeer(t)
	to := tr.LocalAddr().AddrPort()
	for i := range 40 {
		c.WriteTo(fmt.Appendf(nil, "c%03d", i), to)
	}
	var accepted []string
	aborted, lost := false, false
	ending := rng.IntN(3) // 0: the transport closes; 1: Loop.Close; 2: Loop.Shutdown
	closeLoop := ending != 0
	seq := 0
	act := func(where string) {
		if lost {
			t.Errorf("%s: %s after ConnectionLost", name, where)
		}
		for range 1 + rng.IntN(3) {
			switch p := rng.IntN(100); {
			case p < 45 && seq >= maxReplies:
				// The peer reads only at the end: past its receive buffer, the kernel would drop
				// replies at the peer, which says nothing about the transport.
			case p < 45:
				msg := fmt.Sprintf("s%04d", seq)
				seq++
				if tr.SendTo([]byte(msg), udp.AddrFromAddrPort(c.AddrPort())) == nil {
					accepted = append(accepted, msg)
				}
			case p < 60:
				tr.SendTo([]byte("fails"), bcast)
			case p < 64:
				tr.Close()
			case p < 67:
				aborted = true // what was staged or queued may be dropped
				tr.Abort()
			case p < 69:
				tr.Close()
				aborted = true
				tr.Abort()
			case p < 77:
				tr.PauseReading()
				l.CallLater(time.Duration(rng.IntN(3))*time.Millisecond, tr.ResumeReading)
			case p < 80:
				tr.SetWriteBufferLimits(rng.IntN(200), -1)
			case p < 83 && closeLoop:
				l.Stop() // the batch goes on; Loop.Close below meets the transport mid-state
			}
		}
	}
	r.onData = func(*recorder, []byte, udp.Addr) { act("DatagramReceived") }
	r.onErr = func(_ *recorder, err error) {
		if !errors.Is(err, syscall.EACCES) {
			t.Errorf("%s: ErrorReceived %v", name, err)
		}
		act("ErrorReceived")
	}
	r.onPause = func(*recorder) { act("PauseWriting") }
	r.onResume = func(*recorder) { act("ResumeWriting") }
	r.onLost = func(*recorder, error) {
		lost = true
		l.CallLater(5*time.Millisecond, l.Stop)
	}
	l.CallLater(10*time.Millisecond, func() { // the rest of the load, then an end if none came
		for i := range 20 {
			c.WriteTo(fmt.Appendf(nil, "d%03d", i), to)
		}
		if closeLoop {
			l.CallLater(time.Duration(rng.IntN(3))*time.Millisecond, l.Stop)
		} else {
			l.CallLater(10*time.Millisecond, tr.Close)
		}
	})
	// Another goroutine hands actions in meanwhile (CallSoonThreadsafe), before and while the
	// loop closes: they run among the callbacks, and the same promises hold.
	stop := testloop.FromAnotherGoroutine(l, 300*time.Microsecond, func() {
		if !lost {
			act("CallSoonThreadsafe")
		}
	})
	run(t, l)
	sentinel := testfd.Sentinel(t) // on the numbers the run may have freed: closed twice, it shows
	switch ending {
	case 1:
		aborted = true // Loop.Close drops what is queued
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	case 2:
		testloop.Shutdown(t, l, guard, name)
	}
	stop()
	sentinel()
	if len(r.lost) != 1 || r.events[len(r.events)-1] != "lost" {
		t.Fatalf("%s: ConnectionLost %v, events %v", name, r.lost, r.events)
	}
	if len(reports) != 0 {
		t.Fatalf("%s: reports %+v", name, reports)
	}
	if err := testloop.WaterMarksPaired(r.events); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got := replies(c, 30*time.Millisecond)
	if aborted && len(got) <= len(accepted) && slices.Equal(got, accepted[:len(got)]) {
		return
	}
	if !slices.Equal(got, accepted) {
		t.Fatalf("%s (aborted %v): the peer got %d replies, SendTo accepted %d\ngot      %s\naccepted %s",
			name, aborted, len(got), len(accepted), strings.Join(got, " "), strings.Join(accepted, " "))
	}
}
