//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop_test

import (
	"context"
	"log/slog"
	"strings"
	"syscall"
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

// A descriptor closed before RemoveReader, while a duplicate keeps its file open, keeps firing in
// epoll; debug mode reports it, once.
func TestDebugReportsAStaleRegistration(t *testing.T) {
	l := newLoop(t, loop.Options{Debug: true})
	got := exceptions(l)
	a, b := socketpair(t)
	dup, err := syscall.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if err := l.AddReader(a, func() { calls++ }); err != nil {
		t.Fatal(err)
	}
	syscall.Close(a) // wrong: before RemoveReader
	syscall.Write(b, []byte("x"))
	for range 20 {
		if err := l.RunOnce(); err != nil {
			t.Fatal(err)
		}
	}
	if len(*got) != 1 || !strings.Contains((*got)[0].Message, "closed before") {
		t.Fatalf("reports %+v; want one about the fd closed before RemoveReader", *got)
	}
	l.RemoveReader(a)
	syscall.Close(dup) // the file's last descriptor: epoll lets go of it
	l.RunOnce()
}
