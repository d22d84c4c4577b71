package sock

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read reads from the non-blocking fd with read(2): 0 and no error at EOF.
func Read(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, syscallError("read", e)
	}
	return int(n), nil
}

// Write writes to the non-blocking fd with write(2) and returns how much the kernel took.
func Write(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, syscallError("write", e)
	}
	return int(n), nil
}

// Accept takes one connection from the listening fd, non-blocking and close-on-exec (accept4).
func Accept(fd int) (int, error) {
	if DescriptorFault != nil {
		if e := DescriptorFault("accept4"); e != 0 {
			return -1, syscallError("accept4", e)
		}
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0,
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, syscallError("accept4", e)
	}
	return int(n), nil
}

// PeerCredentials returns the peer's credentials (SO_PEERCRED).
func PeerCredentials(fd int) (Credentials, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Credentials{}, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return Credentials{PID: int(u.Pid), UID: u.Uid, GID: u.Gid}, nil
}

type writerSys struct{ iov []unix.Iovec }

func (w *writerSys) init(n int) { w.iov = make([]unix.Iovec, n) }

// Writev writes bufs (as many as fit the Writer) with one writev(2) and returns the bytes written.
func (w *Writer) Writev(fd int, bufs [][]byte) (int, error) {
	k := 0
	for _, b := range bufs {
		if k == len(w.sys.iov) {
			break
		}
		if len(b) == 0 {
			continue
		}
		w.sys.iov[k].Base = &b[0]
		w.sys.iov[k].SetLen(len(b))
		k++
	}
	if k == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&w.sys.iov[0])), uintptr(k))
	clear(w.sys.iov[:k]) // hold no references to the caller's buffers
	if e != 0 {
		return 0, syscallError("writev", e)
	}
	return int(n), nil
}
