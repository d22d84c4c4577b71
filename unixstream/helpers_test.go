//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

const guard = 60 * time.Second

func newLoop(t testing.TB) *loop.Loop { t.Helper(); return testloop.New(t, loop.Options{}) }

func run(t testing.TB, l *loop.Loop) { t.Helper(); testloop.Run(t, l, guard) }

func sockPath(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }

// adoptable is a socket a transport can take over (ConnOptions.Sock) that the test then closes.
type adoptable interface {
	syscall.Conn
	io.Closer
}

// conn is a Protocol that records what happens, copying borrowed data, and calls hooks.
type conn struct {
	t        *unixstream.Transport
	data     []byte
	eofs     int
	keepOpen bool
	lost     []error
	events   []string
	onMade   func(c *conn)
	onData   func(c *conn, b []byte)
	onEOF    func(c *conn)
	onLost   func(c *conn, err error)
	onPause  func(c *conn)
	onResume func(c *conn)
}

func (c *conn) ConnectionMade(t *unixstream.Transport) {
	c.t = t
	c.events = append(c.events, "made")
	if c.onMade != nil {
		c.onMade(c)
	}
}
func (c *conn) DataReceived(b []byte) {
	c.data = append(c.data, b...)
	if c.onData != nil {
		c.onData(c, b)
	}
}
func (c *conn) EOFReceived() bool {
	c.eofs++
	c.events = append(c.events, "eof")
	if c.onEOF != nil {
		c.onEOF(c)
	}
	return c.keepOpen
}
func (c *conn) ConnectionLost(err error) {
	c.lost = append(c.lost, err)
	c.events = append(c.events, "lost")
	if c.onLost != nil {
		c.onLost(c, err)
	}
}

// flowConn adds FlowControl.
type flowConn struct{ *conn }

func (f flowConn) PauseWriting() {
	f.events = append(f.events, "pause")
	if f.onPause != nil {
		f.onPause(f.conn)
	}
}
func (f flowConn) ResumeWriting() {
	f.events = append(f.events, "resume")
	if f.onResume != nil {
		f.onResume(f.conn)
	}
}

// server starts a server whose connections are made by mk, closed when the test ends.
func server(t testing.TB, l *loop.Loop, path string, mk func() unixstream.BaseProtocol) *unixstream.Server {
	t.Helper()
	s, err := unixstream.CreateUnixServer(context.Background(), l, mk, path, unixstream.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drain(l, func() { s.Close(); s.AbortClients() }) })
	return s
}

// client connects with c, aborted when the test ends.
func client(t testing.TB, l *loop.Loop, path string, c unixstream.BaseProtocol) *unixstream.Transport {
	t.Helper()
	tr, p, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, path, unixstream.ConnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p != c {
		t.Fatalf("protocol %v", p)
	}
	t.Cleanup(func() { drain(l, tr.Abort) })
	return tr
}

// drain runs fn and one loop iteration, so that the ConnectionLost callbacks it schedules run.
func drain(l *loop.Loop, fn func()) {
	if l.IsClosed() {
		return
	}
	fn()
	l.Stop()
	l.Run(context.Background())
}

// echoer writes back what it reads.
func echoer() unixstream.BaseProtocol {
	return &conn{onData: func(c *conn, b []byte) { c.t.Write(b); c.data = c.data[:0] }}
}

// Lean protocols for the allocation test: none of their methods allocates.
type leanEcho struct{ t *unixstream.Transport }

func (p *leanEcho) ConnectionMade(t *unixstream.Transport) { p.t = t }
func (p *leanEcho) DataReceived(b []byte)                  { p.t.Write(b) }
func (p *leanEcho) EOFReceived() bool                      { return false }
func (p *leanEcho) ConnectionLost(error)                   {}

type leanPing struct {
	leanEcho
	got     int
	replies chan struct{}
}

func (p *leanPing) DataReceived(b []byte) {
	if p.got += len(b); p.got >= 64 {
		p.got -= 64
		p.replies <- struct{}{}
	}
}

type leanBufPing struct {
	leanPing
	buf []byte
}

func (p *leanBufPing) GetBuffer(int) []byte { return p.buf }
func (p *leanBufPing) BufferUpdated(n int)  { p.leanPing.DataReceived(p.buf[:n]) }
