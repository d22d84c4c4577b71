//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// madeThenPanics keeps its transport in ConnectionMade, then panics.
type madeThenPanics struct{ conn }

func (c *madeThenPanics) ConnectionMade(t *unixstream.Transport) {
	c.t = t
	panic("ConnectionMade bug")
}

// checkDead checks that a transport whose start failed never touches the descriptor number it had:
// a pipe opened now likely has it.
func checkDead(t *testing.T, tr *unixstream.Transport) {
	t.Helper()
	testfd.PipeAfter(t, func() {
		if !tr.IsClosing() {
			t.Error("IsClosing false on a transport whose start failed")
		}
		if err := tr.Write([]byte("into someone else's descriptor")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write = %v; want net.ErrClosed", err)
		}
		if err := tr.WriteEOF(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteEOF = %v; want net.ErrClosed", err)
		}
		tr.Close()
		tr.Abort()
	})
}

// A panic in ConnectionMade fails the creation and leaves the transport the protocol holds dead.
func TestFailedStartLeavesADeadTransport(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "dead.sock")
	server(t, l, path, echoer)
	p := &madeThenPanics{}
	_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return p }, path, unixstream.ConnOptions{})
	var pe *loop.PanicError
	if !errors.As(err, &pe) || p.t == nil {
		t.Fatalf("create = %v", err)
	}
	checkDead(t, p.t)
	drain(l, func() {})
	if len(p.lost) != 0 {
		t.Fatalf("ConnectionLost %v for a connection never made", p.lost)
	}
}

// The same for an accepted connection: the server reports it and keeps serving.
func TestFailedAcceptedStartLeavesADeadTransport(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e); l.Stop() })
	path := sockPath(t, "dead.sock")
	p := &madeThenPanics{}
	s := server(t, l, path, func() unixstream.BaseProtocol { return p })
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	run(t, l)
	if p.t == nil || len(reports) != 1 {
		t.Fatalf("reports %v", reports)
	}
	checkDead(t, p.t)
	// The peer sees the connection closed.
	nc.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("the peer of a failed connection reads data")
	}
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	go func() { time.Sleep(10 * time.Millisecond); l.CallSoonThreadsafe(l.Stop) }()
	run(t, l)
	if err := s.WaitClosed(ctx); err != nil {
		t.Fatalf("WaitClosed: %v (a failed connection still counted)", err)
	}
}

// listenerless is a bound Unix stream socket that does not listen, as a user may hand it over.
func listenerless(t *testing.T, path string) *os.File {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), path)
	t.Cleanup(func() { f.Close() })
	return f
}

// A server made on a bound socket that does not listen yet listens, as asyncio's start_serving
// calls listen(): clients connect, and the loop does not spin on accept errors.
func TestServerOnABoundSocketListens(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	path := sockPath(t, "bound.sock")
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, "", unixstream.ServerOptions{Sock: listenerless(t, path)})
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, func() { s.Close(); s.AbortClients() })
	c := &conn{onData: func(c *conn, _ []byte) {
		if string(c.data) == "hello" {
			l.Stop()
		}
	}}
	tr := client(t, l, path, c)
	tr.Write([]byte("hello"))
	run(t, l)
	if len(reports) != 0 {
		t.Fatalf("%d exception reports, first %v", len(reports), reports[0])
	}
}

// DeferServing is start_serving=False: the socket does not listen until StartServing, so clients
// are refused until then, as in asyncio.
func TestDeferServingRefusesUntilStartServing(t *testing.T) {
	for _, given := range []bool{false, true} {
		l := newLoop(t)
		path := sockPath(t, "later.sock")
		opts := unixstream.ServerOptions{DeferServing: true}
		arg := path
		if given {
			opts.Sock, arg = listenerless(t, path), ""
		}
		accepted := 0
		s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol {
			accepted++
			return &conn{onMade: func(*conn) { l.Stop() }}
		}, arg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if s.IsServing() {
			t.Fatal("serving with DeferServing")
		}
		if _, err := net.Dial("unix", path); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("given %v: connect before StartServing = %v; want ECONNREFUSED", given, err)
		}
		if err := s.StartServing(); err != nil {
			t.Fatal(err)
		}
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("connect after StartServing: %v", err)
		}
		run(t, l)
		nc.Close()
		if accepted != 1 || !s.IsServing() {
			t.Fatalf("accepted %d, serving %v", accepted, s.IsServing())
		}
		drain(l, func() { s.Close(); s.AbortClients() })
	}
}

