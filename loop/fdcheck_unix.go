//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop

import "golang.org/x/sys/unix"

// fdClosed reports whether fd is not an open descriptor (debug mode's check for registrations
// whose descriptor was closed before it was removed).
func fdClosed(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == unix.EBADF
}
