//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// startLoop runs l on its own goroutine until the test ends, then shuts it down.
func startLoop(t testing.TB, l *loop.Loop) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), guard)
		defer scancel()
		if err := l.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		cancel()
		<-errc
	})
}

// onLoop runs fn on the running loop.
func onLoop(t testing.TB, l *loop.Loop, fn func()) {
	t.Helper()
	if err := l.Do(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// rec is a Protocol (or, with buf set, a BufferedProtocol through bufRec) for tests whose loop
// runs on another goroutine: what it sees is kept under a lock and signalled.
type rec struct {
	mu     sync.Mutex
	t      *unixstream.Transport
	data   []byte
	events []string
	lost   error
	echo   bool
	onData func(r *rec, b []byte) // on the loop, under no lock
	onMade func(r *rec)
	gone   chan struct{}
	change chan struct{}
}

func newRec() *rec { return &rec{gone: make(chan struct{}), change: make(chan struct{}, 1)} }

func (r *rec) note(ev string) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.signal()
}

func (r *rec) signal() {
	select {
	case r.change <- struct{}{}:
	default:
	}
}

func (r *rec) ConnectionMade(t *unixstream.Transport) {
	r.t = t
	r.note("made")
	if r.onMade != nil {
		r.onMade(r)
	}
}

func (r *rec) DataReceived(b []byte) {
	r.mu.Lock()
	r.data = append(r.data, b...)
	r.mu.Unlock()
	r.signal()
	if r.echo {
		r.t.Write(b)
	}
	if r.onData != nil {
		r.onData(r, b)
	}
}

func (r *rec) EOFReceived() bool { r.note("eof"); return true }

func (r *rec) ConnectionLost(err error) {
	r.mu.Lock()
	r.lost = err
	r.mu.Unlock()
	r.note("lost")
	close(r.gone)
}

// waitData waits until n bytes arrived, and returns them.
func (r *rec) waitData(t testing.TB, n int) []byte {
	t.Helper()
	deadline := time.After(guard)
	for {
		r.mu.Lock()
		got := len(r.data)
		d := append([]byte(nil), r.data...)
		r.mu.Unlock()
		if got >= n {
			return d
		}
		select {
		case <-r.change:
		case <-r.gone:
			r.mu.Lock()
			got = len(r.data)
			r.mu.Unlock()
			if got < n {
				t.Fatalf("connection lost (%v) after %d of %d bytes; events %v", r.lostErr(), got, n, r.eventList())
			}
		case <-deadline:
			t.Fatalf("%d of %d bytes after %v", got, n, guard)
		}
	}
}

// waitLost waits for ConnectionLost and returns its error.
func (r *rec) waitLost(t testing.TB) error {
	t.Helper()
	select {
	case <-r.gone:
		return r.lostErr()
	case <-time.After(guard):
		t.Fatalf("no ConnectionLost after %v; events %v", guard, r.eventList())
		return nil
	}
}

func (r *rec) lostErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

func (r *rec) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// bufRec is rec as a BufferedProtocol, reading into its own small buffer.
type bufRec struct {
	*rec
	buf []byte
}

func (b *bufRec) GetBuffer(int) []byte { return b.buf }
func (b *bufRec) BufferUpdated(n int)  { b.rec.DataReceived(b.buf[:n]) }

// tlsServer serves path with TLS; each accepted connection's rec goes to the returned channel.
func tlsServer(t testing.TB, l *loop.Loop, path string, opts unixstream.ServerOptions, mk func() *rec) (*unixstream.Server, chan *rec) {
	t.Helper()
	recs := make(chan *rec, 64)
	if mk == nil {
		mk = func() *rec { r := newRec(); r.echo = true; return r }
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, func() *rec { r := mk(); recs <- r; return r }, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, recs
}

// tlsDial connects to path with TLS, trusting the test authority, for version (0: any).
func tlsDial(t testing.TB, l *loop.Loop, path string, version uint16, r *rec) (*unixstream.Transport, error) {
	t.Helper()
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { return r }, path,
		unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(version), ServerHostname: testcert.ServerName})
	return tr, err
}

// versions are the TLS versions every handshake test runs with.
var versions = []uint16{tls.VersionTLS12, tls.VersionTLS13}
