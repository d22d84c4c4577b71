package sock

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func socket(family, sotype, proto int) (int, error) {
	return unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// unixAddrCall binds or connects fd to a Unix path with the same encoding as the hot path's
// (Sockaddr.SetPath): x/sys refuses an abstract name that fills sun_path, which Linux accepts.
func unixAddrCall(op string, fd int, path string) error {
	var sa Sockaddr
	if !sa.SetPath(path) {
		return fmt.Errorf("sock: %q is %d bytes; the limit is %d: %w", path, len(path), PathLimit(path), ErrPathTooLong)
	}
	nr := uintptr(unix.SYS_BIND)
	if op == "connect" {
		nr = unix.SYS_CONNECT
	}
	for {
		_, _, e := syscall.Syscall(nr, uintptr(fd), uintptr(sa.ptr()), uintptr(sa.n))
		switch {
		case e == 0:
			return nil
		case e == unix.EINTR && op == "bind":
			continue
		}
		return os.NewSyscallError(op, e)
	}
}
