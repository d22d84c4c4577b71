//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is the kqueue backend: one kqueue, an EVFILT_READ and an EVFILT_WRITE filter per
// descriptor as its interest asks, and a per-OS wake-up (kqueue_user.go, kqueue_pipe.go).
//
// Kevent_t.Udata is a pointer on most BSDs. The token stored there is an integer, which the garbage
// collector must never find in a pointer-typed field of Go memory, so every Kevent_t this backend
// hands the kernel lives in memory from mmap, outside the Go heap, and Udata is only ever read and
// written as a uintptr.
type Poller struct {
	kq      int
	mem     []byte          // the mmap'd region below
	changes []unix.Kevent_t // two change slots, loop goroutine only
	receipt []unix.Kevent_t // two EV_RECEIPT results
	wakeEv  []unix.Kevent_t // one prepared change for Wake, read-only after New
	raw     []unix.Kevent_t // the event list of Wait
	ts      unix.Timespec   // Wait's timeout, kept here so that Wait does not allocate
	wake    wakeup          // per OS
	wakeSig atomic.Uint32   // 1 while a wake-up is written and not yet consumed
	closed  atomic.Bool
	wakes   atomic.Uint64 // wake-ups written, for the coalescing test
}

const maxEvents = 256

var errTokenRange = errors.New("poller: token does not fit in this platform's kevent udata")

// New creates a kqueue (close-on-exec) and its wake-up.
func New() (*Poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	unix.CloseOnExec(kq)
	size := int(unsafe.Sizeof(unix.Kevent_t{}))
	n := 2 + 1 + maxEvents
	mem, err := unix.Mmap(-1, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		unix.Close(kq)
		return nil, os.NewSyscallError("mmap", err)
	}
	all := unsafe.Slice((*unix.Kevent_t)(unsafe.Pointer(&mem[0])), n)
	p := &Poller{kq: kq, mem: mem, changes: all[0:2], wakeEv: all[2:3], raw: all[3:]}
	if err := p.wake.open(p); err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

func setToken(ev *unix.Kevent_t, token uint64) {
	*(*uintptr)(unsafe.Pointer(&ev.Udata)) = uintptr(token)
}
func getToken(ev *unix.Kevent_t) uint64 { return uint64(*(*uintptr)(unsafe.Pointer(&ev.Udata))) }

// apply submits the first n prepared changes one kevent call each, with no event list, so that
// kevent returns a change's error itself (EV_RECEIPT would batch them, but netbsd's x/sys lacks it).
// An ENOENT from an EV_DELETE (a filter that was not there) is not an error; allMissing reports
// whether every change was one.
func (p *Poller) apply(n int) (allMissing bool, err error) {
	missing := 0
	for i := range n {
		_, err := unix.Kevent(p.kq, p.changes[i:i+1], nil, nil)
		if err == syscall.ENOENT && p.changes[i].Flags&unix.EV_DELETE != 0 {
			missing++
			continue
		}
		if err != nil {
			return false, os.NewSyscallError("kevent", err)
		}
	}
	return missing == n, nil
}

// prepare fills the two change slots: filters in the interest are added (or updated) with the
// token, the others deleted when del is set.
func (p *Poller) prepare(fd int, token uint64, in Interest, del bool) int {
	n := 0
	for _, f := range [2]struct {
		filter int
		want   bool
	}{{unix.EVFILT_READ, in&Readable != 0}, {unix.EVFILT_WRITE, in&Writable != 0}} {
		switch {
		case f.want:
			unix.SetKevent(&p.changes[n], fd, f.filter, unix.EV_ADD|unix.EV_ENABLE)
		case del:
			unix.SetKevent(&p.changes[n], fd, f.filter, unix.EV_DELETE)
		default:
			continue
		}
		setToken(&p.changes[n], token)
		n++
	}
	return n
}

func (p *Poller) register(fd int, token uint64, in Interest, del bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	if uint64(uintptr(token)) != token {
		return errTokenRange
	}
	_, err := p.apply(p.prepare(fd, token, in, del))
	return err
}

// Add registers fd with token and interest. kqueue does not refuse a second Add of the same fd
// (EV_ADD updates): callers must not rely on EEXIST.
func (p *Poller) Add(fd int, token uint64, in Interest) error {
	return p.register(fd, token, in, false)
}

// Modify replaces the token and interest of a registered fd; a filter no longer wanted is deleted.
func (p *Poller) Modify(fd int, token uint64, in Interest) error {
	return p.register(fd, token, in, true)
}

// Delete removes both filters of fd. An fd with neither is ENOENT.
func (p *Poller) Delete(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	allMissing, err := p.apply(p.prepare(fd, 0, 0, true))
	if err == nil && allMissing {
		err = os.NewSyscallError("kevent", syscall.ENOENT)
	}
	return err
}

// Wait fills events with at most len(events) (and at most 256) readiness reports and returns how
// many. A negative timeout blocks; zero polls. EINTR returns 0 events and no error. kqueue reports
// read and write readiness of one descriptor as two events with the same token.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	n := min(len(events), len(p.raw))
	if n == 0 {
		return 0, nil
	}
	ts := &p.ts
	if timeout < 0 {
		ts = nil
	} else {
		p.ts = unix.NsecToTimespec(int64(timeout))
	}
	got, err := unix.Kevent(p.kq, nil, p.raw[:n], ts)
	if err != nil {
		if err == syscall.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("kevent", err)
	}
	k := 0
	for i := range got {
		ev := &p.raw[i]
		token := getToken(ev)
		if token == WakeToken {
			p.wake.consume(p)
			p.wakeSig.Store(0)
			continue
		}
		var f Flags
		switch ev.Filter {
		case unix.EVFILT_READ:
			f = FlagReadable
		case unix.EVFILT_WRITE:
			f = FlagWritable
		}
		if ev.Flags&unix.EV_EOF != 0 {
			f |= FlagHangup
			if ev.Fflags != 0 { // the socket error, with EV_EOF
				f |= FlagError
			}
		}
		if ev.Flags&unix.EV_ERROR != 0 {
			f |= FlagError
		}
		events[k] = Event{Token: token, Flags: f}
		k++
	}
	return k, nil
}

// Wake makes the current or next Wait return. Safe from any goroutine; coalesced.
func (p *Poller) Wake() error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !p.wakeSig.CompareAndSwap(0, 1) {
		return nil
	}
	p.wakes.Add(1)
	if err := p.wake.trigger(p); err != nil {
		p.wakeSig.Store(0)
		return err
	}
	return nil
}

// Close closes the wake-up and the kqueue and unmaps the event memory. A second Close returns nil.
func (p *Poller) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	return p.release()
}

func (p *Poller) release() error {
	p.wake.close()
	err := unix.Close(p.kq)
	unix.Munmap(p.mem)
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
