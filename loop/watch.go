package loop

import (
	"fmt"

	"github.com/aioloop/aioloop/internal/reactor"
)

// watch is the Handler behind AddReader and AddWriter: at most one reader and one writer callback
// per descriptor, as in asyncio.
type watch struct {
	reader, writer func()
	reg            registration
}

func (w *watch) OnReadable() { w.reader() }
func (w *watch) OnWritable() { w.writer() }

func (w *watch) interest() reactor.Interest {
	var in reactor.Interest
	if w.reader != nil {
		in |= reactor.Readable
	}
	if w.writer != nil {
		in |= reactor.Writable
	}
	return in
}

// lookupWatch returns the AddReader/AddWriter watch on fd; a descriptor registered by a transport
// is ErrFdInUse, as asyncio refuses add_reader on a transport's socket.
func (l *Loop) lookupWatch(fd int) (*watch, error) {
	slot, ok := l.fds.byFD[fd]
	if !ok {
		return nil, nil
	}
	w, ok := l.fds.regs[slot].h.(*watch)
	if !ok {
		return nil, fmt.Errorf("loop: fd %d is used by %T: %w", fd, l.fds.regs[slot].h, ErrFdInUse)
	}
	return w, nil
}

// setWatch installs fn as the reader (or writer) of fd, replacing any earlier one.
func (l *Loop) setWatch(fd int, fn func(), reader bool, op string) error {
	switch {
	case l.closed.Load():
		return ErrClosed
	case !l.onLoop(op):
		return ErrNotLoopGoroutine
	case fn == nil:
		return fmt.Errorf("loop: %s: nil callback", op)
	}
	w, err := l.lookupWatch(fd)
	if err != nil {
		return err
	}
	if w == nil {
		w = &watch{}
		if reader {
			w.reader = fn
		} else {
			w.writer = fn
		}
		w.reg, err = l.register(fd, w, w.interest())
		return err
	}
	old := [2]func(){w.reader, w.writer}
	if reader {
		w.reader = fn
	} else {
		w.writer = fn
	}
	if err := w.reg.SetInterest(w.interest()); err != nil {
		w.reader, w.writer = old[0], old[1]
		return err
	}
	return nil
}

// clearWatch removes the reader (or writer) of fd and reports whether there was one.
func (l *Loop) clearWatch(fd int, reader bool, op string) bool {
	if l.closed.Load() || !l.onLoop(op) {
		return false
	}
	w, _ := l.lookupWatch(fd)
	if w == nil || reader && w.reader == nil || !reader && w.writer == nil {
		return false
	}
	if reader {
		w.reader = nil
	} else {
		w.writer = nil
	}
	if w.interest() == 0 {
		w.reg.Unregister()
	} else {
		w.reg.SetInterest(w.interest())
	}
	return true
}

// AddReader calls fn on the loop goroutine each time fd is readable, until RemoveReader (asyncio's
// add_reader). A second AddReader for fd replaces fn. A descriptor used by a transport is refused
// with ErrFdInUse. Loop-only.
//
// The fd must be open and stay open until RemoveReader (and RemoveWriter): remove it before you
// close it, as asyncio and libuv require. A descriptor closed while registered, when a duplicate
// (dup, fork, a passed descriptor) keeps its file open, stays in epoll's interest list, which
// tracks the file and not the number: the loop keeps waking for events it can no longer deliver,
// and a new descriptor with the same number cannot be registered cleanly. Debug mode reports such
// a registration once, when it fires.
//
// On Windows fd is a socket handle (uintptr converted to int), and only sockets can be watched, as
// with asyncio's selector loop there: anything else fails with an error matching syscall.EBADF.
func (l *Loop) AddReader(fd int, fn func()) error { return l.setWatch(fd, fn, true, "AddReader") }

// RemoveReader stops watching fd for reading and reports whether it was watched (asyncio's
// remove_reader). Loop-only.
func (l *Loop) RemoveReader(fd int) bool { return l.clearWatch(fd, true, "RemoveReader") }

// AddWriter calls fn on the loop goroutine each time fd is writable, until RemoveWriter (asyncio's
// add_writer). A second AddWriter for fd replaces fn. Loop-only.
func (l *Loop) AddWriter(fd int, fn func()) error { return l.setWatch(fd, fn, false, "AddWriter") }

// RemoveWriter stops watching fd for writing and reports whether it was watched (asyncio's
// remove_writer). Loop-only.
func (l *Loop) RemoveWriter(fd int) bool { return l.clearWatch(fd, false, "RemoveWriter") }
