//go:build netbsd || openbsd

package poller

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// wakeup is a non-blocking pipe whose read end is registered with the wake token: these systems'
// x/sys has no EVFILT_USER.
type wakeup struct{ r, w int }

func (w *wakeup) open(p *Poller) error {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	w.r, w.w = fds[0], fds[1]
	unix.SetKevent(&p.wakeEv[0], w.r, unix.EVFILT_READ, unix.EV_ADD)
	setToken(&p.wakeEv[0], WakeToken)
	if _, err := unix.Kevent(p.kq, p.wakeEv, nil, nil); err != nil {
		w.close()
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

func (w *wakeup) trigger(*Poller) error {
	for {
		_, err := unix.Write(w.w, []byte{1})
		switch err {
		case nil, syscall.EAGAIN: // a full pipe already holds a wake-up
			return nil
		case syscall.EINTR:
			continue
		default:
			return os.NewSyscallError("write", err)
		}
	}
}

// is reports whether ev is the wake-up: the read filter of the pipe's read end.
func (w *wakeup) is(ev *unix.Kevent_t) bool {
	return ev.Filter == unix.EVFILT_READ && int(ev.Ident) == w.r
}

func (w *wakeup) consume(*Poller) {
	var buf [64]byte
	for {
		n, err := unix.Read(w.r, buf[:])
		if n <= 0 || err != nil {
			return
		}
	}
}

func (w *wakeup) close() {
	if w.r != w.w { // both zero before open
		unix.Close(w.r)
		unix.Close(w.w)
		w.r, w.w = 0, 0
	}
}
