// Package testloop makes and runs loops for aioloop's tests: each loop is closed when its test
// ends, and each Run has a deadline, so that a loop that never stops fails its test instead of
// hanging the suite.
package testloop

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

// New makes a loop that is closed when the test ends; a failed Close fails the test.
func New(t testing.TB, opts loop.Options) *loop.Loop {
	t.Helper()
	l, err := loop.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// Run runs l until it stops, and fails the test if it ran into the deadline or failed.
func Run(t testing.TB, l *loop.Loop, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// Shutdown shuts l down gracefully within the deadline, and fails the test (naming what) if
// Shutdown fails or leaves the loop open.
func Shutdown(t testing.TB, l *loop.Loop, deadline time.Duration, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil || !l.IsClosed() {
		t.Fatalf("%s: Shutdown = %v, closed %v", what, err, l.IsClosed())
	}
}

// ForSeeds calls run with seeds 0, 1, ... and stops at the first that fails the test, naming it:
// n seeds by default, 20 with -short, AIOLOOP_SEEDS=N for a longer search, AIOLOOP_SEED=K to
// replay seed K alone.
func ForSeeds(t *testing.T, n int, run func(seed uint64)) {
	t.Helper()
	first := uint64(0)
	if k, err := strconv.ParseUint(os.Getenv("AIOLOOP_SEED"), 10, 64); err == nil {
		first, n = k, 1
	} else if v, err := strconv.Atoi(os.Getenv("AIOLOOP_SEEDS")); err == nil {
		n = v
	} else if testing.Short() {
		n = min(n, 20)
	}
	for seed := first; seed < first+uint64(n); seed++ {
		run(seed)
		if t.Failed() {
			t.Fatalf("seed %d failed (AIOLOOP_SEED=%d replays it)", seed, seed)
		}
	}
}

// FromAnotherGoroutine hands fn to l with CallSoonThreadsafe every d from a goroutine of its own,
// as a program's other goroutines do, until the returned stop is called (it waits for the
// goroutine) or l is closed. fn runs on the loop goroutine, among the loop's own callbacks.
func FromAnotherGoroutine(l *loop.Loop, d time.Duration, fn func()) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			if l.CallSoonThreadsafe(fn) != nil {
				return // closed
			}
		}
	}()
	return func() { close(quit); <-done }
}
