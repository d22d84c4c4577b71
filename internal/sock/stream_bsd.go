//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Read reads from the non-blocking fd: 0 and no error at EOF.
func Read(fd int, b []byte) (int, error) {
	n, err := unix.Read(fd, b)
	if err != nil {
		return 0, syscallError("read", err)
	}
	return n, nil
}

// Write writes to the non-blocking fd and returns how much the kernel took.
func Write(fd int, b []byte) (int, error) {
	n, err := unix.Write(fd, b)
	if err != nil {
		return 0, syscallError("write", err)
	}
	return n, nil
}

// Accept takes one connection from the listening fd and makes it non-blocking and close-on-exec
// (under the fork lock, as Go's net does where accept4 is missing).
func Accept(fd int) (int, error) {
	if DescriptorFault != nil {
		if e := DescriptorFault("accept"); e != 0 {
			return -1, syscallError("accept", e)
		}
	}
	syscall.ForkLock.RLock()
	nfd, _, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, syscallError("accept", err)
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	return nfd, nil
}

type writerSys struct{}

func (writerSys) init(int) {}

// Writev writes bufs one write(2) each until the kernel takes less than offered.
func (w *Writer) Writev(fd int, bufs [][]byte) (int, error) {
	total := 0
	for _, b := range bufs {
		n, err := Write(fd, b)
		total += n
		if err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if n < len(b) {
			break
		}
	}
	return total, nil
}
