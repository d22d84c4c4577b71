//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// prefixConn sends prefix in the same write(2) as the first bytes written through it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Write(b []byte) (int, error) {
	if p.prefix != nil {
		all := append(p.prefix, b...)
		p.prefix = nil
		if _, err := p.Conn.Write(all); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return p.Conn.Write(b)
}

// starttlsServer is a plaintext protocol that upgrades on the line "STARTTLS\n": it writes
// "early" during its handshake, and hands the bytes after the line to StartTLS.
func starttlsServer(r *rec, done chan error) {
	r.onData = func(r *rec, b []byte) {
		r.mu.Lock()
		i := bytes.Index(r.data, []byte("STARTTLS\n"))
		var rest []byte
		if i >= 0 {
			rest = append(rest, r.data[i+9:]...)
			r.data = r.data[:0]
		}
		r.mu.Unlock()
		if i < 0 {
			return
		}
		tr := r.t
		err := tr.StartTLS(testcert.Get().ServerConfig(0), unixstream.StartTLSOptions{Server: true, Buffered: rest}, func(err error) { done <- err })
		if err != nil {
			done <- err
			return
		}
		tr.Write([]byte("early")) // waits as plaintext, sealed after the handshake
		r.echo = true
	}
}

// TestStartTLSPipelined: a client (crypto/tls over net.UnixConn) sends a plaintext exchange, then
// "STARTTLS\n" and its ClientHello in one write: the server gets both in one read and passes the
// ClientHello's bytes to StartTLS, which loses none; the protocol keeps its transport, and what it
// wrote during the handshake arrives first, encrypted.
func TestStartTLSPipelined(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "starttls.sock")
	done := make(chan error, 1)
	var srvTr *unixstream.Transport
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{}, func() *rec {
		r := newRec()
		starttlsServer(r, done)
		return r
	})
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(guard))
	srv := <-recs
	onLoop(t, l, func() { srvTr = srv.t })
	cc := testcert.Get().ClientConfig(0)
	cc.ServerName = testcert.ServerName
	c := tls.Client(&prefixConn{Conn: nc, prefix: []byte("STARTTLS\n")}, cc)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("StartTLS done(%v)", err)
	}
	c.Write([]byte("ping"))
	got := make([]byte, 9)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "earlyping" {
		t.Fatalf("read %q, %v", got, err)
	}
	var st tls.ConnectionState
	var ok bool
	var same bool
	onLoop(t, l, func() { st, ok = srv.t.ConnectionState(); same = srv.t == srvTr && srv.t.Protocol() == srv })
	if !ok || !st.HandshakeComplete || !same {
		t.Fatalf("state %v %v, same transport and protocol %v", ok, st.HandshakeComplete, same)
	}
	c.Close()
	if err := srv.waitLost(t); err != nil {
		t.Fatalf("ConnectionLost(%v)", err)
	}
}

