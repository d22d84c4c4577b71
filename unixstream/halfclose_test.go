//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/unixstream"
)

// The client half-closes; the server, kept open by EOFReceived, answers and closes.
//
// Fault: the peer half-closes → EOFReceived; the transport can still write, and closes after
func TestHalfCloseClientSide(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "half.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{keepOpen: true, onEOF: func(c *conn) {
			c.t.Write([]byte("got " + string(c.data)))
			c.t.Close()
		}}
		return srv
	})
	c := &conn{onLost: func(*conn, error) { l.Stop() }}
	tr := client(t, l, path, c)
	tr.Write([]byte("question"))
	tr.WriteEOF()
	if err := tr.Write([]byte("more")); !errors.Is(err, unixstream.ErrEOFWritten) {
		t.Fatalf("Write after WriteEOF = %v", err)
	}
	run(t, l)
	if string(c.data) != "got question" || strings.Join(c.events, ",") != "made,eof,lost" || c.lost[0] != nil {
		t.Fatalf("client got %q, events %v, lost %v", c.data, c.events, c.lost)
	}
	if strings.Join(srv.events, ",") != "made,eof,lost" {
		t.Fatalf("server events %v", srv.events)
	}
}

// The server half-closes first; the client keeps reading its own side open, writes, then closes.
func TestHalfCloseServerSide(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "half2.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{keepOpen: true, onMade: func(c *conn) {
			c.t.Write([]byte("banner"))
			c.t.WriteEOF()
		}, onEOF: func(c *conn) { c.t.Close() }, onLost: func(*conn, error) { l.Stop() }}
		return srv
	})
	c := &conn{keepOpen: true, onEOF: func(c *conn) {
		// Half-open: the client's side still writes after the server's EOF.
		c.t.Write([]byte("bye"))
		c.t.WriteEOF()
	}}
	tr := client(t, l, path, c)
	run(t, l)
	if string(c.data) != "banner" || string(srv.data) != "bye" {
		t.Fatalf("client got %q, server got %q", c.data, srv.data)
	}
	if strings.Join(srv.events, ",") != "made,eof,lost" || srv.lost[0] != nil || len(c.lost) != 0 || tr.IsClosing() {
		t.Fatalf("server events %v lost %v; client lost %v", srv.events, srv.lost, c.lost)
	}
}

// EOFReceived returning false closes the transport (asyncio's default).
func TestEOFClosesByDefault(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "eof.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{onLost: func(*conn, error) { l.Stop() }}
		return srv
	})
	tr := client(t, l, path, &conn{keepOpen: true})
	tr.WriteEOF()
	run(t, l)
	if strings.Join(srv.events, ",") != "made,eof,lost" || srv.lost[0] != nil {
		t.Fatalf("server events %v lost %v", srv.events, srv.lost)
	}
}

// A peer that resets the connection mid-write ends in ConnectionLost(err), not a panic.
//
// Fault: the peer resets the connection mid-write → ConnectionLost(err), once; no panic
func TestPeerVanishesMidWrite(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "reset.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{onMade: func(c *conn) {
			c.t.Write(make([]byte, 4<<20)) // far more than the socket holds: most of it is buffered
		}, onLost: func(*conn, error) { l.Stop() }}
		return srv
	})
	c := &conn{onMade: func(c *conn) { c.t.PauseReading() }}
	tr := client(t, l, path, c)
	l.CallLater(0, func() {
		raw, _ := tr.SyscallConn()
		raw.Control(func(fd uintptr) {
			// SO_LINGER 0: close sends a reset.
			syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1})
		})
		tr.Abort()
	})
	run(t, l)
	if len(srv.lost) != 1 || srv.lost[0] == nil {
		t.Fatalf("server lost %v; want an error", srv.lost)
	}
	if !errors.Is(srv.lost[0], syscall.EPIPE) && !errors.Is(srv.lost[0], syscall.ECONNRESET) {
		t.Fatalf("server lost %v; want EPIPE or ECONNRESET", srv.lost[0])
	}
}
