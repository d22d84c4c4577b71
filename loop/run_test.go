//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

func TestNewRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		opts  loop.Options
		field string
	}{
		{loop.Options{SlowCallbackDuration: -1}, "SlowCallbackDuration"},
		{loop.Options{MaxEvents: -1}, "MaxEvents"},
		{loop.Options{MaxEvents: 257}, "MaxEvents"},
	} {
		if _, err := loop.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%+v) = %v; want an error naming %s", tc.opts, err, tc.field)
		}
	}
}

func TestStopBeforeRunRunsOneIteration(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var ran []string
	l.CallSoon(func() {
		ran = append(ran, "first")
		l.CallSoon(func() { ran = append(ran, "next iteration") })
	})
	l.Stop()
	run(t, l)
	if len(ran) != 1 || ran[0] != "first" {
		t.Fatalf("ran %v; want only the callback that was ready", ran)
	}
	// The stop is consumed: the next Run goes on until stopped again.
	l.CallSoon(l.Stop)
	run(t, l)
	if len(ran) != 2 {
		t.Fatalf("ran %v after the second Run", ran)
	}
}

func TestStopFromCallbackFinishesTheBatch(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var ran []string
	l.CallSoon(func() { ran = append(ran, "a"); l.CallSoon(func() { ran = append(ran, "later") }) })
	l.CallSoon(func() { ran = append(ran, "b"); l.Stop() })
	l.CallSoon(func() { ran = append(ran, "c") })
	run(t, l)
	if strings.Join(ran, ",") != "a,b,c" {
		t.Fatalf("ran %v; want a,b,c (the batch finishes, the next one waits)", ran)
	}
}

func TestStopFromAnotherGoroutineWakesAnIdleLoop(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for !l.IsRunning() {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond) // let it reach its sleeping poll
		l.Stop()
	})
	run(t, l) // nothing scheduled: only Stop's wake-up can end this
	wg.Wait()
	if l.IsRunning() {
		t.Fatal("IsRunning after Run returned")
	}
}

func TestRunEndsWhenContextIsDone(t *testing.T) {
	l := newLoop(t, loop.Options{})
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("shutting down")
	l.CallSoon(func() { time.AfterFunc(10*time.Millisecond, func() { cancel(cause) }) })
	if err := l.Run(ctx); !errors.Is(err, cause) {
		t.Fatalf("Run = %v; want the context's cause", err)
	}
	// A done context returns at once and runs nothing.
	ran := false
	l.CallSoon(func() { ran = true })
	if err := l.Run(ctx); !errors.Is(err, cause) || ran {
		t.Fatalf("Run on a done context = %v, ran=%v", err, ran)
	}
	// The old context's stop does not leak into a new Run.
	l.CallSoon(func() { l.CallLater(20*time.Millisecond, l.Stop) })
	run(t, l)
	if !ran {
		t.Fatal("callback did not run")
	}
}

func TestRunWhileRunningAndAfterClose(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var inner, closeErr error
	l.CallSoon(func() {
		inner = l.Run(context.Background())
		closeErr = l.Close()
		l.Stop()
	})
	run(t, l)
	if !errors.Is(inner, loop.ErrRunning) || !errors.Is(closeErr, loop.ErrRunning) {
		t.Fatalf("Run inside Run = %v, Close inside Run = %v; want ErrRunning", inner, closeErr)
	}
	if err := l.Close(); err != nil || !l.IsClosed() {
		t.Fatalf("Close = %v, IsClosed = %v", err, l.IsClosed())
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := l.Run(context.Background()); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("Run after Close = %v", err)
	}
}

func TestCloseDropsPendingWork(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := socketpair(t)
	ran := 0
	l.CallSoon(func() { ran++ })
	l.CallLater(time.Millisecond, func() { ran++ })
	if err := l.CallSoonThreadsafe(func() { ran++ }); err != nil {
		t.Fatal(err)
	}
	if err := l.AddReader(a, func() { ran++ }); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if ran != 0 {
		t.Fatalf("%d callbacks ran during Close", ran)
	}
	if err := l.CallSoonThreadsafe(func() {}); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("CallSoonThreadsafe after Close = %v", err)
	}
	if h := l.CallSoon(func() {}); h.Pending() || h.Cancel() {
		t.Fatal("CallSoon after Close: handle pending")
	}
	if h := l.CallLater(0, func() {}); h.Pending() || h.Cancel() {
		t.Fatal("CallLater after Close: handle pending")
	}
	if err := l.AddReader(a, func() {}); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("AddReader after Close = %v", err)
	}
	if s := l.Stats(); s.Ready != 0 || s.Timers != 0 || s.Registrations != 0 {
		t.Fatalf("Stats after Close = %+v", s)
	}
}

func TestTimeIsMonotonic(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a := l.Time()
	b := l.Time()
	if b.Before(a) || !strings.Contains(a.String(), "m=") {
		t.Fatalf("Time() = %v then %v; want a monotonic reading that does not go back", a, b)
	}
}

func TestStatsCountWhatRan(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a, b := socketpair(t)
	if err := l.AddReader(a, func() { l.RemoveReader(a) }); err != nil {
		t.Fatal(err)
	}
	writeByte(t, b)
	for range 4 {
		l.CallSoon(func() {})
	}
	// A ready callback schedules the stop: ready callbacks run after the iteration's due timers
	// are taken, so this timer comes due in the next iteration at the earliest, however slow the
	// clock (a 1 ms timer set up front was already due in the first iteration under Wine, and
	// everything ran in one).
	l.CallSoon(func() { l.CallLater(0, l.Stop) })
	l.CallLater(time.Hour, func() {})
	run(t, l)
	s := l.Stats()
	if s.Callbacks != 6 || s.TimersFired != 1 || s.Events != 1 || s.Iterations < 2 || s.Timers != 1 || s.Registrations != 0 {
		t.Fatalf("Stats = %+v; want 6 callbacks, 1 timer fired, 1 event, 1 timer pending, no registration", s)
	}
}
