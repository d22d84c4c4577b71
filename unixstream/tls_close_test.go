//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// countConn counts the bytes read through it.
type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// stdPeer serves one connection at path with crypto/tls over net.UnixConn (a peer aioloop did not
// write): after the handshake it runs fn on its own goroutine, which the test's end waits for.
func stdPeer(t *testing.T, path string, cfg *tls.Config, fn func(c *tls.Conn, raw *countConn)) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ln.Close()
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		raw := &countConn{Conn: nc}
		c := tls.Server(raw, cfg)
		nc.SetDeadline(time.Now().Add(guard))
		if err := c.Handshake(); err != nil {
			t.Errorf("std peer's handshake: %v", err)
			return
		}
		fn(c, raw)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
}

// TestTLSShutdownTimeout: Close sends close_notify and waits for the peer's; a peer that never
// answers (nor closes) ends the connection after ShutdownTimeout with ConnectionLost naming it.
//
// Fault: a TLS peer that never answers close_notify → ConnectionLost after ShutdownTimeout, naming it
func TestTLSShutdownTimeout(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "mute.sock")
	release := make(chan struct{})
	got := make(chan bool, 1)
	stdPeer(t, path, certs.ServerConfig(0), func(c *tls.Conn, raw *countConn) {
		// Read returns io.EOF at the client's close_notify, which the peer does not answer. (The
		// alert may already sit in crypto/tls's buffer, read with the client's Finished: counting
		// raw bytes from here could miss it.) The client's socket is still open then, for its
		// whole ShutdownTimeout: an EOF from a closed socket without close_notify would show.
		_, err := c.Read(make([]byte, 1))
		raw.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, rerr := raw.Conn.Read(make([]byte, 1))
		got <- errors.Is(err, io.EOF) && errors.Is(rerr, os.ErrDeadlineExceeded)
		<-release
	})
	c := newRec()
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { return c }, path,
		unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName, ShutdownTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	onLoop(t, l, tr.Close)
	err = c.waitLost(t)
	close(release)
	var ne net.Error
	if !errors.Is(err, unixstream.ErrShutdownTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() ||
		!strings.Contains(err.Error(), "ConnOptions.ShutdownTimeout (400ms)") {
		t.Fatalf("ConnectionLost(%v)", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("lost after %v", d)
	}
	if !<-got {
		t.Fatal("the peer saw no close_notify while the client's socket was open")
	}
}

// TestTLSAbortSendsNothing: Abort closes at once, with no close_notify (the peer reads EOF and no
// bytes), and ConnectionLost(nil).
func TestTLSAbortSendsNothing(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "abort.sock")
	got := make(chan int64, 1)
	stdPeer(t, path, certs.ServerConfig(tls.VersionTLS12), func(c *tls.Conn, raw *countConn) {
		before := raw.n.Load()
		io.Copy(io.Discard, c)
		got <- raw.n.Load() - before
	})
	c := newRec()
	tr, err := tlsDial(t, l, path, tls.VersionTLS12, c)
	if err != nil {
		t.Fatal(err)
	}
	onLoop(t, l, tr.Abort)
	if err := c.waitLost(t); err != nil {
		t.Fatalf("ConnectionLost(%v)", err)
	}
	if n := <-got; n != 0 {
		t.Fatalf("the peer read %d bytes after the handshake", n)
	}
}

// TestTLSPeerCloseNotifyMidStream: the peer writes, then sends close_notify and waits for ours: the
// protocol gets every byte, then EOFReceived (its keep-open answer ignored), then ConnectionLost(nil),
// and the peer reads the transport's close_notify as EOF.
//
// Fault: a TLS peer sends close_notify mid-stream → every byte delivered, then EOFReceived, then ConnectionLost(nil)
func TestTLSPeerCloseNotifyMidStream(t *testing.T) {
	certs := testcert.Get()
	for _, v := range versions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "notify.sock")
			peerErr := make(chan error, 1)
			stdPeer(t, path, certs.ServerConfig(v), func(c *tls.Conn, raw *countConn) {
				c.Write([]byte(strings.Repeat("x", 100000)))
				c.CloseWrite() // close_notify in the middle of the stream
				_, err := io.Copy(io.Discard, c)
				peerErr <- err
			})
			c := newRec()
			if _, err := tlsDial(t, l, path, v, c); err != nil {
				t.Fatal(err)
			}
			if err := c.waitLost(t); err != nil {
				t.Fatalf("ConnectionLost(%v)", err)
			}
			if n := len(c.data); n != 100000 {
				t.Fatalf("%d bytes", n)
			}
			if ev := strings.Join(c.eventList(), ","); ev != "made,eof,lost" {
				t.Fatalf("events %s", ev)
			}
			if err := <-peerErr; err != nil {
				t.Fatalf("the peer's read after its close_notify: %v", err)
			}
		})
	}
}
