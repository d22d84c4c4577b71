//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/unixstream"
)

// TestRandomTLSCallbackActions is TestRandomStreamCallbackActions over TLS: the transport is
// upgraded with StartTLS (the first actions come from its done callback, while what they write may
// still wait as plaintext), its peer is crypto/tls over the other end of a socketpair, and the
// protocol acts on its own transport from every callback at random (Write, Writev, a large Write
// across the water marks, WriteEOF, which TLS refuses, Close, Abort, PauseReading with a later
// ResumeReading, new water marks, stopping the loop). After every sequence: ConnectionLost ran once
// and last, nothing was reported, and the peer decrypted exactly the messages Write accepted, in
// order, then close_notify (after Abort, or when the peer drops the socket at random having
// decrypted only part: a prefix of them).
func TestRandomTLSCallbackActions(t *testing.T) {
	testloop.ForSeeds(t, 60, func(seed uint64) {
		randomTLSRun(t, rand.New(rand.NewPCG(seed, 11)), fmt.Sprintf("seed %d", seed))
	})
}

// FuzzTLSCallbackActions is TestRandomTLSCallbackActions with the fuzzer making the choices
// (testloop.Bytes), so that coverage guides which sequences of actions run: make fuzz.
func FuzzTLSCallbackActions(f *testing.F) {
	for _, seed := range [][]byte{nil, {1, 0, 1, 2}, {0, 1, 1, 2, 40, 1, 55, 2, 70, 0, 90}, []byte("aioloop tls state machine")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, choices []byte) {
		randomTLSRun(t, testloop.Bytes(choices), fmt.Sprintf("input %x", choices))
	})
}

// randomTLSRun is one run, its choices made by rng; name says which run it is in a failure.
func randomTLSRun(t *testing.T, rng testloop.Chooser, name string) {
	certs := testcert.Get()
	c := &conn{}
	l, tr, peer := randomTransport(t, c)
	defer l.Close()
	defer peer.Close()
	closeNotify := rng.IntN(2) == 0
	vanishAfter := -1 // the peer reads to the end
	if rng.IntN(4) == 0 {
		vanishAfter = rng.IntN(4096) // it decrypts this many bytes, then drops the socket: a reset
	}
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
		if vanishAfter >= 0 {
			b := make([]byte, vanishAfter)
			n, _ := io.ReadFull(tc, b)
			peer.Close() // no close_notify, data unread
			read <- b[:n]
			return
		}
		b, _ := io.ReadAll(tc)
		tc.Close() // answers the transport's close_notify
		read <- b
	}()

	r := newRandomRun(t, name, rng, l, c)
	r.tr = tr
	r.peerVanishes = vanishAfter >= 0
	l.CallSoon(func() {
		err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, func(err error) {
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("%s: StartTLS: %v", name, err)
				}
				return
			}
			r.act("StartTLS done")
		})
		if err != nil {
			t.Errorf("%s: StartTLS: %v", name, err)
		}
		r.act("before the handshake") // these writes wait as plaintext
	})
	if r.closeLoop {
		l.CallLater(time.Duration(5+rng.IntN(15))*time.Millisecond, l.Stop)
	} else {
		l.CallLater(20*time.Millisecond, tr.Close) // an end if none came
	}
	run(t, l)
	r.finish(read)
}
