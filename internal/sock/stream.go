//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Listen marks fd as accepting connections.
func Listen(fd, backlog int) error { return os.NewSyscallError("listen", unix.Listen(fd, backlog)) }

// ShutdownWrite half-closes fd: the peer reads EOF, and fd can still read.
func ShutdownWrite(fd int) error {
	return os.NewSyscallError("shutdown", unix.Shutdown(fd, unix.SHUT_WR))
}

// Shutdown shuts both directions down (SHUT_RDWR): the connection ends for the peer, and for every
// duplicate of the descriptor, even while a duplicate stays open.
func Shutdown(fd int) error {
	return os.NewSyscallError("shutdown", unix.Shutdown(fd, unix.SHUT_RDWR))
}

// WaitConnected waits up to timeout for a non-blocking connect to finish and returns its outcome
// (SO_ERROR); ETIMEDOUT when it does not finish in time. A timeout of zero or less (a deadline
// already past) checks once without waiting. It blocks the caller: never on the loop goroutine.
func WaitConnected(fd int, timeout time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	deadline := time.Now().Add(timeout)
	for {
		// poll(2) takes whole milliseconds, and a negative count waits for ever: round up, and
		// never below zero.
		ms := 0
		if left := time.Until(deadline); left > 0 {
			left = min(left, (1<<31-2)*time.Millisecond)
			ms = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if n == 0 {
			return os.NewSyscallError("connect", unix.ETIMEDOUT)
		}
		break
	}
	e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt SO_ERROR", err)
	}
	if e != 0 {
		return os.NewSyscallError("connect", unix.Errno(e))
	}
	return nil
}

// InProgress reports whether a connect error means "finishing in the background" (EINPROGRESS,
// EALREADY). A Unix listener whose backlog is full answers EAGAIN instead, and nothing is in
// progress then: the connect must be tried again.
func InProgress(err error) bool {
	e := Errno(err)
	return e == unix.EINPROGRESS || e == unix.EALREADY
}

// Credentials are a Unix socket peer's process, user and group ids at connect time. PID is 0 where
// the system does not say.
type Credentials struct {
	PID      int
	UID, GID uint32
}

// Writer writes several buffers with one writev(2), reusing its iovec array.
type Writer struct{ sys writerSys }

// NewWriter makes room for n buffers per call.
func NewWriter(n int) *Writer {
	w := &Writer{}
	w.sys.init(n)
	return w
}
