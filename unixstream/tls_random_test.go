//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"context"
	"crypto/tls"
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

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// TestRandomTLSCallbackActions is TestRandomStreamCallbackActions over TLS: the transport is
// upgraded with StartTLS (the first actions come from its done callback, while what they write may
// still wait as plaintext), its peer is crypto/tls over the other end of a socketpair, and the
// protocol acts on its own transport from every callback at random (Write, Writev, a large Write
// across the water marks, WriteEOF, which TLS refuses, Close, Abort, PauseReading with a later
// ResumeReading, new water marks, stopping the loop). After every sequence: ConnectionLost ran once
// and last, nothing was reported, and the peer decrypted exactly the messages Write accepted, in
// order, then close_notify (after Abort: a prefix of them).
func TestRandomTLSCallbackActions(t *testing.T) {
	testloop.ForSeeds(t, 60, func(seed uint64) { randomTLSRun(t, seed) })
}

func randomTLSRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	certs := testcert.Get()
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
	c := &conn{}
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return flowConn{c} }, "",
		unixstream.ConnOptions{Sock: mine})
	mine.Close()
	if err != nil {
		t.Fatal(err)
	}
	closeNotify := rng.IntN(2) == 0
	read := make(chan []byte, 1)
	go func() { // the peer: its lines, maybe its close_notify, then everything it decrypts
		peer.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(peer, certs.ServerConfig(0))
		if tc.Handshake() != nil {
			read <- nil
			return
		}
		for i := range 30 {
			fmt.Fprintf(tc, "p%04d\n", i)
		}
		if closeNotify {
			tc.CloseWrite()
		}
		b, _ := io.ReadAll(tc)
		tc.Close() // answers the transport's close_notify
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
	write := func(b []byte) { // noted first: a Write may call PauseWriting, which may write more
		i := len(accepted)
		accepted = append(accepted, string(b[:8]))
		if tr.Write(b) != nil {
			accepted = slices.Delete(accepted, i, i+1)
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
				i := len(accepted)
				accepted = append(accepted, string(a[:8]), string(b[:8]))
				if tr.Writev([][]byte{a, b}) != nil {
					accepted = slices.Delete(accepted, i, i+2)
				}
			case p < 52:
				write(msg(64 << 10)) // beyond the default high-water mark
			case p < 55:
				if err := tr.WriteEOF(); err != nil && !errors.Is(err, unixstream.ErrNoHalfClose) && !errors.Is(err, net.ErrClosed) {
					t.Errorf("seed %d: WriteEOF: %v", seed, err)
				}
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
				l.Stop()
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
	l.CallSoon(func() {
		err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, func(err error) {
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("seed %d: StartTLS: %v", seed, err)
				}
				return
			}
			act("StartTLS done")
		})
		if err != nil {
			t.Errorf("seed %d: StartTLS: %v", seed, err)
		}
		act("before the handshake") // these writes wait as plaintext
	})
	if closeLoop {
		l.CallLater(time.Duration(5+rng.IntN(15))*time.Millisecond, l.Stop)
	} else {
		l.CallLater(20*time.Millisecond, tr.Close) // an end if none came
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
	case <-time.After(15 * time.Second):
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
