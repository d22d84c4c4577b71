//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// dribbleConn writes one byte per write(2) and waits (up to 2 ms; a sleep would take a
// millisecond each time) until the reader has taken it, so that the reader sees every record and
// handshake message split across many readiness events.
type dribbleConn struct{ net.Conn }

func (d dribbleConn) Write(b []byte) (int, error) {
	for i := range b {
		if _, err := d.Conn.Write(b[i : i+1]); err != nil {
			return i, err
		}
		for start := time.Now(); time.Since(start) < 5*time.Microsecond || unsent(d.Conn) > 0 && time.Since(start) < 2*time.Millisecond; {
		}
	}
	return len(b), nil
}

var dribbleMsgs = [][]byte{bytes.Repeat([]byte("a"), 700), []byte("b"), bytes.Repeat([]byte("c"), 1500)}

// TestTLSOneBytePerWrite: peers (crypto/tls over net.UnixConn) that write one byte per write, as a
// client to an aioloop server and as a server to an aioloop client, TLS 1.2 and 1.3: the handshake
// messages, the records (headers split too), TLS 1.3's NewSessionTicket after the handshake, and
// close_notify all arrive a byte at a time, and everything is delivered intact.
func TestTLSOneBytePerWrite(t *testing.T) {
	certs := testcert.Get()
	var want []byte
	for _, m := range dribbleMsgs {
		want = append(want, m...)
	}
	for _, v := range versions {
		t.Run(tls.VersionName(v)+"/client dribbles", func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "dribble.sock")
			_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: certs.ServerConfig(v)}, nil) // echoes
			events := l.Stats().Events
			nc, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(guard))
			cc := certs.ClientConfig(v)
			cc.ServerName = testcert.ServerName
			c := tls.Client(dribbleConn{nc}, cc)
			for _, m := range dribbleMsgs {
				if _, err := c.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("echo: %v, equal %v", err, bytes.Equal(got, want))
			}
			c.CloseWrite()
			if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("after close_notify: %d, %v; want the server's close_notify", n, err)
			}
			srv := <-recs
			if err := srv.waitLost(t); err != nil {
				t.Fatalf("server ConnectionLost(%v)", err)
			}
			// The handshake is the handshake goroutine's; the loop's readiness events are the records'.
			least := uint64(len(want)) / 4 // a byte per read(2), nearly: the writer waits for each
			if !canTellUnsent {
				least = 50 // the writer only pauses
			}
			if n := l.Stats().Events - events; n < least {
				t.Fatalf("%d readiness events for %d bytes written a byte at a time: records were not split", n, len(want))
			}
		})
		t.Run(tls.VersionName(v)+"/server dribbles", func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "dribble.sock")
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan error, 1)
			go func() {
				nc, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(guard))
				c := tls.Server(dribbleConn{nc}, certs.ServerConfig(v))
				for _, m := range dribbleMsgs {
					if _, err := c.Write(m); err != nil {
						done <- err
						return
					}
				}
				c.CloseWrite()
				_, err = io.Copy(io.Discard, c)
				done <- err
			}()
			r := newRec()
			tr, err := tlsDial(t, l, path, v, r)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.waitData(t, len(want)); !bytes.Equal(got, want) {
				t.Fatal("data differs")
			}
			if err := r.waitLost(t); err != nil {
				t.Fatalf("ConnectionLost(%v)", err)
			}
			if err := <-done; err != nil {
				t.Fatalf("peer: %v", err)
			}
			_ = tr
		})
	}
}

// TestTLSPauseWithBytesInside: a BufferedProtocol with a 4-byte buffer pauses reading after the
// first 4 bytes of a record, so the rest waits decrypted inside crypto/tls, which epoll cannot
// see: nothing more is delivered while paused, and ResumeReading delivers it all.
func TestTLSPauseWithBytesInside(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "pause.sock")
	srvc := make(chan *bufRec, 1)
	_, err := unixstream.CreateUnixServer(t.Context(), l, func() unixstream.BaseProtocol {
		r := newRec()
		b := &bufRec{rec: r, buf: make([]byte, 4)}
		r.onData = func(r *rec, _ []byte) {
			if len(r.data) == 4 {
				r.t.PauseReading()
			}
		}
		srvc <- b
		return b
	}, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(0)})
	if err != nil {
		t.Fatal(err)
	}
	cl := newRec()
	tr, err := tlsDial(t, l, path, 0, cl)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("0123456789abcdef")
	onLoop(t, l, func() { tr.Write(msg) }) // one record
	srv := <-srvc
	srv.waitData(t, 4)
	time.Sleep(50 * time.Millisecond)
	var reading bool
	onLoop(t, l, func() { reading = srv.t.IsReading() })
	srv.mu.Lock()
	n := len(srv.data)
	srv.mu.Unlock()
	if n != 4 || reading {
		t.Fatalf("paused: %d bytes delivered, reading %v", n, reading)
	}
	onLoop(t, l, srv.t.ResumeReading)
	if got := srv.waitData(t, len(msg)); !bytes.Equal(got, msg) {
		t.Fatalf("after resume %q", got)
	}
	onLoop(t, l, tr.Close)
	cl.waitLost(t)
}
