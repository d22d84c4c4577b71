//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"

	"github.com/aioloop/aioloop/loop"
)

// Steady state allocates nothing: these run whole loop iterations (poll included) after a warm-up
// that grows the queues to their working size.

func TestCallSoonDoesNotAllocate(t *testing.T) {
	l := newLoop(t, loop.Options{})
	n := 0
	fn := func() { n++ }
	allocs := testing.AllocsPerRun(1000, func() {
		l.CallSoon(fn)
		l.RunOnce()
	})
	if allocs != 0 || n != 1001 {
		t.Fatalf("CallSoon + iteration: %v allocations (ran %d)", allocs, n)
	}
}

func TestCallLaterAndCancelDoNotAllocate(t *testing.T) {
	l := newLoop(t, loop.Options{})
	fn := func() {}
	allocs := testing.AllocsPerRun(1000, func() {
		h := l.CallLater(time.Hour, fn)
		h.Cancel()
	})
	if allocs != 0 || l.TimerSlots() != 1 {
		t.Fatalf("CallLater + Cancel: %v allocations, %d timer slots", allocs, l.TimerSlots())
	}
	fired := 0
	fire := func() { fired++ }
	allocs = testing.AllocsPerRun(1000, func() {
		l.CallLater(0, fire)
		l.RunOnce()
	})
	if allocs != 0 || fired != 1001 {
		t.Fatalf("CallLater + fire: %v allocations (fired %d)", allocs, fired)
	}
}

func TestDispatchDoesNotAllocate(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a, b, h, r := registered(t, l)
	defer r.Unregister()
	writeByte(t, b) // stays unread: level-triggered, so every iteration dispatches it
	allocs := testing.AllocsPerRun(1000, func() { l.RunOnce() })
	if allocs != 0 || h.reads != 1001 {
		t.Fatalf("readiness dispatch: %v allocations (%d reads)", allocs, h.reads)
	}
	// The same through AddReader's watch, with a read and a write each round (a round trip).
	r.Unregister()
	var buf [1]byte
	if err := l.AddReader(a, func() { testfd.Read(a, buf[:]) }); err != nil {
		t.Fatal(err)
	}
	defer l.RemoveReader(a)
	one := []byte{1}
	allocs = testing.AllocsPerRun(1000, func() {
		testfd.Write(b, one)
		l.RunOnce()
	})
	if allocs != 0 {
		t.Fatalf("AddReader round trip: %v allocations", allocs)
	}
}

func TestCallSoonThreadsafeDoesNotAllocate(t *testing.T) {
	l := newLoop(t, loop.Options{})
	fn := func() {}
	allocs := testing.AllocsPerRun(1000, func() {
		l.CallSoonThreadsafe(fn)
		l.RunOnce()
	})
	if allocs != 0 {
		t.Fatalf("CallSoonThreadsafe + iteration: %v allocations", allocs)
	}
}
