//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

func TestTimersRunInDeadlineOrder(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var got []string
	add := func(d time.Duration, name string) loop.TimerHandle {
		return l.CallLater(d, func() { got = append(got, name) })
	}
	start := l.Time()
	h30 := add(30*time.Millisecond, "30")
	add(10*time.Millisecond, "10a")
	add(20*time.Millisecond, "20")
	add(10*time.Millisecond, "10b") // same deadline as 10a at most: scheduled later, runs later
	l.CallAt(start.Add(25*time.Millisecond), func() { got = append(got, "at25") })
	add(-time.Second, "now") // a past deadline runs in the next batch
	l.CallLater(40*time.Millisecond, l.Stop)
	run(t, l)
	if s := strings.Join(got, " "); s != "now 10a 10b 20 at25 30" {
		t.Fatalf("order %q", s)
	}
	if w := h30.When(); w.Sub(start) < 30*time.Millisecond {
		t.Fatalf("When() = start+%v", w.Sub(start))
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("a 40ms timer fired after %v", d)
	}
}

func TestTimerCancel(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var got []string
	h := l.CallLater(5*time.Millisecond, func() { got = append(got, "cancelled") })
	if !h.Pending() || !h.Cancel() || h.Pending() || l.HeapLen() != 0 {
		t.Fatalf("after Cancel: pending=%v heap=%d", h.Pending(), l.HeapLen())
	}
	if h.Cancel() {
		t.Fatal("a second Cancel reported true")
	}
	// Two timers due together: the first cancels the second, which is already off the heap and
	// queued to run in the same batch. It must not run.
	var second loop.TimerHandle
	at := l.Time().Add(10 * time.Millisecond)
	l.CallAt(at, func() {
		got = append(got, "first")
		if !second.Pending() || !second.Cancel() { // due, queued in this batch: still stoppable
			t.Error("Cancel of a due timer queued behind this one: false")
		}
	})
	second = l.CallAt(at, func() { got = append(got, "second") })
	l.CallLater(20*time.Millisecond, l.Stop)
	run(t, l)
	if strings.Join(got, " ") != "first" {
		t.Fatalf("ran %v; want only first", got)
	}
	// A handle whose timer ran is stale: cancelling it must not touch the slot's next timer.
	var ran bool
	next := l.CallLater(time.Millisecond, func() { ran = true })
	if second.Cancel() || h.Cancel() || !next.Pending() {
		t.Fatal("a stale handle's Cancel reported true, or touched a newer timer")
	}
	l.CallLater(5*time.Millisecond, l.Stop)
	run(t, l)
	if !ran || next.Pending() || next.Cancel() {
		t.Fatal("cancelling a stale handle cancelled a newer timer")
	}
}

// Cancelled timers leave the heap at once and their slots are reused, so they cannot pile up: the
// property asyncio gets by compacting when more than half of its heap is cancelled.
func TestCancelledTimersDoNotPileUp(t *testing.T) {
	l := newLoop(t, loop.Options{})
	hs := make([]loop.TimerHandle, 10000)
	for i := range hs {
		hs[i] = l.CallLater(time.Duration(i+1)*time.Hour, func() {})
	}
	for i := range hs[1:] {
		hs[i+1].Cancel()
	}
	if n := l.HeapLen(); n != 1 {
		t.Fatalf("heap holds %d timers after cancelling 9999 of 10000", n)
	}
	slots := l.TimerSlots()
	for range 100000 {
		h := l.CallLater(time.Hour, func() {})
		h.Cancel()
	}
	if l.HeapLen() != 1 || l.TimerSlots() != slots {
		t.Fatalf("heap %d, slots %d -> %d after 100000 schedule+cancel", l.HeapLen(), slots, l.TimerSlots())
	}
	// The survivor is still the one that fires.
	fired := false
	hs[0].Cancel()
	l.CallLater(0, func() { fired = true; l.Stop() })
	run(t, l)
	if !fired || l.HeapLen() != 0 {
		t.Fatalf("fired=%v heap=%d", fired, l.HeapLen())
	}
}
