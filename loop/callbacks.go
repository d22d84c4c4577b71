package loop

import "time"

// entry is one ready callback. timer is the timer slot it came from plus one, or 0.
type entry struct {
	fn    func()
	timer int32
}

// ring is the FIFO of ready callbacks. Entry ids count pushes, so the id of a still-queued
// callback locates it without a search: buf[(head + id - headID) & mask].
type ring struct {
	buf    []entry
	head   int
	n      int
	headID uint64
}

func (r *ring) push(fn func(), timer int32) uint64 {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = entry{fn, timer}
	r.n++
	return r.headID + uint64(r.n-1)
}

func (r *ring) grow() {
	buf := make([]entry, max(16, 2*len(r.buf)))
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

func (r *ring) pop() entry {
	e := r.buf[r.head]
	r.buf[r.head] = entry{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	r.headID++
	return e
}

// cancel drops the callback of a queued entry and reports whether it was still to run; the entry
// stays, to be skipped, so ids stay dense.
func (r *ring) cancel(id uint64) bool {
	if id-r.headID >= uint64(r.n) {
		return false
	}
	e := &r.buf[(r.head+int(id-r.headID))&(len(r.buf)-1)]
	pending := e.fn != nil
	e.fn = nil
	return pending
}

// pending reports whether the entry id is queued and not cancelled.
func (r *ring) pending(id uint64) bool {
	return id-r.headID < uint64(r.n) && r.buf[(r.head+int(id-r.headID))&(len(r.buf)-1)].fn != nil
}

// Handle is a callback scheduled by CallSoon (asyncio's Handle). It is a small value: copying it
// is free, scheduling allocates nothing, and any copy (one kept in a map included) can cancel it.
type Handle struct {
	l  *Loop
	id uint64
}

// Cancel keeps the callback from running and reports whether it did so: false if it already ran,
// was cancelled before, or the handle came from a closed loop. It is time.Timer's Stop in shape
// and asyncio's Handle.cancel in effect; asyncio's cancelled() is what the first Cancel returned.
// Loop-only.
func (h Handle) Cancel() bool {
	if h.l == nil || !h.l.onLoop("Handle.Cancel") {
		return false // refused in debug mode: the callback still runs
	}
	return h.l.ready.cancel(h.id)
}

// Pending reports whether the callback is still scheduled: not yet run and not cancelled (beyond
// asyncio). Loop-only.
func (h Handle) Pending() bool {
	return h.l != nil && !h.l.closed.Load() && h.l.ready.pending(h.id)
}

// CallSoon schedules fn to run in the next batch of callbacks, after those already scheduled
// (asyncio's call_soon). Each fn runs once, on the loop goroutine. Loop-only; it does not allocate
// once the queue has grown to its working size. On a closed loop nothing is scheduled: the handle
// is not Pending.
func (l *Loop) CallSoon(fn func()) Handle {
	if l.closed.Load() || !l.onLoop("CallSoon") {
		return Handle{}
	}
	return Handle{l: l, id: l.ready.push(fn, 0)}
}

// CallSoonThreadsafe schedules fn like CallSoon, from any goroutine, and wakes the loop if it
// sleeps (asyncio's call_soon_threadsafe). It returns ErrClosed once the loop is closed.
func (l *Loop) CallSoonThreadsafe(fn func()) error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return ErrClosed
	}
	l.enqueueLocked(fn)
	l.mu.Unlock()
	return nil
}

// enqueueLocked appends fn to CallSoonThreadsafe's queue and wakes a sleeping poll; under mu.
func (l *Loop) enqueueLocked(fn func()) {
	l.tsq = append(l.tsq, fn)
	l.tsqLen.Add(1)
	if l.polling.Load() {
		l.p.Wake()
	}
}

// drainThreadsafe moves CallSoonThreadsafe's queue onto the ready ring. The two slices swap
// roles, so that steady state allocates nothing.
func (l *Loop) drainThreadsafe() {
	if l.tsqLen.Load() == 0 {
		return
	}
	l.mu.Lock()
	q := l.tsq
	l.tsq = l.spare[:0]
	l.tsqLen.Store(0)
	l.mu.Unlock()
	for _, fn := range q {
		l.ready.push(fn, 0)
	}
	clear(q)
	l.spare = q
}

// runReady runs the callbacks that are ready now, and not those they schedule.
func (l *Loop) runReady() {
	for todo := l.ready.n; todo > 0; {
		todo = l.runBatch(todo)
	}
}

// runBatch runs up to todo callbacks and returns how many are left: 0, or the rest after a callback
// panicked (the deferred recover reports it, and runReady carries on with the next one). One defer
// for the whole batch, not one per callback.
func (l *Loop) runBatch(todo int) (left int) {
	var cur func()
	defer func() {
		if v := recover(); v != nil {
			l.reportPanic(v, cur, nil, false)
		}
	}()
	debug := l.debug.Load()
	for left = todo; left > 0; {
		e := l.ready.pop()
		left--
		if e.timer != 0 {
			l.timers.release(e.timer - 1)
		}
		if e.fn == nil {
			continue // cancelled
		}
		cur = e.fn
		l.ctr.Callbacks++
		if debug {
			start := time.Now()
			e.fn()
			l.checkSlow(start, e.fn, nil, false)
		} else {
			e.fn()
		}
	}
	return 0
}
