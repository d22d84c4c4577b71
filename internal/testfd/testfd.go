//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package testfd

import (
	"testing"

	"golang.org/x/sys/unix"
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
