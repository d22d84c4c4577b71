package loop

import (
	"context"
	"runtime/debug"
	"sync/atomic"
)

// Do runs fn on the loop goroutine and returns once it has run: at once when called from the loop
// goroutine or while the loop is not running (setting up before Run), and otherwise through
// CallSoonThreadsafe, waiting for the loop to get to it. Any goroutine; it is how the create
// functions of the transport packages may be called from anywhere (beyond asyncio, whose
// run_coroutine_threadsafe returns a future instead).
//
// It returns nil if and only if fn ran and returned; a *PanicError if fn panicked (recovered, with
// its stack, not reported to the exception handler); ErrClosed if the loop is closed before fn
// runs; and context.Cause(ctx) if ctx is done before the loop takes fn (fn then never runs; once
// the loop has taken it, Do waits for it to return). A Do that runs fn directly holds off a
// concurrent Run and Close until fn returns, so that fn never overlaps the loop; a Do inside that
// fn runs directly too. When the loop stops with fn still queued, Do takes fn back and runs it
// directly (the loop no longer runs), so it never waits for a Run that may not come.
func (l *Loop) Do(ctx context.Context, fn func()) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	me := goroutineID()
	if l.goid.Load() == me || l.setupOwner.Load() == me {
		if l.closed.Load() {
			return ErrClosed
		}
		return callCatching(fn)
	}
	for {
		l.setupMu.Lock()
		if l.closed.Load() {
			l.setupMu.Unlock()
			return ErrClosed
		}
		if !l.running.Load() {
			l.setupOwner.Store(me)
			defer func() {
				l.setupOwner.Store(0)
				l.setupMu.Unlock()
			}()
			return callCatching(fn)
		}
		l.setupMu.Unlock()
		// state: 0 queued, 1 taken by the loop, 2 taken back by Do.
		var state atomic.Int32
		var perr error
		done := make(chan struct{})
		l.mu.Lock()
		if l.closed.Load() || !l.running.Load() {
			l.mu.Unlock()
			continue // closed or stopped meanwhile: the checks above decide
		}
		ended := l.runEnded
		l.enqueueLocked(func() {
			if state.CompareAndSwap(0, 1) {
				defer close(done)
				perr = callCatching(fn)
			}
		})
		l.mu.Unlock()
		select {
		case <-done:
			return perr
		case <-ended:
			if state.CompareAndSwap(0, 2) {
				continue // the loop stopped before fn: run it directly, or report the close
			}
		case <-ctx.Done():
			if state.CompareAndSwap(0, 2) {
				return context.Cause(ctx)
			}
		}
		<-done // the loop took fn: it runs to its end
		return perr
	}
}

// DoValue runs fn on the loop goroutine as Do does, and returns its result: the generic form of
// Do, for reading or making loop-owned state from another goroutine. The error is Do's; the
// value is T's zero value unless fn returned.
func DoValue[T any](ctx context.Context, l *Loop, fn func() T) (T, error) {
	var v T
	err := l.Do(ctx, func() { v = fn() })
	return v, err
}

// callCatching runs fn and returns a *PanicError for a panic in it.
func callCatching(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	fn()
	return nil
}

// InLoop reports whether the caller is the goroutine of the running loop. It costs a stack walk:
// for set-up paths, not per event. Any goroutine.
func (l *Loop) InLoop() bool {
	g := l.goid.Load()
	return g != 0 && g == goroutineID()
}
