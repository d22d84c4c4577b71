//go:build linux

package load

import (
	"os"

	"golang.org/x/sys/unix"
)

// epoll is the generator's own readiness loop over its sockets, level-triggered for reading.
type epoll struct {
	fd     int
	events [64]unix.EpollEvent
	ready  []int // the indices of the sockets of the last wait
}

func newEpoll() (*epoll, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &epoll{fd: fd, ready: make([]int, 64)}, nil
}

func (e *epoll) add(fd, idx int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(idx)}
	return os.NewSyscallError("epoll_ctl", unix.EpollCtl(e.fd, unix.EPOLL_CTL_ADD, fd, &ev))
}

// wait waits up to ms milliseconds and returns how many indices it put in ready.
func (e *epoll) wait(ms int) (int, error) {
	n, err := unix.EpollWait(e.fd, e.events[:], ms)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	for i := range n {
		e.ready[i] = int(e.events[i].Fd)
	}
	return n, nil
}

func (e *epoll) close() { unix.Close(e.fd) }
