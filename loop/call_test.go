//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/loop"
)

func TestDoRunsOnTheLoopGoroutine(t *testing.T) {
	l := newLoop(t, loop.Options{Debug: true}) // debug mode: a CallSoon off the loop would be refused
	got := exceptions(l)
	// Not running: Do runs fn at once on the caller.
	ran := false
	if err := l.Do(context.Background(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("Do before Run = %v, ran=%v", err, ran)
	}
	var wg sync.WaitGroup
	order := []string{}
	l.CallSoon(func() {
		// On the loop goroutine: at once.
		l.Do(context.Background(), func() { order = append(order, "direct") })
		wg.Go(func() {
			// From another goroutine: through the loop, which may use loop-only methods inside.
			err := l.Do(context.Background(), func() {
				h := l.CallSoon(func() { order = append(order, "scheduled by Do"); l.Stop() })
				if !h.Pending() {
					t.Error("CallSoon inside Do was refused")
				}
				order = append(order, "via loop")
			})
			if err != nil {
				t.Error(err)
			}
		})
	})
	run(t, l)
	wg.Wait()
	if len(order) != 3 || order[0] != "direct" || order[1] != "via loop" || len(*got) != 0 {
		t.Fatalf("order %v, reports %+v", order, *got)
	}
}

func TestDoAfterCloseAndLocal(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{}
	made := 0
	mk := func() any { made++; return &made }
	if a, b := reactor.Of(l).Local(key{}, mk), reactor.Of(l).Local(key{}, mk); a != b || made != 1 {
		t.Fatalf("Local made %d values", made)
	}
	l.Close()
	if err := l.Do(context.Background(), func() { t.Error("ran after Close") }); !errors.Is(err, loop.ErrClosed) {
		t.Fatalf("Do after Close = %v", err)
	}
}
