//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/unixstream"
)

// bufConn is a BufferedProtocol: the kernel reads into its own fixed buffer.
type bufConn struct {
	t    *unixstream.Transport
	buf  []byte
	got  []byte
	lost []error
	want int
	done func()
}

func (b *bufConn) ConnectionMade(t *unixstream.Transport) { b.t = t }
func (b *bufConn) GetBuffer(sizeHint int) []byte {
	if sizeHint != -1 {
		panic("asyncio passes -1")
	}
	return b.buf
}
func (b *bufConn) BufferUpdated(n int) {
	b.got = append(b.got, b.buf[:n]...)
	if len(b.got) == b.want && b.done != nil {
		b.done()
	}
}
func (b *bufConn) EOFReceived() bool        { return false }
func (b *bufConn) ConnectionLost(err error) { b.lost = append(b.lost, err) }

func TestBufferedProtocol(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "buffered.sock")
	server(t, l, path, echoer)
	want := pattern(1 << 20)
	b := &bufConn{buf: make([]byte, 1000), want: len(want)} // small: many reads, each into b.buf
	done := false
	b.done = func() { done = true; b.t.Close(); l.CallSoon(l.Stop) }
	tr, p, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return b }, path, unixstream.ConnOptions{})
	if err != nil || p != b {
		t.Fatal(err)
	}
	tr.Write(want)
	run(t, l)
	if !done || !bytes.Equal(b.got, want) || len(b.lost) != 1 || b.lost[0] != nil {
		t.Fatalf("got %d of %d bytes, lost %v", len(b.got), len(want), b.lost)
	}
}

type neither struct{}

func (neither) ConnectionMade(*unixstream.Transport) {}
func (neither) EOFReceived() bool                    { return false }
func (neither) ConnectionLost(error)                 {}

func TestProtocolMustReadSomehow(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "neither.sock")
	server(t, l, path, echoer)
	_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return neither{} }, path, unixstream.ConnOptions{})
	if err == nil {
		t.Fatal("a protocol with neither DataReceived nor GetBuffer was accepted")
	}
}

func TestPeerCredentials(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "creds.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{onMade: func(*conn) { l.Stop() }}
		return srv
	})
	tr := client(t, l, path, &conn{})
	run(t, l)
	for name, tp := range map[string]*unixstream.Transport{"server side": srv.t, "client side": tr} {
		cred, err := tp.PeerCredentials()
		if err != nil {
			t.Fatal(err)
		}
		if cred.UID != uint32(os.Getuid()) || cred.GID != uint32(os.Getgid()) || (runtime.GOOS == "linux" && cred.PID != os.Getpid()) {
			t.Fatalf("%s: %+v; want uid %d gid %d pid %d", name, cred, os.Getuid(), os.Getgid(), os.Getpid())
		}
	}
}

// closeThenPanic closes its transport in ConnectionMade and then panics: creation fails, and the
// socket is closed exactly once (a second close could hit a descriptor reused meanwhile).
type closeThenPanic struct {
	conn
	reused int // a descriptor opened after the Close, likely with the closed one's number
}

func (c *closeThenPanic) ConnectionMade(t *unixstream.Transport) {
	t.Close()
	c.reused, _ = syscall.Dup(0)
	panic("after close")
}

func TestFailedStartClosesOnce(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "once.sock")
	server(t, l, path, echoer)
	p := &closeThenPanic{}
	_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return p }, path, unixstream.ConnOptions{})
	if err == nil || !strings.Contains(err.Error(), "after close") {
		t.Fatalf("create = %v", err)
	}
	defer syscall.Close(p.reused)
	if _, err := unix.FcntlInt(uintptr(p.reused), unix.F_GETFD, 0); err != nil {
		t.Fatalf("the descriptor opened after the transport's Close was closed behind its owner's back: %v", err)
	}
	drain(l, func() {}) // run the ConnectionLost the Close scheduled
}
