//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// randomRun is one seeded sequence of the random state-machine tests (plain and TLS): the actions
// a protocol takes on its own transport from its callbacks, what Write accepted, and the checks
// once the sequence is over.
type randomRun struct {
	t       *testing.T
	name    string // "seed 7" or "input 0a0b...": which run, in a failure
	rng     testloop.Chooser
	l       *loop.Loop
	tr      *unixstream.Transport
	c       *conn
	reports []loop.Exception

	accepted  []string
	aborted   bool
	lost      bool
	ending    int // 0: the transport closes; 1: Loop.Close; 2: Loop.Shutdown
	closeLoop bool
	seq       int
	stop      func() // the goroutine that hands actions in with CallSoonThreadsafe

	peerVanishes bool // the peer closes with data unread: a reset, and what it read is a prefix
}

func newRandomRun(t *testing.T, name string, rng testloop.Chooser, l *loop.Loop, c *conn) *randomRun {
	r := &randomRun{t: t, name: name, rng: rng, l: l, c: c}
	l.SetExceptionHandler(func(e loop.Exception) { r.reports = append(r.reports, e) })
	r.ending = rng.IntN(3)
	r.closeLoop = r.ending != 0
	c.onData = func(*conn, []byte) { r.act("DataReceived") }
	c.onEOF = func(*conn) { r.act("EOFReceived") }
	c.onPause = func(*conn) { r.act("PauseWriting") }
	c.onResume = func(*conn) { r.act("ResumeWriting") }
	c.onLost = func(*conn, error) {
		r.lost = true
		l.CallLater(5*time.Millisecond, l.Stop)
	}
	// Another goroutine hands actions in meanwhile (CallSoonThreadsafe), before and while the loop
	// closes: they run among the callbacks, and the same promises hold.
	r.stop = testloop.FromAnotherGoroutine(l, 300*time.Microsecond, func() {
		if !r.lost && r.tr != nil {
			r.act("CallSoonThreadsafe")
		}
	})
	return r
}

func (r *randomRun) msg(pad int) []byte {
	r.seq++
	return fmt.Appendf(nil, "m%06d:%s\n", r.seq, strings.Repeat("x", pad))
}

// write notes b before writing it: a Write may call PauseWriting, which may write more.
func (r *randomRun) write(bufs ...[]byte) {
	i := len(r.accepted)
	for _, b := range bufs {
		r.accepted = append(r.accepted, string(b[:8]))
	}
	var err error
	if len(bufs) == 1 {
		err = r.tr.Write(bufs[0])
	} else {
		err = r.tr.Writev(bufs)
	}
	if err != nil {
		r.accepted = slices.Delete(r.accepted, i, i+len(bufs))
	}
}

// act does one to three random things to the transport.
func (r *randomRun) act(where string) {
	if r.lost {
		r.t.Errorf("%s: %s after ConnectionLost", r.name, where)
	}
	tr := r.tr
	for range 1 + r.rng.IntN(3) {
		switch p := r.rng.IntN(100); {
		case p < 40:
			r.write(r.msg(r.rng.IntN(100)))
		case p < 46:
			r.write(r.msg(10), r.msg(20))
		case p < 52:
			r.write(r.msg(64 << 10)) // beyond the default high-water mark
		case p < 55:
			if err := tr.WriteEOF(); err != nil && !errors.Is(err, unixstream.ErrNoHalfClose) && !errors.Is(err, net.ErrClosed) &&
				!errors.Is(err, unixstream.ErrEOFWritten) {
				r.t.Errorf("%s: WriteEOF: %v", r.name, err)
			}
		case p < 59:
			tr.Close()
		case p < 61:
			r.aborted = true
			tr.Abort()
		case p < 63:
			tr.Close()
			r.aborted = true
			tr.Abort()
		case p < 71:
			tr.PauseReading()
			r.l.CallLater(time.Duration(r.rng.IntN(3))*time.Millisecond, tr.ResumeReading)
		case p < 75:
			tr.SetWriteBufferLimits(r.rng.IntN(1<<16), -1)
		case p < 78 && r.closeLoop:
			r.l.Stop() // the batch goes on; Loop.Close below meets the transport mid-state
		}
	}
}

// finish ends the loop as the seed chose, then checks: ConnectionLost once and last, an error only
// after Abort, nothing reported, and the peer (whose bytes come on read) got exactly what Write
// accepted, in order (after Abort: a prefix of it).
func (r *randomRun) finish(read chan []byte) {
	t, c := r.t, r.c
	sentinel := testfd.Sentinel(t) // on the numbers the run may have freed: closed twice, it shows
	switch r.ending {
	case 1:
		wasLost := r.lost
		if err := r.l.Close(); err != nil {
			t.Fatal(err)
		}
		if !wasLost && len(c.lost) == 1 && errors.Is(c.lost[0], net.ErrClosed) {
			r.aborted = true // Loop.Close dropped what was buffered
		}
	case 2:
		testloop.Shutdown(t, r.l, guard, r.name)
	}
	r.stop()
	sentinel()
	if len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
		t.Fatalf("%s: ConnectionLost %v, events %v", r.name, c.lost, c.events)
	}
	if !r.aborted && !r.peerVanishes && c.lost[0] != nil {
		t.Fatalf("%s: ConnectionLost(%v) without Abort or a reset", r.name, c.lost[0])
	}
	if len(r.reports) != 0 {
		t.Fatalf("%s: reports %+v", r.name, r.reports)
	}
	if err := testloop.WaterMarksPaired(c.events); err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	var b []byte
	select {
	case b = <-read:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: the peer never saw the end", r.name)
	}
	var got []string
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) >= 8 && line[len(line)-1] == '\n' {
			got = append(got, string(line[:8]))
		}
	}
	if (r.aborted || r.peerVanishes) && len(got) <= len(r.accepted) && slices.Equal(got, r.accepted[:len(got)]) {
		return
	}
	if !slices.Equal(got, r.accepted) {
		t.Fatalf("%s (aborted %v): the peer read %d messages, Write accepted %d\ngot      %v\naccepted %v",
			r.name, r.aborted, len(got), len(r.accepted), got, r.accepted)
	}
}

// randomTransport makes a loop and a transport with protocol flowConn{c} over one end of a Unix
// stream socketpair, and returns the other end for the peer; the caller closes the loop and the
// peer's end.
func randomTransport(t *testing.T, c *conn) (*loop.Loop, *unixstream.Transport, net.Conn) {
	t.Helper()
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mine, peer := socketPair(t)
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return flowConn{c} }, "",
		unixstream.ConnOptions{Sock: mine})
	mine.Close()
	if err != nil {
		peer.Close()
		l.Close()
		t.Fatal(err)
	}
	return l, tr, peer
}
