package soak

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// clientCounts is what the clients did and checked; every field is updated with atomics.
type clientCounts struct {
	udpSent, udpAcked, udpLost atomic.Int64
	streamBytes, tlsBytes      atomic.Int64 // echoed and checked byte for byte
	sessions                   [numKinds]atomic.Int64

	mu       sync.Mutex
	failures []string // what broke a promise: a wrong byte, a duplicate, an unexpected error
}

func (c *clientCounts) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) < 20 {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}

// The kinds of stream session; all but echo and halfClose misbehave.
const (
	echo       = iota // write a random amount in random chunks, read it all back, close
	halfClose         // the same, then CloseWrite and read to EOF
	vanish            // write some, close without reading (the server's writes meet EPIPE)
	silent            // connect, send nothing, close after a while
	neverReads        // write until the server's flow control and the kernel stop us, then close
	garbage           // TLS only: bytes that are not a ClientHello
	numKinds
)

var kindNames = [numKinds]string{"echo", "half-close", "vanish", "silent", "never-reads", "tls-garbage"}

// streamClient runs sessions of random kinds until ctx ends. dial makes a connection (plain or
// TLS); raw makes a plain one for the garbage kind (TLS only, tlsOn).
func streamClient(ctx context.Context, seed uint64, dial func() (net.Conn, error), raw func() (net.Conn, error), tlsOn bool, cc *clientCounts) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for ctx.Err() == nil {
		kind := rng.IntN(numKinds - 1)
		if tlsOn && rng.IntN(6) == 0 {
			kind = garbage
		}
		var err error
		if kind == garbage {
			err = garbageSession(raw, rng)
		} else {
			err = session(ctx, dial, kind, rng, tlsOn, cc)
		}
		if err != nil {
			cc.fail("%s session: %v", kindNames[kind], err)
		}
		cc.sessions[kind].Add(1)
	}
}

func session(ctx context.Context, dial func() (net.Conn, error), kind int, rng *rand.Rand, tlsOn bool, cc *clientCounts) error {
	c, err := dial()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	payload := make([]byte, 1+rng.IntN(256<<10))
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	switch kind {
	case silent:
		select {
		case <-time.After(time.Duration(rng.IntN(300)) * time.Millisecond):
		case <-ctx.Done():
		}
		return nil
	case vanish:
		_, err := c.Write(payload[:min(len(payload), 1+rng.IntN(64<<10))])
		return err
	case neverReads:
		c.SetWriteDeadline(time.Now().Add(time.Duration(50+rng.IntN(200)) * time.Millisecond))
		for {
			if _, err := c.Write(payload); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil // held back by the server's flow control: what this kind wants
				}
				return err
			}
		}
	}
	// echo and halfClose: write in random chunks while reading the echo back, then check it.
	werr := make(chan error, 1)
	go func() {
		rest := payload
		for len(rest) > 0 {
			n := min(len(rest), 1+rng2(len(rest)))
			if _, err := c.Write(rest[:n]); err != nil {
				werr <- err
				return
			}
			rest = rest[n:]
		}
		if kind == halfClose {
			if cw, ok := c.(interface{ CloseWrite() error }); ok {
				werr <- cw.CloseWrite()
				return
			}
		}
		werr <- nil
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(c, got); err != nil {
		<-werr
		return fmt.Errorf("read back %d bytes: %w", len(payload), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, payload) {
		i := 0
		for i < len(got) && got[i] == payload[i] {
			i++
		}
		return fmt.Errorf("the echo differs from what was written at byte %d of %d", i, len(payload))
	}
	if kind == halfClose { // the server closes once it has written the echo: EOF, and nothing more
		var one [1]byte
		if n, err := c.Read(one[:]); n != 0 || err != io.EOF {
			return fmt.Errorf("after the echo of a half-closed connection: %d bytes, %v; want EOF", n, err)
		}
	}
	if tlsOn {
		cc.tlsBytes.Add(int64(len(payload)))
	} else {
		cc.streamBytes.Add(int64(len(payload)))
	}
	return nil
}

// rng2 is a chunk size: small and large writes both, from a goroutine of its own.
func rng2(n int) int { return rand.IntN(min(n, 64<<10)) }

// garbageSession sends bytes that are not TLS to the TLS server and expects it to close.
func garbageSession(raw func() (net.Conn, error), rng *rand.Rand) error {
	c, err := raw()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	junk := make([]byte, 1+rng.IntN(512))
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	junk[0] = 0x17 // application data before any handshake: never a valid start
	if _, err := c.Write(junk); err != nil {
		return nil // the server may close first
	}
	io.Copy(io.Discard, c) // an alert, then EOF (or a reset): the server gave up on us
	return nil
}

// udpClient keeps a window of numbered datagrams in flight and checks every echo: its number was
// sent and not yet echoed, and its bytes are what was sent.
func udpClient(ctx context.Context, seed uint64, addr string, cc *clientCounts) {
	rng := rand.New(rand.NewPCG(seed, 5))
	c, err := net.Dial("udp", addr)
	if err != nil {
		cc.fail("udp dial: %v", err)
		return
	}
	defer c.Close()
	const window = 16
	pending := map[uint64]uint64{} // number -> hash of the datagram
	next := uint64(0)
	buf := make([]byte, 2048)
	out := make([]byte, 2048)
	for ctx.Err() == nil {
		for len(pending) < window {
			n := 16 + rng.IntN(1200)
			binary.BigEndian.PutUint64(out, next)
			for i := 8; i < n; i++ {
				out[i] = byte(rng.Uint32())
			}
			pending[next] = hashOf(out[:n])
			next++
			if _, err := c.Write(out[:n]); err != nil {
				cc.fail("udp write: %v", err)
				return
			}
			cc.udpSent.Add(1)
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				cc.udpLost.Add(int64(len(pending))) // loopback loss: counted, and the window refilled
				clear(pending)
				continue
			}
			cc.fail("udp read: %v", err)
			return
		}
		if n < 8 {
			cc.fail("udp: a %d-byte echo", n)
			continue
		}
		seq := binary.BigEndian.Uint64(buf)
		h, ok := pending[seq]
		switch {
		case !ok:
			cc.fail("udp: echo of datagram %d, which is not in flight (a duplicate, or never sent)", seq)
		case h != hashOf(buf[:n]):
			cc.fail("udp: the echo of datagram %d differs from what was sent", seq)
		default:
			delete(pending, seq)
			cc.udpAcked.Add(1)
		}
	}
}

func hashOf(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// tlsDialer dials path and runs a TLS client handshake with cfg.
func tlsDialer(path string, cfg *tls.Config) func() (net.Conn, error) {
	return func() (net.Conn, error) {
		c, err := net.Dial("unix", path)
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, cfg)
		tc.SetDeadline(time.Now().Add(20 * time.Second))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
}
