//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/aioloop/aioloop/loop"
)

// panickyLog is a slog handler that panics on every record.
type panickyLog struct{ slog.Handler }

func (panickyLog) Enabled(context.Context, slog.Level) bool  { return true }
func (panickyLog) Handle(context.Context, slog.Record) error { panic("the log handler failed") }

// A panic in the default exception handler (its logger's handler) stays inside the loop, as
// asyncio guards default_exception_handler: Run goes on.
func TestPanicInTheDefaultExceptionHandlerIsContained(t *testing.T) {
	l := newLoop(t, loop.Options{Logger: slog.New(panickyLog{})})
	ran := false
	l.CallSoon(func() { panic("a callback bug") })
	l.CallSoon(func() { ran = true; l.Stop() })
	run(t, l)
	if !ran || l.Stats().Panics != 1 {
		t.Fatalf("ran %v, panics %d", ran, l.Stats().Panics)
	}
	// A user handler that panics falls back to the default, which panics too: still contained.
	l.SetExceptionHandler(func(loop.Exception) { panic("the user's handler failed") })
	l.CallSoon(func() { panic("another bug") })
	l.CallSoon(l.Stop)
	run(t, l)
}
