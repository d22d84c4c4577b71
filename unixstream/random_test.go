//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// TestRandomStreamCallbackActions drives the stream transport's state machine with random
// sequences of what a protocol may do from its own callbacks (Write, Writev, a large Write that
// crosses the water marks, WriteEOF, Close, Abort, PauseReading with a later ResumeReading, new
// water marks), seeded so that a failure names the seed that replays it. After every sequence:
// ConnectionLost ran once and last, no callback came after it, nothing was reported, and the peer
// read exactly the messages Write accepted, in order, then EOF (after Abort: a prefix of them). Two
// sequences in three end with the loop stopped (also from a callback, mid-batch) with the transport
// in whatever state it is, then Loop.Close (which must run its ConnectionLost once, last, with its
// own error or one matching net.ErrClosed) or Loop.Shutdown (which runs the loop again while the
// transport flushes, the protocol still acting from its callbacks, and must lose nothing accepted).
func TestRandomStreamCallbackActions(t *testing.T) {
	testloop.ForSeeds(t, 100, func(seed uint64) { randomStreamRun(t, seed) })
}

func randomStreamRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	mine, pf := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "peer")
	peer, err := net.FileConn(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c := &conn{keepOpen: rng.IntN(2) == 0}
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return flowConn{c} }, "",
		unixstream.ConnOptions{Sock: mine})
	mine.Close()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		fmt.Fprintf(peer, "p%04d\n", i)
	}
	if rng.IntN(2) == 0 {
		peer.(*net.UnixConn).CloseWrite()
	}
	read := make(chan []byte, 1)
	go func() {
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(peer)
		read <- b
	}()

	var accepted []string
	aborted, lost := false, false
	ending := rng.IntN(3) // 0: the transport closes; 1: Loop.Close; 2: Loop.Shutdown
	closeLoop := ending != 0
	seq := 0
	msg := func(pad int) []byte {
		seq++
		return fmt.Appendf(nil, "m%06d:%s\n", seq, strings.Repeat("x", pad))
	}
	write := func(b []byte) {
		if tr.Write(b) == nil {
			accepted = append(accepted, string(b[:8]))
		}
	}
	act := func(where string) {
		if lost {
			t.Errorf("seed %d: %s after ConnectionLost", seed, where)
		}
		for range 1 + rng.IntN(3) {
			switch p := rng.IntN(100); {
			case p < 40:
				write(msg(rng.IntN(100)))
			case p < 46:
				a, b := msg(10), msg(20)
				if tr.Writev([][]byte{a, b}) == nil {
					accepted = append(accepted, string(a[:8]), string(b[:8]))
				}
			case p < 52:
				write(msg(64 << 10)) // beyond the default high-water mark
			case p < 55:
				tr.WriteEOF()
			case p < 59:
				tr.Close()
			case p < 61:
				aborted = true
				tr.Abort()
			case p < 63:
				tr.Close()
				aborted = true
				tr.Abort()
			case p < 71:
				tr.PauseReading()
				l.CallLater(time.Duration(rng.IntN(3))*time.Millisecond, tr.ResumeReading)
			case p < 75:
				tr.SetWriteBufferLimits(rng.IntN(1<<16), -1)
			case p < 78 && closeLoop:
				l.Stop() // the batch goes on; Loop.Close below meets the transport mid-state
			}
		}
	}
	c.onData = func(*conn, []byte) { act("DataReceived") }
	c.onEOF = func(*conn) { act("EOFReceived") }
	c.onPause = func(*conn) { act("PauseWriting") }
	c.onResume = func(*conn) { act("ResumeWriting") }
	c.onLost = func(_ *conn, err error) {
		lost = true
		l.CallLater(5*time.Millisecond, l.Stop)
	}
	if closeLoop {
		l.CallLater(time.Duration(rng.IntN(12))*time.Millisecond, l.Stop)
	} else {
		l.CallLater(10*time.Millisecond, tr.Close) // an end if none came
	}
	run(t, l)
	switch ending {
	case 1:
		wasLost := lost
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if !wasLost && len(c.lost) == 1 && errors.Is(c.lost[0], net.ErrClosed) {
			aborted = true // Loop.Close dropped what was buffered
		}
	case 2:
		testloop.Shutdown(t, l, guard, fmt.Sprintf("seed %d", seed))
	}
	if len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
		t.Fatalf("seed %d: ConnectionLost %v, events %v", seed, c.lost, c.events)
	}
	if !aborted && c.lost[0] != nil {
		t.Fatalf("seed %d: ConnectionLost(%v) without Abort", seed, c.lost[0])
	}
	if len(reports) != 0 {
		t.Fatalf("seed %d: reports %+v", seed, reports)
	}
	var b []byte
	select {
	case b = <-read:
	case <-time.After(10 * time.Second):
		t.Fatalf("seed %d: the peer never saw the end", seed)
	}
	var got []string
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) >= 8 && line[len(line)-1] == '\n' {
			got = append(got, string(line[:8]))
		}
	}
	if aborted && len(got) <= len(accepted) && slices.Equal(got, accepted[:len(got)]) {
		return
	}
	if !slices.Equal(got, accepted) {
		t.Fatalf("seed %d (aborted %v): the peer read %d messages, Write accepted %d\ngot      %v\naccepted %v",
			seed, aborted, len(got), len(accepted), got, accepted)
	}
}