// CloseClients and AbortClients after the loop is closed still close the accepted connections'
// descriptors (Close already had this fallback), and WaitClosed returns.
func TestClientsClosedAfterLoopClose(t *testing.T) {
	for _, abort := range []bool{false, true} {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		path := sockPath(t, "late.sock")
		s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol {
			return &conn{onMade: func(*conn) { l.Stop() }}
		}, path, unixstream.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		run(t, l)
		l.Close()
		s.Close()
		if abort {
			s.AbortClients()
		} else {
			s.CloseClients()
		}
		nc.SetReadDeadline(time.Now().Add(time.Second))
		_, err = nc.Read(make([]byte, 1))
		nc.Close()
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("abort %v: the peer's read = %v; want EOF or a reset (the accepted descriptor is still open)", abort, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.WaitClosed(ctx)
		cancel()
		if err != nil {
			t.Fatalf("abort %v: WaitClosed = %v", abort, err)
		}
	}
}

// A connection is the server's from before its ConnectionMade: a Server.Close from there does not
// let WaitClosed return while it is open, and AbortClients from there reaches it.
func TestConnectionIsTheServersDuringConnectionMade(t *testing.T) {
	for _, abort := range []bool{false, true} {
		l := newLoop(t)
		path := sockPath(t, "made.sock")
		var s *unixstream.Server
		c := &conn{}
		c.onMade = func(*conn) {
			s.Close()
			if abort {
				s.AbortClients()
			}
		}
		c.onLost = func(*conn, error) { l.Stop() }
		var err error
		s, err = unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol { return c }, path, unixstream.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if abort {
			run(t, l)
			if len(c.lost) != 1 {
				t.Fatalf("AbortClients from ConnectionMade: ConnectionLost %v", c.lost)
			}
		} else {
			l.CallLater(50*time.Millisecond, l.Stop)
			run(t, l)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			err := s.WaitClosed(ctx)
			cancel()
			if err == nil {
				t.Fatal("WaitClosed returned while an accepted connection is open")
			}
			drain(l, s.AbortClients)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.WaitClosed(ctx)
		cancel()
		if err != nil {
			t.Fatalf("abort %v: WaitClosed after the connection ended: %v", abort, err)
		}
	}
}

// The socket handed over as Sock shares its open file with the server's duplicate: it becomes
// non-blocking too (the documented consequence; asyncio does the same).
func TestGivenSocketBecomesNonBlocking(t *testing.T) {
	l := newLoop(t)
	f := listenerless(t, sockPath(t, "given.sock"))
	raw, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	flags := func() (fl int) {
		raw.Control(func(fd uintptr) { fl, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		return fl
	}
	if flags()&unix.O_NONBLOCK != 0 {
		t.Fatal("the socket is non-blocking before it is handed over")
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, "", unixstream.ServerOptions{Sock: f})
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, s.Close)
	if flags()&unix.O_NONBLOCK == 0 {
		t.Fatal("the caller's socket stayed blocking")
	}
}

// A server made with DeferServing does not listen yet, but its socket file is in use: a second
// server at the path must not take it for stale and remove it.
func TestDeferredServersFileIsNotStale(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "deferred.sock")
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, path, unixstream.ServerOptions{DeferServing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, func() { s.Close(); s.AbortClients() })
	before, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unixstream.CreateUnixServer(context.Background(), l, never, path, unixstream.ServerOptions{}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("a second server at the path = %v; want EADDRINUSE", err)
	}
	if after, err := os.Lstat(path); err != nil || !os.SameFile(before, after) {
		t.Fatalf("the deferred server's socket file was replaced: %v", err)
	}
	if err := s.StartServing(); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("connect after StartServing: %v", err)
	}
	nc.Close()
}

// A creation that fails after bind leaves no socket file behind (here the loop is closed, so
// serving cannot start).
func TestFailedServerCreationRemovesItsFile(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	path := sockPath(t, "failed.sock")
	if _, err := unixstream.CreateUnixServer(context.Background(), l, never, path, unixstream.ServerOptions{}); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("create on a closed loop = %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket file after a failed creation: %v", err)
	}
}

// A panic in DataReceived is reported with the transport and protocol named and ends the
// connection with ConnectionLost(*loop.PanicError), as asyncio's _fatal_error does for a stream.
//
// Fault: a panic in DataReceived → the exception handler hears it; ConnectionLost(*loop.PanicError) ends that connection only
func TestPanicInDataReceivedAbortsTheConnection(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	path := sockPath(t, "panic.sock")
	server(t, l, path, echoer)
	c := &conn{onData: func(*conn, []byte) { panic("protocol bug") }, onLost: func(*conn, error) { l.Stop() }}
	tr := client(t, l, path, c)
	tr.Write([]byte("echo me"))
	run(t, l)
	var pe *loop.PanicError
	if len(c.lost) != 1 || !errors.As(c.lost[0], &pe) || pe.Value != "protocol bug" || !tr.IsClosing() {
		t.Fatalf("ConnectionLost %v", c.lost)
	}
	if len(reports) != 1 || reports[0].Transport != tr || reports[0].Protocol != unixstream.BaseProtocol(c) || len(reports[0].Stack) == 0 {
		t.Fatalf("reports %+v", reports)
	}
	if s := l.Stats(); s.Panics != 1 {
		t.Fatalf("Stats.Panics = %d; want the protocol's panic counted", s.Panics)
	}
}
