//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// TestTLSOptionErrors: bad TLS options are refused before any socket is made, naming the field.
func TestTLSOptionErrors(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	path := sockPath(t, "never.sock")
	before := testfd.Open(t)
	reneg := certs.ClientConfig(0)
	reneg.Renegotiation = tls.RenegotiateOnceAsClient
	conn := []struct {
		opts unixstream.ConnOptions
		want string
	}{
		{unixstream.ConnOptions{TLS: certs.ClientConfig(0)}, "ConnOptions.ServerHostname is required"},
		{unixstream.ConnOptions{ServerHostname: "x"}, "ConnOptions.ServerHostname is only meaningful with ConnOptions.TLS"},
		{unixstream.ConnOptions{HandshakeTimeout: time.Second}, "ConnOptions.HandshakeTimeout is only meaningful"},
		{unixstream.ConnOptions{ShutdownTimeout: time.Second}, "ConnOptions.ShutdownTimeout is only meaningful"},
		{unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: "x", HandshakeTimeout: -1}, "ConnOptions.HandshakeTimeout is -1ns"},
		{unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: "x", ShutdownTimeout: -1}, "ConnOptions.ShutdownTimeout is -1ns"},
		{unixstream.ConnOptions{TLS: reneg, ServerHostname: "x"}, "ConnOptions.TLS.Renegotiation"},
	}
	for _, c := range conn {
		_, _, err := unixstream.CreateUnixConnection(context.Background(), l, newRec, path, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.opts, err, c.want)
		}
	}
	srv := []struct {
		opts unixstream.ServerOptions
		want string
	}{
		{unixstream.ServerOptions{TLS: &tls.Config{}}, "ServerOptions.TLS has no certificate"},
		{unixstream.ServerOptions{MaxHandshakes: 3}, "ServerOptions.MaxHandshakes is only meaningful"},
		{unixstream.ServerOptions{TLS: certs.ServerConfig(0), MaxHandshakes: -1}, "ServerOptions.MaxHandshakes is -1"},
		{unixstream.ServerOptions{HandshakeTimeout: time.Second}, "ServerOptions.HandshakeTimeout is only meaningful"},
	}
	for _, c := range srv {
		_, err := unixstream.CreateUnixServer(context.Background(), l, newRec, path, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.opts, err, c.want)
		}
	}
	// On the loop goroutine a TLS create call would block the loop: refused.
	var err error
	l.CallSoon(func() {
		_, _, err = unixstream.CreateUnixConnection(context.Background(), l, newRec, path,
			unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: "x"})
		l.Stop()
	})
	run(t, l)
	if err == nil || !strings.Contains(err.Error(), "StartTLS") {
		t.Errorf("on the loop: %v", err)
	}
	if n := testfd.Open(t); n != before {
		t.Fatalf("%d descriptors open; %d before", n, before)
	}
}

// TestTLSCreateContext: the create call's context bounds the handshake: once it ends the call
// fails with its cause, the factory is never called, and nothing is left open.
func TestTLSCreateContext(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "silent.sock")
	conns := silentListener(t, path)
	before := testfd.Open(t)
	cause := errors.New("the caller gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(cause) })
	made := false
	_, _, err := unixstream.CreateUnixConnection(ctx, l, func() *rec { made = true; return newRec() }, path,
		unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName})
	if !errors.Is(err, cause) || made {
		t.Fatalf("err %v, made %v", err, made)
	}
	(<-conns).Close() // the listener's end
	waitFDs(t, before)
}

