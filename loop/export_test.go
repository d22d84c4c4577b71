package loop

// RunOnce runs one iteration outside Run, polling without sleeping (as a pending stop does), so
// that tests and benchmarks can drive the loop step by step.
func (l *Loop) RunOnce() error {
	l.stopping.Store(true)
	defer l.stopping.Store(false)
	return l.runOnce(^uint64(0))
}

// TimerSlots is the size of the timer table, free slots included.
func (l *Loop) TimerSlots() int { return len(l.timers.slots) }

// HeapLen is the number of timers in the heap.
func (l *Loop) HeapLen() int { return l.timers.len() }

// Yields is how many times a poll that may sleep yielded to the scheduler first.
func (l *Loop) Yields() int64 { return l.yields }

// ThreadsafeLen is how many functions wait in CallSoonThreadsafe's queue.
func ThreadsafeLen(l *Loop) int { return int(l.tsqLen.Load()) }

// ErrNotRegistered is what a removed registration's methods return.
var ErrNotRegistered = errNotRegistered
