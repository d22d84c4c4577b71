package loop

import "sync/atomic"

// Stats is a snapshot of a loop's counters (beyond asyncio). The counters only grow; the last three
// fields are the sizes at the time of the snapshot.
type Stats struct {
	Iterations    uint64 // polls
	Callbacks     uint64 // callbacks run, timers included
	Events        uint64 // readiness events dispatched
	TimersFired   uint64 // timers that came due
	Panics        uint64 // panics recovered and reported (transports' protocol panics included)
	Exceptions    uint64 // reports handed to the exception handler
	Ready         int    // callbacks waiting for the next batch
	Timers        int    // timers scheduled and not yet due
	Registrations int    // file descriptors registered
}

// published is the copy of the counters that other goroutines read: the loop goroutine counts in
// plain fields and stores them here once per iteration, not once per event.
type published struct {
	iterations, callbacks, events, timersFired, panics, exceptions atomic.Uint64
	ready, timers, registrations                                   atomic.Int64
}

func (l *Loop) publish() {
	p, c := &l.pub, &l.ctr
	p.iterations.Store(c.Iterations)
	p.callbacks.Store(c.Callbacks)
	p.events.Store(c.Events)
	p.timersFired.Store(c.TimersFired)
	p.panics.Store(c.Panics)
	p.exceptions.Store(c.Exceptions)
	p.ready.Store(int64(l.ready.n))
	p.timers.Store(int64(l.timers.len()))
	p.registrations.Store(int64(l.fds.count))
}

// Stats returns the counters as of the end of the last loop iteration (or of Run or Close), without
// a lock. Any goroutine; from a callback it does not yet count the current iteration.
func (l *Loop) Stats() Stats {
	p := &l.pub
	return Stats{
		Iterations:    p.iterations.Load(),
		Callbacks:     p.callbacks.Load(),
		Events:        p.events.Load(),
		TimersFired:   p.timersFired.Load(),
		Panics:        p.panics.Load(),
		Exceptions:    p.exceptions.Load(),
		Ready:         int(p.ready.Load()),
		Timers:        int(p.timers.Load()),
		Registrations: int(p.registrations.Load()),
	}
}
