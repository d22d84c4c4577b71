package loop

import (
	"math"
	"time"
)

// timer is one slot of the timer table. A slot is in the heap (idx >= 0), or moved to the ready
// ring (idx == inReady, readyID set) until its callback is popped, or free (idx == free).
type timer struct {
	when    int64 // nanoseconds since the loop's epoch
	seq     uint64
	fn      func()
	readyID uint64
	gen     uint32
	idx     int32
}

const (
	free    = -1
	inReady = -2
)

// timers is a binary min-heap of slot indices ordered by (when, seq), over a table of slots that
// are reused through a free list. Cancel removes a timer from the heap at once (O(log n)), so
// cancelled timers never pile up and no compaction pass is needed: a step beyond asyncio, which
// leaves them in its heap and compacts when more than half are cancelled.
type timers struct {
	slots []timer
	free  []int32
	heap  []int32
	seq   uint64
}

func (ts *timers) len() int    { return len(ts.heap) }
func (ts *timers) next() int64 { return ts.slots[ts.heap[0]].when }

func (ts *timers) less(i, j int) bool {
	a, b := &ts.slots[ts.heap[i]], &ts.slots[ts.heap[j]]
	return a.when < b.when || a.when == b.when && a.seq < b.seq
}

func (ts *timers) swap(i, j int) {
	ts.heap[i], ts.heap[j] = ts.heap[j], ts.heap[i]
	ts.slots[ts.heap[i]].idx = int32(i)
	ts.slots[ts.heap[j]].idx = int32(j)
}

func (ts *timers) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ts.less(i, p) {
			return
		}
		ts.swap(i, p)
		i = p
	}
}

func (ts *timers) down(i int) {
	n := len(ts.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && ts.less(c+1, c) {
			c++
		}
		if !ts.less(c, i) {
			return
		}
		ts.swap(i, c)
		i = c
	}
}

func (ts *timers) add(when int64, fn func()) (slot int32, gen uint32) {
	if n := len(ts.free); n > 0 {
		slot = ts.free[n-1]
		ts.free = ts.free[:n-1]
	} else {
		ts.slots = append(ts.slots, timer{idx: free})
		slot = int32(len(ts.slots) - 1)
	}
	t := &ts.slots[slot]
	ts.seq++
	t.when, t.seq, t.fn, t.idx = when, ts.seq, fn, int32(len(ts.heap))
	ts.heap = append(ts.heap, slot)
	ts.up(len(ts.heap) - 1)
	return slot, t.gen
}

// remove takes slot out of the heap and frees it.
func (ts *timers) remove(slot int32) {
	i := int(ts.slots[slot].idx)
	last := len(ts.heap) - 1
	if i != last {
		ts.swap(i, last)
	}
	ts.heap = ts.heap[:last]
	if i != last {
		ts.down(i)
		ts.up(i)
	}
	ts.release(slot)
}

// release frees a slot; the generation bump makes every handle to it stale.
func (ts *timers) release(slot int32) {
	t := &ts.slots[slot]
	t.fn, t.idx = nil, free
	t.gen++
	ts.free = append(ts.free, slot)
}

// due moves every timer whose deadline has passed onto the loop's ready ring, earliest first.
func (ts *timers) due(l *Loop, now int64) {
	for len(ts.heap) > 0 {
		slot := ts.heap[0]
		t := &ts.slots[slot]
		if t.when > now {
			return
		}
		last := len(ts.heap) - 1
		ts.swap(0, last)
		ts.heap = ts.heap[:last]
		ts.down(0)
		t.idx = inReady
		t.readyID = l.ready.push(t.fn, slot+1)
		l.ctr.TimersFired++
	}
}

// TimerHandle is a callback scheduled by CallLater or CallAt (asyncio's TimerHandle). It is a small
// value: scheduling and cancelling allocate nothing once the timer table has grown, and any copy
// (one kept in a map per peer included) can cancel it.
type TimerHandle struct {
	l    *Loop
	when int64 // on the loop's clock
	slot int32
	gen  uint32
}

// Cancel keeps the callback from running, frees its timer at once, and reports whether it stopped
// the call: false if the callback already ran (or is running), was cancelled before, or the
// handle came from a closed loop. It is time.Timer's Stop in shape and asyncio's
// TimerHandle.cancel in effect; asyncio's cancelled() is what the first Cancel returned.
// Loop-only.
func (h TimerHandle) Cancel() bool {
	if h.l == nil || !h.l.onLoop("TimerHandle.Cancel") {
		return false // refused in debug mode: the callback still runs
	}
	ts := &h.l.timers
	if int(h.slot) >= len(ts.slots) || ts.slots[h.slot].gen != h.gen {
		return false // ran, or cancelled through a copy
	}
	switch t := &ts.slots[h.slot]; t.idx {
	case inReady:
		return h.l.ready.cancel(t.readyID) // released when the ring pops it
	case free:
		return false
	default:
		ts.remove(h.slot)
		return true
	}
}

// Pending reports whether the callback is still scheduled: not yet run and not cancelled (beyond
// asyncio; time.Timer's Stop result, without stopping). Loop-only.
func (h TimerHandle) Pending() bool {
	if h.l == nil || h.l.closed.Load() {
		return false
	}
	ts := &h.l.timers
	if int(h.slot) >= len(ts.slots) || ts.slots[h.slot].gen != h.gen {
		return false
	}
	switch t := &ts.slots[h.slot]; t.idx {
	case inReady:
		return h.l.ready.pending(t.readyID)
	case free:
		return false
	}
	return true
}

// When returns the time the callback is scheduled for, with a monotonic reading (asyncio's
// TimerHandle.when); the zero Time for a handle from a closed loop.
func (h TimerHandle) When() time.Time {
	if h.l == nil {
		return time.Time{}
	}
	return h.l.epoch.Add(time.Duration(h.when))
}

// CallLater schedules fn to run once, on the loop goroutine, d from now (asyncio's call_later).
// A d of zero or less runs it in the next batch; a d too large for the clock (math.MaxInt64)
// means never. Timers due at the same time run in the order they were scheduled. Loop-only; on a
// closed loop nothing is scheduled: the handle is not Pending.
func (l *Loop) CallLater(d time.Duration, fn func()) TimerHandle {
	now := l.now()
	when := int64(math.MaxInt64)
	if d <= 0 {
		when = now
	} else if int64(d) < math.MaxInt64-now {
		when = now + int64(d)
	}
	return l.callAt(when, fn, "CallLater")
}

// CallAt schedules fn to run once, on the loop goroutine, at t (asyncio's call_at). t is read on
// the monotonic clock when it carries a reading (as Time's result does). A t in the past, the zero
// Time included (an unset deadline), runs fn in the next batch. Loop-only.
func (l *Loop) CallAt(t time.Time, fn func()) TimerHandle {
	return l.callAt(int64(t.Sub(l.epoch)), fn, "CallAt") // Sub saturates
}

func (l *Loop) callAt(when int64, fn func(), op string) TimerHandle {
	if l.closed.Load() || !l.onLoop(op) {
		return TimerHandle{}
	}
	slot, gen := l.timers.add(when, fn)
	return TimerHandle{l: l, when: when, slot: slot, gen: gen}
}
