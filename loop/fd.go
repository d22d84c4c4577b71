package loop

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/poller"
)

// reg is one slot of the fd table.
type reg struct {
	fd       int
	h        reactor.Handler
	gen      uint32
	interest reactor.Interest
	polled   bool // registered with the poller (interest was not empty)
	warned   bool // debug mode reported its descriptor closed while registered
}

// fdTable holds the registrations: slots reused through a free list, a generation per slot so
// that a token names one registration only, and an fd index for AddReader's lookups and for
// refusing a second registration of one descriptor.
type fdTable struct {
	regs  []reg
	free  []uint32
	byFD  map[int]uint32
	count int
}

func (t *fdTable) init() { *t = fdTable{byFD: make(map[int]uint32)} }

func token(slot, gen uint32) uint64 { return uint64(gen)<<32 | uint64(slot) }

// registration is a file descriptor registered with a loop by register. It is a small value.
type registration struct {
	l    *Loop
	slot uint32
	gen  uint32
}

// register watches fd for the interest in and calls h's methods when it is ready (the hook for
// transports, through internal/reactor; AddReader and AddWriter are the user-level form). An fd
// may be registered once; a second registration is ErrFdInUse. The fd must stay open until
// Unregister. Loop-only.
func (l *Loop) register(fd int, h reactor.Handler, in reactor.Interest) (registration, error) {
	switch {
	case l.closed.Load(), l.closing:
		return registration{}, ErrClosed
	case !l.onLoop("Register"):
		return registration{}, ErrNotLoopGoroutine
	case h == nil:
		return registration{}, errors.New("loop: Register: nil Handler")
	case fd < 0:
		return registration{}, fmt.Errorf("loop: Register: bad file descriptor %d", fd)
	}
	t := &l.fds
	if _, ok := t.byFD[fd]; ok {
		return registration{}, fmt.Errorf("loop: fd %d: %w", fd, ErrFdInUse)
	}
	var slot uint32
	if n := len(t.free); n > 0 {
		slot = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.regs = append(t.regs, reg{gen: 1})
		slot = uint32(len(t.regs) - 1)
	}
	r := &t.regs[slot]
	if in != 0 {
		if err := l.p.Add(fd, token(slot, r.gen), in); err != nil {
			// A new generation for the slot: should a failed Add have left a filter behind
			// (a poller that could not roll back), its events name a registration that is gone.
			r.gen++
			t.free = append(t.free, slot)
			return registration{}, fmt.Errorf("loop: register fd %d: %w", fd, err)
		}
	}
	r.fd, r.h, r.interest, r.polled = fd, h, in, in != 0
	t.byFD[fd] = slot
	t.count++
	return registration{l: l, slot: slot, gen: r.gen}, nil
}

// get returns the live slot of a registration, or nil.
func (r registration) get() *reg {
	if r.l == nil || int(r.slot) >= len(r.l.fds.regs) {
		return nil
	}
	g := &r.l.fds.regs[r.slot]
	if g.gen != r.gen || g.h == nil {
		return nil
	}
	return g
}

// Interest returns the current interest, or 0 once unregistered. Loop-only.
func (r registration) Interest() reactor.Interest {
	if g := r.get(); g != nil {
		return g.interest
	}
	return 0
}

// SetInterest changes what the registration watches. An unchanged interest costs no syscall; an
// empty one takes the fd out of the poller until interest returns. Loop-only.
func (r registration) SetInterest(in reactor.Interest) error {
	if r.l != nil && !r.l.onLoop("Registration.SetInterest") {
		return ErrNotLoopGoroutine
	}
	g := r.get()
	if g == nil {
		return errNotRegistered
	}
	if in == g.interest {
		return nil
	}
	var err error
	switch {
	case in == 0:
		err = r.l.p.Delete(g.fd)
	case g.polled:
		err = r.l.p.Modify(g.fd, token(r.slot, r.gen), in)
	default:
		err = r.l.p.Add(g.fd, token(r.slot, r.gen), in)
	}
	if err != nil {
		return fmt.Errorf("loop: fd %d: set interest: %w", g.fd, err)
	}
	g.interest, g.polled = in, in != 0
	return nil
}

