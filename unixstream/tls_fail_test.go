//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// reports collects what the loop's exception handler is given.
func reports(l *loop.Loop) chan loop.Exception {
	ch := make(chan loop.Exception, 64)
	l.SetExceptionHandler(func(e loop.Exception) {
		select {
		case ch <- e:
		default:
		}
	})
	return ch
}

func waitReport(t *testing.T, ch chan loop.Exception, want string) loop.Exception {
	t.Helper()
	select {
	case e := <-ch:
		if !strings.Contains(e.Message, "TLS handshake failed") || !strings.Contains(e.Err.Error(), want) {
			t.Fatalf("report %q: %v; want one naming %q", e.Message, e.Err, want)
		}
		return e
	case <-time.After(guard):
		t.Fatalf("no report of a failed handshake")
	}
	return loop.Exception{}
}

// expectServing checks that a server still serves after a failed handshake: a good client gets an
// echo.
func expectServing(t *testing.T, l *loop.Loop, path string) {
	t.Helper()
	c := newRec()
	tr, err := tlsDial(t, l, path, 0, c)
	if err != nil {
		t.Fatalf("a good client after the failure: %v", err)
	}
	onLoop(t, l, func() { tr.Write([]byte("still")) })
	c.waitData(t, 5)
	onLoop(t, l, tr.Abort)
	c.waitLost(t)
}

// TestTLSBadCertificates: a wrong server name and an untrusted certificate fail the client's
// create call with the check that failed and never call the factory; the server reports each
// failed handshake and goes on serving.
func TestTLSBadCertificates(t *testing.T) {
	certs := testcert.Get()
	for _, v := range versions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			l := newLoop(t)
			rep := reports(l)
			startLoop(t, l)
			path := sockPath(t, "tls.sock")
			tlsServer(t, l, path, unixstream.ServerOptions{TLS: certs.ServerConfig(v)}, nil)

			made := false
			_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { made = true; return newRec() }, path,
				unixstream.ConnOptions{TLS: certs.ClientConfig(v), ServerHostname: "wrong.test"})
			if err == nil || made || !strings.Contains(err.Error(), "wrong.test") || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("wrong name: err %v, factory called %v", err, made)
			}
			waitReport(t, rep, "bad certificate")
			expectServing(t, l, path)

			path2 := sockPath(t, "untrusted.sock")
			bad := certs.ServerConfig(v)
			bad.Certificates = []tls.Certificate{certs.Untrusted}
			tlsServer(t, l, path2, unixstream.ServerOptions{TLS: bad}, nil)
			_, err = tlsDial(t, l, path2, v, newRec())
			var unknown x509.UnknownAuthorityError
			if err == nil || !errors.As(err, &unknown) {
				t.Fatalf("untrusted: err %v (%T)", err, errors.Unwrap(err))
			}
			waitReport(t, rep, "certificate")
		})
	}
}

// TestTLSClientCertificates: a server that requires a client certificate accepts one signed by its
// authority and refuses a client without one. In TLS 1.2 the client's handshake fails; in TLS 1.3
// the client's handshake ends before the server checks, so the client's connection is made and
// then lost with the server's alert, as with any TLS 1.3 stack.
func TestTLSClientCertificates(t *testing.T) {
	certs := testcert.Get()
	for _, v := range versions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			l := newLoop(t)
			rep := reports(l)
			startLoop(t, l)
			path := sockPath(t, "tls.sock")
			sc := certs.ServerConfig(v)
			sc.ClientAuth = tls.RequireAndVerifyClientCert
			_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: sc}, nil)

			cc := certs.ClientConfig(v)
			cc.Certificates = []tls.Certificate{certs.Client}
			c := newRec()
			tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { return c }, path,
				unixstream.ConnOptions{TLS: cc, ServerHostname: testcert.ServerName})
			if err != nil {
				t.Fatal(err)
			}
			srv := <-recs
			var st tls.ConnectionState
			onLoop(t, l, func() { st, _ = srv.t.ConnectionState(); tr.Write([]byte("ok")) })
			if len(st.PeerCertificates) != 1 || st.PeerCertificates[0].Subject.CommonName != "aioloop client" {
				t.Fatalf("server sees client certificates %v", st.PeerCertificates)
			}
			c.waitData(t, 2)
			onLoop(t, l, tr.Close)
			c.waitLost(t)

			c = newRec()
			_, err = tlsDial(t, l, path, v, c)
			if v == tls.VersionTLS12 {
				if err == nil || !strings.Contains(err.Error(), "remote error: tls:") {
					t.Fatalf("TLS 1.2 without a client certificate: %v", err)
				}
			} else {
				if err != nil {
					t.Fatalf("TLS 1.3 client's handshake: %v", err)
				}
				if err := c.waitLost(t); err == nil || !strings.Contains(err.Error(), "certificate required") {
					t.Fatalf("TLS 1.3 ConnectionLost(%v)", err)
				}
			}
			waitReport(t, rep, "certificate")
		})
	}
}

// silentListener accepts connections and never answers; it closes them when the test ends.
func silentListener(t *testing.T, path string) chan net.Conn {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return conns
}

// TestTLSHandshakeTimeout: against a server that sends nothing, the create call fails after
// HandshakeTimeout with an error naming it; a server whose client sends nothing reports the
// timeout and closes the connection.
//
// Fault: a TLS peer that stalls in the handshake → the create call fails after HandshakeTimeout naming it; a server reports it and closes the connection
func TestTLSHandshakeTimeout(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	rep := reports(l)
	startLoop(t, l)
	path := sockPath(t, "silent.sock")
	silentListener(t, path)
	made := false
	start := time.Now()
	_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { made = true; return newRec() }, path,
		unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName, HandshakeTimeout: 100 * time.Millisecond})
	var ne net.Error
	if !errors.Is(err, unixstream.ErrHandshakeTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() ||
		!strings.Contains(err.Error(), "ConnOptions.HandshakeTimeout (100ms)") || made {
		t.Fatalf("err %v, factory called %v", err, made)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("gave up after %v", d)
	}

	path2 := sockPath(t, "tls.sock")
	tlsServer(t, l, path2, unixstream.ServerOptions{TLS: certs.ServerConfig(0), HandshakeTimeout: 100 * time.Millisecond}, nil)
	raw, err := net.Dial("unix", path2)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	e := waitReport(t, rep, "ServerOptions.HandshakeTimeout (100ms)")
	if !errors.Is(e.Err, unixstream.ErrHandshakeTimeout) {
		t.Fatalf("report %v", e.Err)
	}
	raw.SetDeadline(time.Now().Add(guard))
	if n, err := raw.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("the silent client's read: %d, %v; want EOF", n, err)
	}
}

// TestTLSPeerClosesInHandshake: a server that accepts and closes fails the create call.
//
// Fault: a TLS peer that closes in the handshake → the create call fails with the reason
func TestTLSPeerClosesInHandshake(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "closer.sock")
	conns := silentListener(t, path)
	go func() {
		for c := range conns {
			c.Close()
			return
		}
	}()
	_, err := tlsDial(t, l, path, 0, newRec())
	if err == nil || !strings.Contains(err.Error(), "the peer closed the connection during the TLS handshake") {
		t.Fatalf("err %v", err)
	}
}
