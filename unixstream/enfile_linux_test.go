package unixstream_test

import (
	"context"
	"errors"
	"syscall"
	"testing"

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
	accepted := threeWaiting(t, l, path)
	sock.DescriptorFault = func(string) syscall.Errno { return syscall.ENFILE }
	defer func() { sock.DescriptorFault = nil }()
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) {
		reports = append(reports, e)
		sock.DescriptorFault = nil // the table has room again; accepting resumes after the pause
	})
	acceptRested(t, l, accepted, &reports, syscall.ENFILE)

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
