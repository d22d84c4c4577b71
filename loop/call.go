package loop

import "sync/atomic"

// Do runs fn on the loop goroutine and returns once it has run: at once when called from the loop
// goroutine or while the loop is not running (setting up before Run), and otherwise through
// CallSoonThreadsafe, waiting for the loop to get to it. Any goroutine; it is how the create
// functions of the transport packages may be called from anywhere.
//
// It returns nil if and only if fn ran, and ErrClosed if the loop is closed before fn runs. A Do
// that runs fn directly holds off a concurrent Run and Close until fn returns, so that fn never
// overlaps the loop; a Do inside that fn runs directly too. When the loop stops with fn still
// queued, Do takes fn back and runs it directly (the loop no longer runs), so it never waits for a
// Run that may not come. A panic in fn, run through the loop, is recovered and reported there, and
// Do returns nil: recover inside fn to see it.
func (l *Loop) Do(fn func()) error {
	me := goroutineID()
	if l.goid.Load() == me || l.setupOwner.Load() == me {
		if l.closed.Load() {
			return ErrClosed
		}
		fn()
		return nil
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
			fn()
			return nil
		}
		l.setupMu.Unlock()
		// state: 0 queued, 1 taken by the loop, 2 taken back by Do.
		var state atomic.Int32
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
				fn()
			}
		})
		l.mu.Unlock()
		select {
		case <-done:
			return nil
		case <-ended:
			if state.CompareAndSwap(0, 2) {
				continue // the loop stopped before fn: run it directly, or report the close
			}
			<-done // the loop ran fn before it stopped
			return nil
		}
	}
}

// InLoop reports whether the caller is the goroutine of the running loop. It costs a stack walk:
// for set-up paths, not per event. Any goroutine.
func (l *Loop) InLoop() bool {
	g := l.goid.Load()
	return g != 0 && g == goroutineID()
}

// Local returns the value stored on this loop under key, creating it with mk on first use. It lets
// the packages above keep one copy per loop of state that only the loop goroutine touches, such as
// receive buffers: one loop runs one handler at a time, so they can share. Loop-only.
func (l *Loop) Local(key any, mk func() any) any {
	if v, ok := l.locals[key]; ok {
		return v
	}
	if l.locals == nil {
		l.locals = make(map[any]any)
	}
	v := mk()
	l.locals[key] = v
	return v
}
