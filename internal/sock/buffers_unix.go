//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"os"

	"golang.org/x/sys/unix"
)

// SetBuffers asks for socket buffers of rcv and snd bytes (SO_RCVBUF, SO_SNDBUF); 0 leaves one as
// it is. The kernel caps what it grants (rmem_max, wmem_max on Linux) and may double it: read what
// was granted with Buffers.
func SetBuffers(fd, rcv, snd int) error {
	if rcv > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcv); err != nil {
			return os.NewSyscallError("setsockopt SO_RCVBUF", err)
		}
	}
	if snd > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, snd); err != nil {
			return os.NewSyscallError("setsockopt SO_SNDBUF", err)
		}
	}
	return nil
}

// Buffers returns the receive and send buffer sizes the kernel granted.
func Buffers(fd int) (rcv, snd int, err error) {
	if rcv, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt SO_RCVBUF", err)
	}
	if snd, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt SO_SNDBUF", err)
	}
	return rcv, snd, nil
}
