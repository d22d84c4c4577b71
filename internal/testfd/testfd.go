//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package testfd

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

// Socketpair returns a connected, non-blocking, close-on-exec AF_UNIX stream pair, closed when the
// test ends.
func Socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// PipeAfter opens a pipe, which takes the lowest free descriptor numbers (likely one a transport
// just gave up), runs use, and fails the test if use wrote anything into the pipe: a transport
// that acts on a descriptor number it no longer owns would.
func PipeAfter(t testing.TB, use func()) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil { // not Pipe2: darwin has none
		t.Fatal(err)
	}
	unix.SetNonblock(p[0], true)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	use()
	unix.Write(p[1], []byte("end"))
	buf := make([]byte, 64)
	n, _ := unix.Read(p[0], buf)
	if string(buf[:max(n, 0)]) != "end" {
		t.Fatalf("the pipe that took the freed descriptor numbers got %q", buf[:max(n, 0)])
	}
}

// Open counts this process's open descriptors (/proc/self/fd on Linux; elsewhere a scan of every
// number with fcntl, as the leak check does: the BSDs' /dev/fd lists only 0 to 2 without fdescfs).
func Open(t testing.TB) int {
	t.Helper()
	return len(leakcheck.Descriptors())
}

// Write writes p to fd.
func Write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }

// Read reads into p from fd.
func Read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// Shutdown shuts both directions of the socket fd down.
func Shutdown(fd int) error { return unix.Shutdown(fd, unix.SHUT_RDWR) }

// Close closes fd.
func Close(fd int) error { return unix.Close(fd) }

// Socket returns a socket that the caller owns and closes with Close (a duplicate of one end of
// a socketpair whose ends close when the test ends).
func Socket(t testing.TB) int {
	t.Helper()
	a, _ := Socketpair(t)
	fd, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// Wine reports false: Wine runs Windows programs only.
func Wine() (version string, ok bool) { return "", false }

// Sentinel opens a pipe, whose ends take the lowest free descriptor numbers (likely ones a
// transport just gave up), and returns a check that fails the test if either end was closed or
// replaced meanwhile: a transport that closes a descriptor a second time, after its number was
// reused, would close the sentinel. check closes the pipe.
func Sentinel(t testing.TB) (check func()) {
	t.Helper()
	s, err := newSentinel()
	if err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := s.check(); err != nil {
			t.Error(err)
		}
	}
}

type sentinel struct {
	fds [2]int
	st  [2]unix.Stat_t
}

func newSentinel() (*sentinel, error) {
	var s sentinel
	if err := unix.Pipe(s.fds[:]); err != nil {
		return nil, err
	}
	for i, fd := range s.fds {
		unix.Fstat(fd, &s.st[i])
	}
	return &s, nil
}

// check reports an end that was closed or replaced, and closes the ends that were not.
func (s *sentinel) check() error {
	var errs []error
	for i, fd := range s.fds {
		var now unix.Stat_t
		if err := unix.Fstat(fd, &now); err != nil || now.Ino != s.st[i].Ino || now.Dev != s.st[i].Dev {
			errs = append(errs, fmt.Errorf("descriptor %d (a sentinel pipe's end) was closed or replaced behind its owner's back: %v", fd, err))
			continue
		}
		unix.Close(fd)
	}
	return errors.Join(errs...)
}
