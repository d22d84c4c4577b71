//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

func TestCallSoonFIFOEachOnce(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var got []int
	for i := range 1000 { // past the ring's first growth
		l.CallSoon(func() { got = append(got, i) })
	}
	l.CallSoon(l.Stop)
	run(t, l)
	if len(got) != 1000 {
		t.Fatalf("%d callbacks ran, want 1000", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("callback %d ran at position %d", v, i)
		}
	}
}

func TestHandleCancel(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var got []string
	a := l.CallSoon(func() { got = append(got, "a") })
	var c loop.Handle
	l.CallSoon(func() { got = append(got, "b"); c.Cancel() }) // c is in the same batch, not yet run
	c = l.CallSoon(func() { got = append(got, "c") })
	l.CallSoon(func() { got = append(got, "d"); l.Stop() })
	if !a.Pending() || !a.Cancel() || a.Pending() || a.Cancel() {
		t.Fatal("Cancel of a pending handle: want true, then not pending, then false")
	}
	run(t, l)
	if len(got) != 2 || got[0] != "b" || got[1] != "d" {
		t.Fatalf("ran %v; want b, d", got)
	}
	// Cancel after the callback ran changes nothing and says so, as time.Timer.Stop does.
	h := l.CallSoon(func() { l.Stop() })
	run(t, l)
	if h.Pending() || h.Cancel() {
		t.Fatal("a handle that ran: Pending or Cancel reported true")
	}
	// Any copy cancels: handles kept in a map (the pointer receiver made that impossible).
	byPeer := map[string]loop.Handle{"a": l.CallSoon(func() { t.Error("cancelled callback ran") })}
	if !byPeer["a"].Cancel() {
		t.Fatal("Cancel through a map value: false")
	}
}

// 64 goroutines call CallSoonThreadsafe at once; every callback runs once, on the loop goroutine,
// and each goroutine's callbacks run in the order it made them. Run under -race.
//
// Fault: CallSoonThreadsafe from many goroutines at once → every callback runs once, in each goroutine's order
func TestCallSoonThreadsafeFromManyGoroutines(t *testing.T) {
	l := newLoop(t, loop.Options{})
	const goroutines, each = 64, 200
	var last [goroutines]int // loop goroutine only
	total := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		last[g] = -1
		wg.Go(func() {
			<-start
			for i := range each {
				err := l.CallSoonThreadsafe(func() {
					if last[g] != i-1 {
						t.Errorf("goroutine %d: callback %d ran after %d", g, i, last[g])
					}
					last[g] = i
					if total++; total == goroutines*each {
						l.Stop()
					}
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	l.CallSoon(func() { close(start) })
	run(t, l)
	wg.Wait()
	if total != goroutines*each {
		t.Fatalf("%d callbacks ran, want %d", total, goroutines*each)
	}
}

func TestCallSoonThreadsafeWakesAnIdleLoop(t *testing.T) {
	l := newLoop(t, loop.Options{})
	go func() {
		// CallSoonThreadsafe is fine before Run too; waiting exercises the wake-up of a sleeping poll.
		for !l.IsRunning() {
			runtime.Gosched()
		}
		time.Sleep(10 * time.Millisecond)
		l.CallSoonThreadsafe(l.Stop)
	}()
	run(t, l)
}
