//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/unixstream"
)

func never() unixstream.BaseProtocol { panic("no connection expected") }

func TestPathHygiene(t *testing.T) {
	l := newLoop(t)
	dir := t.TempDir()

	// A regular file at the path survives, and the error says why.
	file := dir + "/file"
	os.WriteFile(file, []byte("precious"), 0o600)
	if _, err := unixstream.CreateUnixServer(context.Background(), l, never, file, unixstream.ServerOptions{}); !errors.Is(err, unixstream.ErrPathInUse) ||
		!strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("server on a regular file = %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "precious" {
		t.Fatal("the regular file was touched")
	}

	// A stale socket file (its server gone without unlinking) is replaced.
	stale := dir + "/stale.sock"
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	s, err := unixstream.CreateUnixServer(context.Background(), l, never, stale, unixstream.ServerOptions{})
	if err != nil {
		t.Fatalf("server over a stale socket: %v", err)
	}

	// A live one is not: EADDRINUSE, and the live server keeps its file.
	if _, err := unixstream.CreateUnixServer(context.Background(), l, never, stale, unixstream.ServerOptions{}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("server over a live socket = %v", err)
	}
	s.Close()
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Close left the socket file: %v", err)
	}
	if err := s.WaitClosed(context.Background()); err != nil || s.IsServing() {
		t.Fatalf("WaitClosed = %v, serving %v", err, s.IsServing())
	}

	// A socket file replaced by someone else is not removed on Close.
	mine := dir + "/mine.sock"
	s, err = unixstream.CreateUnixServer(context.Background(), l, never, mine, unixstream.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(mine)
	other, err := net.Listen("unix", mine)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s.Close()
	if _, err := os.Lstat(mine); err != nil {
		t.Fatalf("Close removed a socket file that is not the server's: %v", err)
	}

	// KeepSocketFile leaves it; Mode sets its permissions.
	kept := dir + "/kept.sock"
	s, err = unixstream.CreateUnixServer(context.Background(), l, never, kept, unixstream.ServerOptions{KeepSocketFile: true, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(kept); fi.Mode().Perm() != 0o600 {
		t.Fatalf("Mode 0600 gave %v", fi.Mode().Perm())
	}
	s.Close()
	if _, err := os.Lstat(kept); err != nil {
		t.Fatalf("KeepSocketFile: %v", err)
	}

	// Bad arguments, refused before any socket.
	long := dir + "/" + strings.Repeat("x", 120)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{first(unixstream.CreateUnixServer(context.Background(), l, never, long, unixstream.ServerOptions{})), "at most"},
		{first(unixstream.CreateUnixServer(context.Background(), l, never, "", unixstream.ServerOptions{})), "required"},
		{first(unixstream.CreateUnixServer(context.Background(), l, never, "@x", unixstream.ServerOptions{Mode: 0o600})), "Mode"},
		{first(unixstream.CreateUnixServer(context.Background(), l, never, dir+"/b", unixstream.ServerOptions{Backlog: -1})), "Backlog"},
		{second(unixstream.CreateUnixConnection(context.Background(), l, never, long, unixstream.ConnOptions{})), "at most"},
		{second(unixstream.CreateUnixConnection(context.Background(), l, never, "", unixstream.ConnOptions{})), "required"},
		{second(unixstream.CreateUnixConnection(context.Background(), l, never, dir+"/nobody", unixstream.ConnOptions{})), "no such file"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("got %v; want an error containing %q", tc.err, tc.want)
		}
	}
	if err := second(unixstream.CreateUnixConnection(context.Background(), l, never, long, unixstream.ConnOptions{})); !errors.Is(err, unixstream.ErrPathTooLong) {
		t.Errorf("long path = %v", err)
	}
}

func first[A any](_ A, err error) error          { return err }
func second[A, B any](_ A, _ B, err error) error { return err }

// A listening socket and a connected one, made by Go's net, handed over.
func TestExistingSockets(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "given.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, "", unixstream.ServerOptions{Sock: ln})
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, func() { s.Close(); s.AbortClients() })
	if s.Addrs()[0] != path {
		t.Fatalf("Addrs %v", s.Addrs())
	}
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{onData: func(c *conn, _ []byte) {
		if string(c.data) == "handed over" {
			l.Stop()
		}
	}}
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, "",
		unixstream.ConnOptions{Sock: nc.(*net.UnixConn)})
	nc.Close() // the transport has its own descriptor
	if err != nil {
		t.Fatal(err)
	}
	defer drain(l, tr.Abort)
	tr.Write([]byte("handed over"))
	run(t, l)
	// A datagram socket is refused.
	pc, _ := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path + ".dgram", Net: "unixgram"})
	defer pc.Close()
	if err := second(unixstream.CreateUnixConnection(context.Background(), l, never, "", unixstream.ConnOptions{Sock: pc})); err == nil ||
		!strings.Contains(err.Error(), "not a Unix stream socket") {
		t.Fatalf("datagram socket as Sock = %v", err)
	}
}

// Closing a server after its loop still closes the listening socket and removes the file.
func TestServerCloseAfterLoopClose(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "late.sock")
	s, err := unixstream.CreateUnixServer(context.Background(), l, never, path, unixstream.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	s.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file after Close: %v", err)
	}
}
