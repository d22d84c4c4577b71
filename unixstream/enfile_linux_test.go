package unixstream_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// ENFILE (the system's file table full), injected at the socket layer since no test may fill the
// table of a shared machine: on accept the server rests and resumes as for EMFILE, reporting it
// once without spinning; on a connection or a server's socket the create call fails with an error
// matching ENFILE and leaves nothing open.
//
// Fault: ENFILE on accept, and on a connection's or a server's socket (injected at the socket layer) → accept rests, is reported once and resumes, no spin; the create calls fail with an error matching ENFILE, nothing left open
func TestENFILE(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "enfile.sock")
	accepted := 0
	server(t, l, path, func() unixstream.BaseProtocol {
		accepted++
		return &conn{onMade: func(*conn) {
			if accepted == 3 {
				l.Stop()
			}
		}}
	})
	for range 3 { // three clients wait in the backlog
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
			t.Fatal(err)
		}
	}
	sock.DescriptorFault = func(string) syscall.Errno { return syscall.ENFILE }
	defer func() { sock.DescriptorFault = nil }()
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) {
		reports = append(reports, e)
		sock.DescriptorFault = nil // the table has room again; accepting resumes after the pause
	})
	before := l.Stats().Events
	run(t, l)
	if accepted != 3 {
		t.Fatalf("accepted %d of 3", accepted)
	}
	if len(reports) != 1 || !errors.Is(reports[0].Err, syscall.ENFILE) || !strings.Contains(reports[0].Message, "pausing accept") {
		t.Fatalf("reports %+v", reports)
	}
	if ev := l.Stats().Events - before; ev > 20 {
		t.Fatalf("%d readiness events while the table was full: the accept loop spins", ev)
	}

	sock.DescriptorFault = func(call string) syscall.Errno { return syscall.ENFILE }
	fds := testfd.Open(t)
	if _, _, err := unixstream.CreateUnixConnection(context.Background(), l, never, path, unixstream.ConnOptions{}); !errors.Is(err, syscall.ENFILE) {
		t.Fatalf("a connection with the table full: %v", err)
	}
	if _, err := unixstream.CreateUnixServer(context.Background(), l, never, sockPath(t, "other.sock"), unixstream.ServerOptions{}); !errors.Is(err, syscall.ENFILE) {
		t.Fatalf("a server with the table full: %v", err)
	}
	if after := testfd.Open(t); after != fds {
		t.Fatalf("%d descriptors open before, %d after", fds, after)
	}
}