// Unregister stops watching the fd and frees the registration; events already reported for it are
// dropped. Call it before closing the fd. A second call returns errNotRegistered. Loop-only.
func (r registration) Unregister() error {
	if r.l != nil && !r.l.onLoop("Registration.Unregister") {
		return ErrNotLoopGoroutine
	}
	g := r.get()
	if g == nil {
		return errNotRegistered
	}
	var err error
	if g.polled {
		// A descriptor closed before Unregister has already left epoll: not worth an error.
		if e := r.l.p.Delete(g.fd); e != nil && !errors.Is(e, syscall.EBADF) && !errors.Is(e, syscall.ENOENT) {
			err = fmt.Errorf("loop: fd %d: unregister: %w", g.fd, e)
		}
	}
	t := &r.l.fds
	delete(t.byFD, g.fd)
	*g = reg{gen: g.gen + 1}
	t.free = append(t.free, r.slot)
	t.count--
	return err
}

// dispatch hands the first n polled events to their handlers. Each event has two halves, readable
// then writable, numbered 2i and 2i+1, so that after a panic dispatch resumes at the next half.
func (l *Loop) dispatch(n int) {
	l.ctr.Events += uint64(n)
	for half := 0; half < 2*n; {
		half = l.dispatchFrom(half, 2*n)
	}
}

// dispatchFrom dispatches halves [half, end) and returns end, or the half after one whose handler
// panicked (the deferred recover reports it). The slot is looked up again for every half: a
// handler may unregister, reuse or add registrations, and the table may grow.
func (l *Loop) dispatchFrom(half, end int) (next int) {
	var h reactor.Handler
	var readable bool
	defer func() {
		if v := recover(); v != nil {
			l.reportPanic(v, nil, h, readable)
		}
	}()
	debug := l.debug.Load()
	for next = half; next < end; {
		ev := l.events[next/2]
		readable = next%2 == 0
		next++
		slot, gen := uint32(ev.Token), uint32(ev.Token>>32)
		if int(slot) >= len(l.fds.regs) {
			continue
		}
		g := &l.fds.regs[slot]
		if g.gen != gen || g.h == nil {
			continue // stale: removed or reused since the poll
		}
		want := reactor.Writable
		if readable {
			want = reactor.Readable
		}
		flags := ev.Flags
		if flags&(poller.FlagHangup|poller.FlagError) != 0 {
			flags |= poller.FlagReadable | poller.FlagWritable
		}
		if poller.Flags(want)&flags == 0 || g.interest&want == 0 {
			continue
		}
		h = g.h
		var start time.Time
		if debug {
			if !g.warned && fdClosed(g.fd) {
				g.warned = true
				l.reportStale(g.fd, h)
			}
			start = time.Now()
		}
		if readable {
			h.OnReadable()
		} else {
			h.OnWritable()
		}
		if debug {
			l.checkSlow(start, nil, h, readable)
		}
	}
	return next
}

// reportStale reports, once per registration, an event for a descriptor that was closed while
// registered (debug mode). epoll keeps a registration for as long as the file is open, and a
// duplicate keeps it open: the loop then wakes for it again and again.
func (l *Loop) reportStale(fd int, h reactor.Handler) {
	cb, tr := describe(nil, h, true)
	l.CallExceptionHandler(Exception{
		Message: fmt.Sprintf("fd %d was closed before RemoveReader, RemoveWriter or Unregister: the poller still "+
			"reports the file it referred to (another descriptor keeps it open), so the loop keeps waking for it; "+
			"remove a descriptor from the loop before closing it", fd),
		Callback: cb, Transport: tr,
	})
}
