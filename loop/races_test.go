//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/loop"
)

// stress is how many rounds the race tests run: each failed in most rounds before its fix, so
// that this many failed every run (the counts are in the commit that fixed them).
const stress = 200

// runAsync runs l on a new goroutine and returns a function that waits for Run's result.
func runAsync(l *loop.Loop, ctx context.Context) func() error {
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	for !l.IsRunning() {
		time.Sleep(10 * time.Microsecond)
	}
	return func() error { return <-done }
}

// Do returns nil whenever fn ran, even when the loop stops and closes right after it: several
// goroutines race their Do against a loop that stops after the first fn and is closed at once.
func TestDoNeverReportsClosedAfterFnRan(t *testing.T) {
	const callers = 8
	for i := range stress {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() { l.Run(context.Background()); l.Close(); close(closed) }()
		for !l.IsRunning() {
			time.Sleep(10 * time.Microsecond)
		}
		var ran [callers]bool
		var errs [callers]error
		var wg sync.WaitGroup
		for k := range callers {
			wg.Go(func() { errs[k] = l.Do(context.Background(), func() { ran[k] = true; l.Stop() }) })
		}
		wg.Wait()
		<-closed
		for k := range callers {
			if ran[k] && errs[k] != nil {
				t.Fatalf("round %d: fn %d ran and Do returned %v", i, k, errs[k])
			}
			if !ran[k] && !errors.Is(errs[k], loop.ErrClosed) {
				t.Fatalf("round %d: fn %d did not run and Do returned %v", i, k, errs[k])
			}
		}
	}
}

// Close from another goroutine waits for a Do that runs fn directly (the loop not running): no
// data race on the loop's tables, no crash in Local.
func TestCloseWaitsForADirectDo(t *testing.T) {
	type key struct{}
	for range stress {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := socketpair(t)
		var wg sync.WaitGroup
		wg.Go(func() { l.Close() })
		err = l.Do(context.Background(), func() {
			for range 20 {
				reactor.Of(l).Local(key{}, func() any { return new(int) })
				if l.AddReader(a, func() {}) == nil {
					l.RemoveReader(a)
				}
				l.CallSoon(func() {})
			}
		})
		wg.Wait()
		if err != nil && !errors.Is(err, loop.ErrClosed) {
			t.Fatal(err)
		}
	}
}

// Do does not hang when the loop stops with fn queued and is not run again: fn is taken back and
// run on the caller.
func TestDoDoesNotHangOnAStoppedLoop(t *testing.T) {
	l := newLoop(t, loop.Options{})
	wait := runAsync(l, context.Background())
	ran := make(chan error, 1)
	l.CallSoonThreadsafe(func() {
		go func() { ran <- l.Do(context.Background(), func() {}) }()
		for loop.ThreadsafeLen(l) == 0 { // the Do above has queued its fn
			time.Sleep(10 * time.Microsecond)
		}
		l.Stop() // this iteration ends the Run; the queued fn is left for a Run that never comes
	})
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Do = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Do still waits for a loop that stopped")
	}
	// The entry left in the queue does not run fn a second time.
	l.Stop()
	run(t, l)
}

// The context.AfterFunc of an earlier Run, cancelled as that Run stopped, must not hide the next
// Run's own cancelled context.
func TestEarlierRunsContextDoesNotHideTheNextOnes(t *testing.T) {
	l := newLoop(t, loop.Options{})
	for i := range stress {
		ctx1, cancel1 := context.WithCancel(context.Background())
		l.CallSoon(func() { cancel1(); l.Stop() })
		l.Run(ctx1)
		ctx2, cancel2 := context.WithCancel(context.Background())
		l.CallSoon(cancel2)
		guard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stopAtGuard := context.AfterFunc(guard, l.Stop)
		err := l.Run(ctx2)
		stopAtGuard()
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Run with its context cancelled returned %v", i, err)
		}
	}
}

