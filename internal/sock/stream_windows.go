package sock

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// Listen marks fd as listening.
func Listen(fd, backlog int) error {
	if err := windows.Listen(windows.Handle(fd), backlog); err != nil {
		return os.NewSyscallError("listen", wsa.Translate(err))
	}
	return nil
}

// ShutdownWrite shuts the sending side down (SD_SEND).
func ShutdownWrite(fd int) error { return shutdown(fd, windows.SHUT_WR) }

// Shutdown shuts both sides down (SD_BOTH).
func Shutdown(fd int) error { return shutdown(fd, windows.SHUT_RDWR) }

func shutdown(fd, how int) error {
	if err := windows.Shutdown(windows.Handle(fd), how); err != nil {
		return os.NewSyscallError("shutdown", wsa.Translate(err))
	}
	return nil
}

// WaitConnected waits up to timeout for a connect in progress on fd and returns its result.
func WaitConnected(fd int, timeout time.Duration) error {
	fds := []wsa.PollFD{{FD: windows.Handle(fd), Events: wsa.PollOut}}
	ms := int((min(timeout, (1<<31-2)*time.Millisecond) + time.Millisecond - 1) / time.Millisecond)
	n, err := wsa.Poll(fds, ms)
	if err != nil {
		return err
	}
	if n == 0 {
		return os.NewSyscallError("connect", syscall.ETIMEDOUT)
	}
	e, err := windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, soError)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", wsa.Translate(err))
	}
	if e != 0 {
		return os.NewSyscallError("connect", wsa.Errno(syscall.Errno(e)))
	}
	return nil
}

// InProgress reports whether a connect has started and not finished.
func InProgress(err error) bool {
	e := Errno(err)
	return e == syscall.EINPROGRESS || e == syscall.EALREADY
}

// Credentials are a Unix socket peer's ids; Windows has none to give.
type Credentials struct {
	PID      int
	UID, GID uint32
}

// PeerCredentials is not available on Windows.
func PeerCredentials(int) (Credentials, error) { return Credentials{}, ErrUnsupported }

// Read is recv on the connected socket fd.
func Read(fd int, b []byte) (int, error) {
	n, err := wsa.Recv(windows.Handle(fd), b)
	if err != nil {
		return 0, unwrapTemporary(err)
	}
	return n, nil
}

// Write is send on the connected socket fd.
func Write(fd int, b []byte) (int, error) {
	n, err := wsa.Send(windows.Handle(fd), b)
	if err != nil {
		return 0, unwrapTemporary(err)
	}
	return n, nil
}

// unwrapTemporary returns "not now" bare, as the Unix hot path does.
func unwrapTemporary(err error) error {
	if Temporary(err) {
		return wsa.Errno(syscall.Errno(windows.WSAEWOULDBLOCK))
	}
	return err
}

// Accept takes a connection off the listening fd, non-blocking.
func Accept(fd int) (int, error) {
	s, err := wsa.Accept(windows.Handle(fd))
	if err != nil {
		return -1, unwrapTemporary(err)
	}
	if err := wsa.SetNonblock(s); err != nil {
		windows.Closesocket(s)
		return -1, err
	}
	return int(s), nil
}

// Writer gathers buffers into one WSASend.
type Writer struct{ bufs []windows.WSABuf }

// NewWriter makes a Writer that sends at most n buffers per call.
func NewWriter(n int) *Writer { return &Writer{bufs: make([]windows.WSABuf, n)} }

// Writev sends as much of bufs as the socket takes, in order, and returns how many bytes went.
func (w *Writer) Writev(fd int, bufs [][]byte) (int, error) {
	k := 0
	for _, b := range bufs {
		if k == len(w.bufs) {
			break
		}
		if len(b) == 0 {
			continue
		}
		w.bufs[k] = windows.WSABuf{Len: uint32(len(b)), Buf: &b[0]}
		k++
	}
	if k == 0 {
		return 0, nil
	}
	var sent uint32
	err := windows.WSASend(windows.Handle(fd), &w.bufs[0], uint32(k), &sent, 0, nil, nil)
	clear(w.bufs[:k])
	if err != nil {
		return 0, unwrapTemporary(os.NewSyscallError("WSASend", wsa.Translate(err)))
	}
	return int(sent), nil
}
