//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

// A loop that keeps sleeping briefly still passes through the scheduler now and then (about once
// a millisecond before a poll that may sleep): one that never does is, to sysmon, a goroutine that
// will not yield, and it then takes the loop's P on every tick (see Loop.poll).
func TestSleepingLoopYieldsToTheScheduler(t *testing.T) {
	l := newLoop(t, loop.Options{})
	start := time.Now()
	ticks := 0
	var tick func()
	tick = func() {
		ticks++
		if ticks >= 100 && time.Since(start) >= 20*time.Millisecond {
			l.Stop()
			return
		}
		l.CallLater(200*time.Microsecond, tick)
	}
	l.CallSoon(tick)
	run(t, l)
	// At least 20 ms were spent in at least 100 sleeps: a yield a millisecond gives about 20; a
	// loop starved by a busy machine gives fewer, but never none.
	if y := l.Yields(); y < 3 {
		t.Fatalf("%d yields in %d sleeps over %v", y, ticks, time.Since(start))
	}
}