// Run called from a function that Do runs directly is refused at once.
func TestRunInsideADirectDoIsRefused(t *testing.T) {
	l := newLoop(t, loop.Options{})
	done := make(chan error, 1)
	go func() {
		var err error
		l.Do(context.Background(), func() { err = l.Run(context.Background()) })
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, loop.ErrRunning) {
			t.Fatalf("Run inside Do = %v; want an error matching ErrRunning", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run inside Do deadlocked")
	}
}

// CallAt with the zero time.Time (an unset deadline) is due at once.
func TestCallAtZeroTimeRunsAtOnce(t *testing.T) {
	l := newLoop(t, loop.Options{})
	l.CallAt(time.Time{}, l.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatalf("Run = %v: the timer at the zero time never ran", err)
	}
}

// CallLater with the largest duration means never; a timer beside it runs on time.
func TestCallLaterNever(t *testing.T) {
	l := newLoop(t, loop.Options{})
	fired := false
	never := l.CallLater(math.MaxInt64, func() { fired = true })
	l.CallLater(math.MinInt64, func() {}) // the smallest: at once
	start := time.Now()
	l.CallLater(20*time.Millisecond, l.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if fired {
		t.Fatal("the timer for never fired")
	}
	if never.When().Before(start.Add(100 * 365 * 24 * time.Hour)) {
		t.Fatalf("never is scheduled at %v", never.When())
	}
	never.Cancel()
}

// In debug mode a Cancel from another goroutine is refused: the handle must not say it is
// cancelled, and the callback runs.
func TestRefusedCancelReportsFalse(t *testing.T) {
	l := newLoop(t, loop.Options{Debug: true})
	got := exceptions(l)
	var soonRan, laterRan bool
	l.CallSoon(func() {
		h := l.CallSoon(func() { soonRan = true })
		th := l.CallLater(time.Millisecond, func() { laterRan = true; l.CallLater(10*time.Millisecond, l.Stop) })
		var wg sync.WaitGroup
		wg.Go(func() {
			if h.Cancel() || th.Cancel() {
				t.Error("refused Cancel reported true")
			}
		})
		wg.Wait()
	})
	run(t, l)
	if !soonRan || !laterRan {
		t.Fatalf("callbacks ran: %v %v", soonRan, laterRan)
	}
	if len(*got) != 2 || !errors.Is((*got)[0].Err, loop.ErrNotLoopGoroutine) {
		t.Fatalf("reports %+v", *got)
	}
}

// Runs that start and stop (by Stop and by their contexts) while other goroutines call Do,
// CallSoonThreadsafe and Stop, and a Close while they still do: every Do returns nil exactly when
// its fn ran (ErrClosed otherwise), every fn runs at most once, nothing deadlocks, and -race sees
// no race.
func TestDoAndRunsUnderChurn(t *testing.T) {
	for round := range 50 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		runner := make(chan struct{})
		go func() {
			defer close(runner)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%3)*100*time.Microsecond)
				l.Run(ctx)
				cancel()
			}
		}()
		const callers, calls = 4, 50
		var runs [callers][calls]int
		var errs [callers][calls]error
		var wg sync.WaitGroup
		for k := range callers {
			wg.Go(func() {
				for i := range calls {
					errs[k][i] = l.Do(context.Background(), func() { runs[k][i]++; l.CallSoon(func() {}) })
					switch i % 7 {
					case 3:
						l.Stop()
					case 5:
						l.CallSoonThreadsafe(func() {})
					}
				}
			})
		}
		time.Sleep(time.Duration(round%5) * 200 * time.Microsecond)
		close(stop)
		<-runner
		l.Close() // the callers may still be calling Do
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: a Do never returned", round)
		}
		for k := range callers {
			for i := range calls {
				if runs[k][i] > 1 || (runs[k][i] == 1) != (errs[k][i] == nil) {
					t.Fatalf("round %d: fn ran %d times, Do returned %v", round, runs[k][i], errs[k][i])
				}
			}
		}
	}
}
