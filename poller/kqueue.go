//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poller

import (
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
// written as a uintptr. On 32-bit systems (386, arm) udata holds 4 bytes, too few for a loop's
// token (a generation above a slot): there the token is kept in regs and found by the event's
// ident, and udata is unused.
//
// regs also remembers each descriptor's registration, so that Add and Modify, which take one
// kevent call per filter, can undo the first filter when the second fails.
type Poller struct {
	kq      int
	mem     []byte          // the mmap'd region below
	changes []unix.Kevent_t // two change slots, loop goroutine only
	wakeEv  []unix.Kevent_t // one prepared change for Wake, read-only after New
	raw     []unix.Kevent_t // the event list of Wait
	ts      unix.Timespec   // Wait's timeout, kept here so that Wait does not allocate
	regs    map[int]registration
	wake    wakeup        // per OS
	wakeSig atomic.Uint32 // 1 while a wake-up is written and not yet consumed
	closed  atomic.Bool
	wakes   atomic.Uint64 // wake-ups written, for the coalescing test
}

const maxEvents = 256

// registration is what a descriptor is registered with.
type registration struct {
	token uint64
	in    Interest
}

// tokenInUdata: udata can hold a whole token (64-bit systems).
const tokenInUdata = unsafe.Sizeof(uintptr(0)) == 8

// maxTimeout bounds a Wait's timeout: darwin refuses a timespec above INT32_MAX seconds with
// EINVAL; Go's runtime clamps to the same 1e6 s (a Wait that returns early only makes the loop
// look at its timers once more).
const maxTimeout = 1e6 * time.Second

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
	p := &Poller{kq: kq, mem: mem, changes: all[0:2], wakeEv: all[2:3], raw: all[3:], regs: make(map[int]registration)}
	if err := p.wake.open(p); err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

// setToken stores token in udata where it fits (64-bit); elsewhere udata is left zero.
func setToken(ev *unix.Kevent_t, token uint64) {
	if tokenInUdata {
		*(*uintptr)(unsafe.Pointer(&ev.Udata)) = uintptr(token)
	}
}

// token returns the token of a reported event: from udata, or on 32-bit systems from regs.
func (p *Poller) token(ev *unix.Kevent_t) (uint64, bool) {
	if tokenInUdata {
		return uint64(*(*uintptr)(unsafe.Pointer(&ev.Udata))), true
	}
	r, ok := p.regs[int(ev.Ident)]
	return r.token, ok
}

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
		if err == syscall.EPIPE && p.changes[i].Filter == unix.EVFILT_WRITE {
			// A pipe whose reader is gone: the filter is in place, and the write that
			// follows gets EPIPE itself (mio does the same).
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

// register applies a registration. When one of its two kevent calls fails, the descriptor is put
// back as it was: its previous registration (Modify) or none (Add).
func (p *Poller) register(fd int, token uint64, in Interest, modify bool) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	old, had := p.regs[fd]
	if !modify {
		if err := pollable(fd); err != nil {
			return err
		}
	}
	if _, err := p.apply(p.prepare(fd, token, in, modify)); err != nil {
		if modify && had {
			p.apply(p.prepare(fd, old.token, old.in, true))
		} else {
			p.apply(p.prepare(fd, 0, 0, true))
		}
		return err
	}
	p.regs[fd] = registration{token, in}
	return nil
}

// pollable refuses what epoll refuses with EPERM: regular files and directories, always "ready"
// (kqueue accepts them, and a loop would spin on them).
func pollable(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	if m := st.Mode & unix.S_IFMT; m == unix.S_IFREG || m == unix.S_IFDIR {
		return os.NewSyscallError("kevent", syscall.EPERM)
	}
	return nil
}

// Add registers fd with token and interest. kqueue does not refuse a second Add of the same fd
// (EV_ADD updates): callers must not rely on EEXIST. A regular file or a directory is EPERM.
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
	delete(p.regs, fd)
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
		p.ts = unix.NsecToTimespec(int64(min(timeout, maxTimeout)))
	}
	got, err := unix.Kevent(p.kq, nil, p.raw[:n], ts)
	if err != nil {
		// ETIMEDOUT: darwin's kevent can report a timeout as an error (golang/go#59679).
		if err == syscall.EINTR || err == syscall.ETIMEDOUT {
			return 0, nil
		}
		return 0, os.NewSyscallError("kevent", err)
	}
	k := 0
	for i := range got {
		ev := &p.raw[i]
		if p.wake.is(ev) { // by filter and ident, as the runtime does: udata may be too small
			p.wake.consume(p)
			p.wakeSig.Store(0)
			continue
		}
		token, ok := p.token(ev)
		if !ok {
			continue // 32-bit: the descriptor was deleted since
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
