//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"bytes"
	"errors"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

func TestDebugReportsLoopOnlyCallsFromOtherGoroutines(t *testing.T) {
	l := newLoop(t, loop.Options{Debug: true})
	got := exceptions(l)
	a, _ := socketpair(t)
	var h loop.Handle
	var th loop.TimerHandle
	var addErr error
	ran := false
	l.CallSoon(func() {
		var wg sync.WaitGroup
		wg.Go(func() {
			h = l.CallSoon(func() { ran = true })
			th = l.CallLater(0, func() { ran = true })
			addErr = l.AddReader(a, func() {})
		})
		wg.Wait()
		l.CallLater(10*time.Millisecond, l.Stop) // let the reports arrive
	})
	run(t, l)
	if ran || h.Pending() || th.Pending() || !errors.Is(addErr, loop.ErrNotLoopGoroutine) {
		t.Fatalf("ran=%v handle pending=%v timer pending=%v AddReader=%v", ran, h.Pending(), th.Pending(), addErr)
	}
	if len(*got) != 3 {
		t.Fatalf("%d reports, want 3: %+v", len(*got), *got)
	}
	for i, op := range []string{"CallSoon", "CallLater", "AddReader"} {
		e := (*got)[i]
		if !errors.Is(e.Err, loop.ErrNotLoopGoroutine) || !strings.HasPrefix(e.Message, op+" called from goroutine") {
			t.Errorf("report %d: %q", i, e.Message)
		}
	}
	// Outside Run the same calls are allowed (setting up the loop), and without debug mode they
	// are not checked.
	if h := l.CallSoon(func() {}); !h.Pending() {
		t.Fatal("CallSoon before Run refused")
	}
}

func TestDebugReportsSlowCallbacks(t *testing.T) {
	l := newLoop(t, loop.Options{SlowCallbackDuration: 5 * time.Millisecond})
	got := exceptions(l)
	slow := func() { time.Sleep(10 * time.Millisecond) }
	l.CallSoon(slow)
	l.CallSoon(l.Stop)
	run(t, l)
	if len(*got) != 0 {
		t.Fatalf("reports outside debug mode: %+v", *got)
	}
	l.SetDebug(true)
	if !l.Debug() {
		t.Fatal("Debug() false after SetDebug(true)")
	}
	l.CallSoon(slow)
	l.CallSoon(l.Stop)
	run(t, l)
	if len(*got) != 1 || !strings.HasPrefix((*got)[0].Message, "slow callback: executing ") ||
		!strings.Contains((*got)[0].Callback, "TestDebugReportsSlowCallbacks") || (*got)[0].Err != nil {
		t.Fatalf("reports %+v", *got)
	}
}

func TestRunCarriesThePprofLabel(t *testing.T) {
	l := newLoop(t, loop.Options{Name: "label-probe"})
	var prof bytes.Buffer
	l.CallSoon(func() {
		pprof.Lookup("goroutine").WriteTo(&prof, 1)
		l.Stop()
	})
	run(t, l)
	if !strings.Contains(prof.String(), `"aioloop.loop":"label-probe"`) {
		t.Fatalf("goroutine profile lacks the loop's label:\n%s", prof.String())
	}
}