// TestStartTLSBothEnds: an aioloop server writes 1 MiB of plaintext and calls StartTLS at once, so
// its handshake waits for that plaintext to go out; the aioloop client reads it all, then calls
// StartTLS itself. Both keep their transports, exchange encrypted data, and close cleanly.
func TestStartTLSBothEnds(t *testing.T) {
	const plain = 1 << 20
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "starttls.sock")
	srvDone := make(chan error, 1)
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{}, func() *rec {
		r := newRec()
		r.onMade = func(r *rec) {
			r.t.Write(bytes.Repeat([]byte("p"), plain))
			if err := r.t.StartTLS(certs.ServerConfig(0), unixstream.StartTLSOptions{Server: true}, func(err error) { srvDone <- err }); err != nil {
				srvDone <- err
			}
			if r.t.WriteBufferSize() == 0 {
				srvDone <- errors.New("the plaintext did not wait")
			}
			r.echo = true
		}
		return r
	})
	cliDone := make(chan error, 1)
	c := newRec()
	var started bool
	c.onData = func(r *rec, _ []byte) {
		r.mu.Lock()
		n := len(r.data)
		r.mu.Unlock()
		if n == plain && !started {
			started = true
			err := r.t.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, func(err error) {
				cliDone <- err
				if err == nil {
					r.t.Write([]byte("secret"))
				}
			})
			if err != nil {
				cliDone <- err
			}
		}
	}
	client := func() *rec { return c }
	tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, client, path, unixstream.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-srvDone; err != nil {
		t.Fatalf("server StartTLS: %v", err)
	}
	if err := <-cliDone; err != nil {
		t.Fatalf("client StartTLS: %v", err)
	}
	if got := c.waitData(t, plain+6); string(got[plain:]) != "secret" || strings.Count(string(got[:plain]), "p") != plain {
		t.Fatalf("client got %q after the plaintext", got[plain:])
	}
	srv := <-recs
	onLoop(t, l, tr.Close)
	if err := c.waitLost(t); err != nil {
		t.Fatalf("client ConnectionLost(%v)", err)
	}
	if err := srv.waitLost(t); err != nil {
		t.Fatalf("server ConnectionLost(%v)", err)
	}
}

// TestStartTLSRefusals: StartTLS refuses, changing nothing, a nil config, bad options, and a
// transport already using TLS; a failed handshake calls done with the error and ConnectionLost
// with the same.
func TestStartTLSRefusals(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "starttls.sock")
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{}, nil)
	c := newRec()
	tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *rec { return c }, path, unixstream.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := <-recs
	done := make(chan error, 1)
	onLoop(t, l, func() {
		if err := tr.StartTLS(nil, unixstream.StartTLSOptions{}, nil); err == nil {
			t.Error("nil config accepted")
		}
		if err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{}, nil); err == nil || !strings.Contains(err.Error(), "StartTLSOptions.ServerHostname is required") {
			t.Errorf("no server name: %v", err)
		}
		if err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{Server: true}, nil); err == nil || !strings.Contains(err.Error(), "StartTLSOptions.TLS has no certificate") {
			t.Errorf("server without certificate: %v", err)
		}
		tr.Write([]byte("plain"))
		// The peer echoes plaintext, which is no ServerHello: the handshake fails.
		if err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, func(err error) { done <- err }); err != nil {
			t.Errorf("StartTLS: %v", err)
		}
		if err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, nil); err == nil {
			t.Error("a second StartTLS accepted")
		}
	})
	err = <-done
	if err == nil {
		t.Fatal("the handshake against plaintext succeeded")
	}
	if lost := c.waitLost(t); lost == nil || lost.Error() != err.Error() {
		t.Fatalf("ConnectionLost(%v); done(%v)", lost, err)
	}
	srv.waitLost(t)
}

// TestStartTLSCloseInHandshake: Write then Close right after StartTLS: the handshake ends first,
// then what was written goes out sealed, then close_notify; ConnectionLost(nil).
func TestStartTLSCloseInHandshake(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "starttls.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(guard))
		tc := tls.Server(nc, certs.ServerConfig(0))
		b, err := io.ReadAll(tc) // to the client's close_notify
		if err != nil {
			got <- err.Error()
			return
		}
		tc.Close()
		got <- string(b)
	}()
	c := newRec()
	tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *rec { return c }, path, unixstream.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	onLoop(t, l, func() {
		if err := tr.StartTLS(certs.ClientConfig(0), unixstream.StartTLSOptions{ServerHostname: testcert.ServerName}, func(err error) { done <- err }); err != nil {
			t.Error(err)
		}
		tr.Write([]byte("written in the handshake"))
		tr.Close()
		if err := tr.Write([]byte("after Close")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
	})
	if err := <-done; err != nil {
		t.Fatalf("done(%v)", err)
	}
	if s := <-got; s != "written in the handshake" {
		t.Fatalf("the peer got %q", s)
	}
	if err := c.waitLost(t); err != nil {
		t.Fatalf("ConnectionLost(%v)", err)
	}
}
