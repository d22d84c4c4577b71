//go:build darwin || dragonfly || freebsd

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// wakeup is an EVFILT_USER event: NOTE_TRIGGER fires it, EV_CLEAR re-arms it when reported.
type wakeup struct{}

func (wakeup) open(p *Poller) error {
	unix.SetKevent(&p.wakeEv[0], 0, unix.EVFILT_USER, unix.EV_ADD|unix.EV_CLEAR)
	setToken(&p.wakeEv[0], WakeToken)
	if _, err := unix.Kevent(p.kq, p.wakeEv, nil, nil); err != nil {
		return os.NewSyscallError("kevent", err)
	}
	// From now on the prepared change only triggers; concurrent Wakes share it read-only.
	unix.SetKevent(&p.wakeEv[0], 0, unix.EVFILT_USER, 0)
	p.wakeEv[0].Fflags = unix.NOTE_TRIGGER
	setToken(&p.wakeEv[0], WakeToken)
	return nil
}

func (wakeup) trigger(p *Poller) error {
	if _, err := unix.Kevent(p.kq, p.wakeEv, nil, nil); err != nil {
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

// is reports whether ev is the wake-up: the only EVFILT_USER event, ident 0.
func (wakeup) is(ev *unix.Kevent_t) bool { return ev.Filter == unix.EVFILT_USER && ev.Ident == 0 }

func (wakeup) consume(*Poller) {}

func (wakeup) close() {}
