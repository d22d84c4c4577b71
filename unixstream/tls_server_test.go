//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// TestTLSResumption: a client with a session cache resumes its session on the second connection,
// TLS 1.2 (a ticket in the handshake) and TLS 1.3 (a ticket after it, read on the loop), and
// ConnectionState says so on both sides.
func TestTLSResumption(t *testing.T) {
	certs := testcert.Get()
	for _, v := range versions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "resume.sock")
			_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: certs.ServerConfig(v)}, nil)
			cc := certs.ClientConfig(v)
			cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i, wantResumed := range []bool{false, true} {
				c := newRec()
				tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *rec { return c }, path,
					unixstream.ConnOptions{TLS: cc, ServerHostname: testcert.ServerName})
				if err != nil {
					t.Fatal(err)
				}
				onLoop(t, l, func() { tr.Write([]byte("x")) })
				c.waitData(t, 1) // by now the TLS 1.3 ticket has been read too: it came before the echo
				srv := <-recs
				var cs, ss tls.ConnectionState
				onLoop(t, l, func() { cs, _ = tr.ConnectionState(); ss, _ = srv.t.ConnectionState(); tr.Close() })
				if cs.DidResume != wantResumed || ss.DidResume != wantResumed {
					t.Fatalf("connection %d: resumed client %v server %v", i, cs.DidResume, ss.DidResume)
				}
				c.waitLost(t)
			}
		})
	}
}

// gatedConfig is a server configuration whose handshakes wait at the ClientHello until gate is
// closed, counting how many wait at once.
func gatedConfig(gate chan struct{}, in, most *atomic.Int32) *tls.Config {
	base := testcert.Get().ServerConfig(0)
	cfg := base.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		n := in.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-gate
		in.Add(-1)
		return base, nil
	}
	return cfg
}

// TestTLSMaxHandshakes: with MaxHandshakes 2 and handshakes held at the ClientHello, a third never
// starts while two are in flight (the server stops accepting); once they go on, every client
// connects.
func TestTLSMaxHandshakes(t *testing.T) {
	const clients = 5
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "max.sock")
	gate := make(chan struct{})
	var in, most atomic.Int32
	tlsServer(t, l, path, unixstream.ServerOptions{TLS: gatedConfig(gate, &in, &most), MaxHandshakes: 2}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	cc := testcert.Get().ClientConfig(0)
	cc.ServerName = testcert.ServerName
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.Dial("unix", path)
			if err != nil {
				errs <- err
				return
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(guard))
			c := tls.Client(nc, cc)
			if err := c.Handshake(); err != nil {
				errs <- err
				return
			}
			c.Write([]byte("hi"))
			_, err = c.Read(make([]byte, 2))
			errs <- err
		}()
	}
	for in.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a third, were one let in, would arrive by now
	if m := most.Load(); m != 2 {
		t.Fatalf("%d handshakes in flight at once; MaxHandshakes is 2", m)
	}
	close(gate)
	wg.Wait()
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestTLSCloseClientsInHandshake: Server.Close and CloseClients while handshakes are in flight end
// them: nothing is reported (the server closed them), no protocol is made, WaitClosed returns, and
// the handshake goroutines end once their tls.Config callback returns.
func TestTLSCloseClientsInHandshake(t *testing.T) {
	l := newLoop(t)
	rep := reports(l)
	startLoop(t, l)
	path := sockPath(t, "cc.sock")
	gate := make(chan struct{})
	defer close(gate)
	var in, most atomic.Int32
	made := atomic.Bool{}
	s, err := unixstream.CreateUnixServer(t.Context(), l, func() *rec { made.Store(true); return newRec() }, path,
		unixstream.ServerOptions{TLS: gatedConfig(gate, &in, &most)})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := tlsDial(t, l, path, 0, newRec())
		res <- err
	}()
	for in.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	s.CloseClients()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := s.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err == nil {
		t.Fatal("the client's handshake succeeded")
	}
	if made.Load() {
		t.Fatal("a protocol was made")
	}
	select {
	case e := <-rep:
		t.Fatalf("reported: %s: %v", e.Message, e.Err)
	default:
	}
}

// TestTLSALPNAndShutdown: the ALPN protocol the handshake chose is in ConnectionState on both
// sides; Loop.Shutdown with the TLS connection open on both ends closes each with close_notify
// answered, ConnectionLost(nil) on both, and returns nil.
func TestTLSALPNAndShutdown(t *testing.T) {
	certs := testcert.Get()
	l := newLoop(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := sockPath(t, "alpn.sock")
	sc := certs.ServerConfig(0)
	sc.NextProtos = []string{"h2", "aioloop/1"}
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: sc}, nil)
	cc := certs.ClientConfig(0)
	cc.NextProtos = []string{"aioloop/1"}
	c := newRec()
	tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *rec { return c }, path,
		unixstream.ConnOptions{TLS: cc, ServerHostname: testcert.ServerName})
	if err != nil {
		t.Fatal(err)
	}
	srv := <-recs
	var cs, ss tls.ConnectionState
	onLoop(t, l, func() { cs, _ = tr.ConnectionState(); ss, _ = srv.t.ConnectionState() })
	if cs.NegotiatedProtocol != "aioloop/1" || ss.NegotiatedProtocol != "aioloop/1" {
		t.Fatalf("ALPN: client %q server %q", cs.NegotiatedProtocol, ss.NegotiatedProtocol)
	}
	sctx, scancel := context.WithTimeout(context.Background(), guard)
	defer scancel()
	if err := l.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-errc
	if err := c.lostErr(); err != nil {
		t.Fatalf("client ConnectionLost(%v)", err)
	}
	if err := srv.lostErr(); err != nil {
		t.Fatalf("server ConnectionLost(%v)", err)
	}
	select {
	case <-c.gone:
	default:
		t.Fatal("no client ConnectionLost")
	}
	select {
	case <-srv.gone:
	default:
		t.Fatal("no server ConnectionLost")
	}
}