// waitFDs waits (boundedly) for the descriptors to come back to before: a handshake goroutine
// closes its duplicate as it ends.
func waitFDs(t *testing.T, before int) {
	t.Helper()
	for i := 0; ; i++ {
		n := testfd.Open(t)
		if n <= before {
			return
		}
		if i == 400 {
			t.Fatalf("%d descriptors open; %d before", n, before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTLSLoopCloseInHandshake: Loop.Close with handshakes in flight on both sides (the client's
// create call waiting, the server's handshake started) ends them: the create call returns an
// error matching net.ErrClosed, no protocol is made, nothing is reported, no descriptor is left.
func TestTLSLoopCloseInHandshake(t *testing.T) {
	certs := testcert.Get()
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := reports(l)
	before := testfd.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := sockPath(t, "tls.sock")
	sc := certs.ServerConfig(0)
	inHandshake := make(chan struct{})
	sc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		close(inHandshake)
		<-ctx.Done() // holds the server's handshake until the test ends
		return nil, errors.New("too late")
	}
	made := false
	if _, err := unixstream.CreateUnixServer(context.Background(), l, func() *rec { made = true; return newRec() }, path,
		unixstream.ServerOptions{TLS: sc}); err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { made = true; return newRec() }, path,
			unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName})
		res <- err
	}()
	<-inHandshake
	l.Stop()
	<-errc
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("create call: %v", err)
	}
	cancel()
	waitFDs(t, before)
	if made {
		t.Fatal("a protocol was made")
	}
	select {
	case e := <-rep:
		t.Fatalf("reported: %s: %v", e.Message, e.Err)
	default:
	}
}

// TestTLSCreateWithoutRunningLoop: a TLS create call needs the loop to run (the handshake's
// result reaches it there); on a loop nobody runs it waits until its context ends, then fails with
// the context's cause, and Loop.Close leaves nothing open.
func TestTLSCreateWithoutRunningLoop(t *testing.T) {
	certs := testcert.Get()
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := sockPath(t, "std.sock")
	stdPeer(t, path, certs.ServerConfig(0), func(c *tls.Conn, raw *countConn) { c.Read(make([]byte, 1)) })
	before := testfd.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	made := false
	_, _, err = unixstream.CreateUnixConnection(ctx, l, func() *rec { made = true; return newRec() }, path,
		unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName})
	if !errors.Is(err, context.DeadlineExceeded) || made {
		t.Fatalf("err %v, made %v", err, made)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	waitFDs(t, before-1) // the peer's end closes when its handshake's read fails
}

// TestTLSCreateRacesLoopClose: a TLS create call from another goroutine while its loop stops and
// closes, at moments spread over before the call reaches the loop, during the handshake and after
// it: the call either succeeds (ConnectionMade ran once, and Loop.Close ran ConnectionLost once
// with an error matching net.ErrClosed) or fails with an error matching net.ErrClosed having made
// nothing; no descriptor is left.
func TestTLSCreateRacesLoopClose(t *testing.T) {
	certs := testcert.Get()
	sl, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sl.SetExceptionHandler(func(loop.Exception) {}) // handshakes the clients' loops cut short fail here
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	serrc, err := sl.Start(sctx)
	if err != nil {
		t.Fatal(err)
	}
	path := sockPath(t, "tls.sock")
	tlsServer(t, sl, path, unixstream.ServerOptions{TLS: certs.ServerConfig(0)}, func() *rec { return newRec() })
	before := testfd.Open(t)
	outcomes := map[string]int{}
	for round := range 60 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- l.Run(context.Background()) }()
		made := 0
		var lost []error
		var cerr error
		var wg sync.WaitGroup
		wg.Go(func() {
			c := &conn{onMade: func(*conn) { made++ }, onLost: func(_ *conn, err error) { lost = append(lost, err) }}
			_, _, cerr = unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, path,
				unixstream.ConnOptions{TLS: certs.ClientConfig(0), ServerHostname: testcert.ServerName})
		})
		time.Sleep(time.Duration(round%8) * 400 * time.Microsecond)
		l.Stop()
		<-ran
		l.Close()
		wg.Wait()
		switch {
		case cerr == nil && made == 1 && len(lost) == 1 && errors.Is(lost[0], net.ErrClosed):
			outcomes["made, then closed"]++
		case errors.Is(cerr, net.ErrClosed) && made == 0 && len(lost) == 0:
			outcomes["refused or ended in the handshake"]++
		default:
			t.Fatalf("round %d: CreateUnixConnection = %v, ConnectionMade %d times, ConnectionLost %v", round, cerr, made, lost)
		}
	}
	t.Logf("outcomes: %v", outcomes)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := sl.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	scancel()
	<-serrc
	waitFDs(t, before-1) // the server's listener is closed too
}
