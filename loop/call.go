package loop

// Do runs fn on the loop goroutine and returns once it has run: at once when called from the loop
// goroutine or while the loop is not running (setting up, from the goroutine that will call Run),
// and otherwise through CallSoonThreadsafe, waiting for the loop to get to it. It returns ErrClosed
// if the loop is closed before fn runs. Any goroutine; it is how the create functions of the
// transport packages may be called from anywhere. A loop that stops without running fn and is
// never run again leaves Do waiting, as a future nobody completes would. A panic in fn, run through
// the loop, is recovered and reported there, and Do returns nil: recover inside fn to see it.
func (l *Loop) Do(fn func()) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if g := l.goid.Load(); g == 0 || g == goroutineID() {
		fn()
		return nil
	}
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
