package unixstream_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// A listener whose backlog is full answers a non-blocking connect with EAGAIN, having started
// nothing. Off the loop, CreateUnixConnection tries again until the server accepts; on the loop it
// reports EAGAIN at once instead of blocking.
//
// Fault: a listener whose backlog is full → the connect waits off the loop; on the loop it reports EAGAIN at once, never blocking
func TestConnectToAFullBacklog(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "backlog.sock")
	s := fullBacklog(t, l, path)
	var onLoopErr error
	var wg sync.WaitGroup
	var tr *unixstream.Transport
	var offLoopErr error
	c := &conn{onData: func(c *conn, _ []byte) { l.Stop() }}
	l.CallSoon(func() {
		_, _, onLoopErr = unixstream.CreateUnixConnection(context.Background(), l, never, path, unixstream.ConnOptions{})
		wg.Go(func() {
			tr, _, offLoopErr = unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, path, unixstream.ConnOptions{})
			if offLoopErr == nil {
				l.CallSoonThreadsafe(func() { tr.Write([]byte("through")) })
			}
		})
		l.CallLater(30*time.Millisecond, func() { s.StartServing() })
	})
	run(t, l)
	wg.Wait()
	if !errors.Is(onLoopErr, syscall.EAGAIN) {
		t.Fatalf("on the loop: %v; want EAGAIN", onLoopErr)
	}
	if offLoopErr != nil || string(c.data) != "through" {
		t.Fatalf("off the loop: %v, echoed %q", offLoopErr, c.data)
	}
	drain(l, tr.Abort)
}

// fullBacklog makes a server at path that listens with a backlog of 1 but does not accept
// (serving deferred), and fills its backlog with raw connections closed when the test ends.
func fullBacklog(t *testing.T, l *loop.Loop, path string) *unixstream.Server {
	t.Helper()
	given := listenerless(t, path)
	if err := unix.Listen(int(given.Fd()), 1); err != nil {
		t.Fatal(err)
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, "", unixstream.ServerOptions{Backlog: 1, DeferServing: true, Sock: given})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drain(l, func() { s.Close(); s.AbortClients() }) })
	for full := false; !full; {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		full = errors.Is(err, syscall.EAGAIN)
		if err != nil && !full {
			t.Fatal(err)
		}
	}
	return s
}

// The wait for a full backlog ends with the caller's context: the error wraps
// context.DeadlineExceeded (not a bare EAGAIN or ETIMEDOUT), and the socket is closed.
func TestConnectTimesOutWithTheContext(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "timeout.sock")
	fullBacklog(t, l, path)
	before := testfd.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, _, err := unixstream.CreateUnixConnection(ctx, l, never, path, unixstream.ConnOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CreateUnixConnection to a full backlog = %v; want DeadlineExceeded", err)
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}
