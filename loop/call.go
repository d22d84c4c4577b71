package loop

// Do runs fn on the loop goroutine and returns once it has run: at once when called from the loop
// goroutine or while the loop is not running (setting up before Run), and otherwise through
// CallSoonThreadsafe, waiting for the loop to get to it. It returns ErrClosed if the loop is closed
// before fn runs. Any goroutine; it is how the create functions of the transport packages may be
// called from anywhere. A Do that runs fn directly holds off a concurrent Run until fn returns, so
// that fn never overlaps the loop; a Do inside that fn runs directly too. A loop that stops
// without running a queued fn and is never run again leaves Do waiting, as a future nobody
// completes would. A panic in fn, run through the loop, is recovered and reported there, and Do
// returns nil: recover inside fn to see it.
func (l *Loop) Do(fn func()) error {
	if l.closed.Load() {
		return ErrClosed
	}
	me := goroutineID()
	if l.goid.Load() == me || l.setupOwner.Load() == me {
		fn()
		return nil
	}
	l.setupMu.Lock()
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
	done := make(chan struct{})
	if err := l.CallSoonThreadsafe(func() { defer close(done); fn() }); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-l.closedCh:
		return ErrClosed
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
