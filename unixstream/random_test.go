//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testloop"
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
//
// Fault: random Write, Writev, WriteEOF, Close, Abort, twice, PauseReading, water marks and loop Stop from inside every callback and from another goroutine through CallSoonThreadsafe, with the peer half-closing or resetting at random → ConnectionLost once and last; the peer reads exactly what Write accepted, in order (a prefix after Abort or its own reset)
func TestRandomStreamCallbackActions(t *testing.T) {
	testloop.ForSeeds(t, 100, func(seed uint64) {
		randomStreamRun(t, rand.New(rand.NewPCG(seed, 7)), fmt.Sprintf("seed %d", seed))
	})
}

// FuzzStreamCallbackActions is TestRandomStreamCallbackActions with the fuzzer making the choices
// (testloop.Bytes), so that coverage guides which sequences of actions run: make fuzz.
func FuzzStreamCallbackActions(f *testing.F) {
	for _, seed := range [][]byte{nil, {0, 0, 1}, {1, 1, 2, 3, 40, 1, 55, 2, 70, 0, 90}, {0, 1, 0, 2, 66, 2, 80, 1, 88}, []byte("aioloop state machine")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, choices []byte) {
		randomStreamRun(t, testloop.Bytes(choices), fmt.Sprintf("input %x", choices))
	})
}

// randomStreamRun is one run, its choices made by rng; name says which run it is in a failure.
func randomStreamRun(t *testing.T, rng testloop.Chooser, name string) {
	c := &conn{keepOpen: rng.IntN(2) == 0}
	l, tr, peer := randomTransport(t, c)
	defer l.Close()
	defer peer.Close()
	for i := range 30 {
		fmt.Fprintf(peer, "p%04d\n", i)
	}
	if rng.IntN(2) == 0 {
		peer.(*net.UnixConn).CloseWrite()
	}
	vanishAfter := -1 // the peer reads to the end
	if rng.IntN(4) == 0 {
		vanishAfter = rng.IntN(4096) // it reads this many bytes, then closes with data unread: a reset
	}
	read := make(chan []byte, 1)
	go func() {
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		if vanishAfter < 0 {
			b, _ := io.ReadAll(peer)
			read <- b
			return
		}
		b := make([]byte, vanishAfter)
		n, _ := io.ReadFull(peer, b)
		peer.Close()
		read <- b[:n]
	}()

	r := newRandomRun(t, name, rng, l, c)
	r.tr = tr
	r.peerVanishes = vanishAfter >= 0
	if r.closeLoop {
		l.CallLater(time.Duration(rng.IntN(12))*time.Millisecond, l.Stop)
	} else {
		l.CallLater(10*time.Millisecond, tr.Close) // an end if none came
	}
	run(t, l)
	r.finish(read)
}
