//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// socket opens a socket and then sets close-on-exec and non-blocking: darwin has no SOCK_CLOEXEC,
// so, as Go's net does, the fork lock keeps a concurrent fork+exec from inheriting it meanwhile.
func socket(family, sotype, proto int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, sotype, proto)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// unixAddrCall binds or connects fd to a Unix path.
func unixAddrCall(op string, fd int, path string) error {
	sa, err := ToUnix(unix.AF_UNIX, netip.AddrPort{}, path)
	if err != nil {
		return err
	}
	if op == "connect" {
		return os.NewSyscallError(op, unix.Connect(fd, sa))
	}
	return os.NewSyscallError(op, unix.Bind(fd, sa))
}
