package unixstream_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/unixstream"
)

// A listener whose backlog is full answers a non-blocking connect with EAGAIN, having started
// nothing. Off the loop, CreateUnixConnection tries again until the server accepts; on the loop it
// reports EAGAIN at once instead of blocking.
func TestConnectToAFullBacklog(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "backlog.sock")
	// A socket that listens but is not served: handed over listening, with serving deferred.
	given := listenerless(t, path)
	if err := unix.Listen(int(given.Fd()), 1); err != nil {
		t.Fatal(err)
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, "", unixstream.ServerOptions{Backlog: 1, DeferServing: true, Sock: given})
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, func() { s.Close(); s.AbortClients() })
	for full := false; !full; { // fill the backlog with raw connections
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		full = errors.Is(err, syscall.EAGAIN)
		if err != nil && !full {
			t.Fatal(err)
		}
	}
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
