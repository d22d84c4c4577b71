package poller

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Poller is the epoll backend: one epoll instance and an eventfd for Wake.
type Poller struct {
	epfd    int
	wakefd  int
	raw     []unix.EpollEvent // reused by every Wait; the kernel writes here
	wakeSig atomic.Uint32     // 1 while a wake-up is written and not yet consumed
	closed  atomic.Bool
	wakes   atomic.Uint64 // eventfd writes, for the coalescing test
}

// maxEvents bounds one epoll_pwait: a Wait with a longer slice fills at most this many.
const maxEvents = 256

// New creates an epoll instance (close-on-exec) and registers its eventfd wake-up.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	p := &Poller{epfd: epfd, wakefd: wakefd, raw: make([]unix.EpollEvent, maxEvents)}
	if err := p.ctl(unix.EPOLL_CTL_ADD, wakefd, unix.EPOLLIN, WakeToken); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, err
	}
	return p, nil
}

// ctl is epoll_ctl through RawSyscall6: it never blocks. The 64-bit epoll_data is the pair
// (Fd, Pad) in x/sys's EpollEvent on every architecture.
func (p *Poller) ctl(op, fd int, events uint32, token uint64) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
	_, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(p.epfd), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(&ev)), 0, 0)
	if e != 0 {
		return os.NewSyscallError("epoll_ctl", e)
	}
	return nil
}

func epollEvents(in Interest) uint32 {
	var ev uint32
	if in&Readable != 0 {
		ev |= unix.EPOLLIN
	}
	if in&Writable != 0 {
		ev |= unix.EPOLLOUT
	}
	return ev
}

// Add registers fd with token and interest (EPOLL_CTL_ADD). Registering fd twice is EEXIST.
func (p *Poller) Add(fd int, token uint64, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	return p.ctl(unix.EPOLL_CTL_ADD, fd, epollEvents(in), token)
}

// Modify replaces the token and interest of a registered fd (EPOLL_CTL_MOD).
func (p *Poller) Modify(fd int, token uint64, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	return p.ctl(unix.EPOLL_CTL_MOD, fd, epollEvents(in), token)
}

// Delete removes fd (EPOLL_CTL_DEL). Deleting an fd that is not registered is ENOENT.
func (p *Poller) Delete(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return p.ctl(unix.EPOLL_CTL_DEL, fd, 0, 0)
}

// Wait fills events with at most len(events) (and at most 256) readiness reports and returns how
// many. A negative timeout blocks; zero polls; a positive timeout is rounded up to whole
// milliseconds. EINTR returns 0 events and no error.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	n := min(len(events), len(p.raw))
	if n == 0 {
		return 0, nil
	}
	ms := timeoutMillis(timeout)
	var r uintptr
	var e syscall.Errno
	if ms == 0 {
		r, _, e = syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
			uintptr(unsafe.Pointer(&p.raw[0])), uintptr(n), 0, 0, 0)
	} else {
		r, _, e = syscall.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
			uintptr(unsafe.Pointer(&p.raw[0])), uintptr(n), uintptr(ms), 0, 0)
	}
	if e != 0 {
		if e == syscall.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("epoll_pwait", e)
	}
	k := 0
	for i := range int(r) {
		ev := &p.raw[i]
		token := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
		if token == WakeToken {
			p.consumeWake()
			continue
		}
		var f Flags
		if ev.Events&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
			f |= FlagReadable
		}
		if ev.Events&unix.EPOLLOUT != 0 {
			f |= FlagWritable
		}
		if ev.Events&(unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
			f |= FlagHangup
		}
		if ev.Events&unix.EPOLLERR != 0 {
			f |= FlagError
		}
		events[k] = Event{Token: token, Flags: f}
		k++
	}
	return k, nil
}

// consumeWake reads the eventfd counter back to zero, then re-arms Wake. In that order: a Wake
// between the two finds wakeSig still set and writes nothing, and the caller looks at its queues
// after Wait returns anyway.
func (p *Poller) consumeWake() {
	var buf [8]byte
	syscall.RawSyscall(unix.SYS_READ, uintptr(p.wakefd), uintptr(unsafe.Pointer(&buf[0])), 8)
	p.wakeSig.Store(0)
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
	one := [8]byte{1}
	for {
		_, _, e := syscall.RawSyscall(unix.SYS_WRITE, uintptr(p.wakefd), uintptr(unsafe.Pointer(&one[0])), 8)
		switch e {
		case 0, syscall.EAGAIN: // EAGAIN: the counter is full, so a wake-up is pending anyway
			return nil
		case syscall.EINTR:
			continue
		default:
			p.wakeSig.Store(0)
			return os.NewSyscallError("write eventfd", e)
		}
	}
}

// Close closes the eventfd and the epoll instance. A second Close returns nil.
func (p *Poller) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err1 := unix.Close(p.wakefd)
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close", err2)
	}
	return nil
}

// timeoutMillis turns a Wait timeout into epoll's milliseconds: negative blocks, zero polls, and
// anything else is rounded up so that Wait never returns before a timer is due.
func timeoutMillis(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	const most = 1<<31 - 1 // epoll_wait's int
	if d > most*time.Millisecond {
		return most // and d + 1ms - 1 could overflow
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
