//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/loop"
)

// Fault: a panic in a callback → the exception handler hears it; the loop goes on
func TestPanicInCallbackIsReportedAndTheLoopGoesOn(t *testing.T) {
	l := newLoop(t, loop.Options{})
	got := exceptions(l)
	after := false
	l.CallSoon(func() { panic(io.ErrUnexpectedEOF) })
	l.CallSoon(func() { after = true; l.Stop() })
	run(t, l)
	if !after {
		t.Fatal("the callback after the panic did not run")
	}
	if len(*got) != 1 {
		t.Fatalf("%d exceptions, want 1", len(*got))
	}
	e := (*got)[0]
	var pe *loop.PanicError
	if !errors.As(e.Err, &pe) || !errors.Is(e.Err, io.ErrUnexpectedEOF) || e.Panic != io.ErrUnexpectedEOF {
		t.Fatalf("Err = %v, Panic = %v", e.Err, e.Panic)
	}
	if !strings.Contains(e.Callback, "TestPanicInCallbackIsReportedAndTheLoopGoesOn") {
		t.Fatalf("Callback = %q; want the callback's function named", e.Callback)
	}
	if !bytes.Contains(e.Stack, []byte("exception_test.go")) {
		t.Fatalf("stack does not show where it panicked:\n%s", e.Stack)
	}
	if s := l.Stats(); s.Panics != 1 || s.Exceptions != 1 {
		t.Fatalf("Stats = %+v", s)
	}
}

type panicky struct {
	countHandler
	lost error
}

func (p *panicky) OnReadable() { panic("boom") }
func (p *panicky) OnPanic(err error) {
	p.lost = err
}

func TestPanicInHandlerTellsThePanicHandler(t *testing.T) {
	l := newLoop(t, loop.Options{})
	got := exceptions(l)
	a, b := socketpair(t)
	h := &panicky{}
	r, err := reactor.Of(l).Register(a, h, reactor.Readable|reactor.Writable)
	if err != nil {
		t.Fatal(err)
	}
	writeByte(t, b)
	l.RunOnce()
	var pe *loop.PanicError
	if !errors.As(h.lost, &pe) || pe.Value != "boom" {
		t.Fatalf("OnPanic got %v", h.lost)
	}
	if h.write != 1 {
		t.Fatalf("OnWritable ran %d times; the event after the panic is still dispatched", h.write)
	}
	if len(*got) != 1 || (*got)[0].Transport != h || !strings.Contains((*got)[0].Callback, "OnReadable") {
		t.Fatalf("exceptions %+v", *got)
	}
	r.Unregister()
}

// userFacing is what a transport's handler names as its owner.
type userFacing struct{ name string }

type ownedPanicky struct {
	panicky
	owner *userFacing
}

func (o *ownedPanicky) Owner() any { return o.owner }

// A handler that names its owner (a transport's handler names the *Transport users hold) is reported
// as that owner, so that an exception handler can compare Exception.Transport with its transports.
func TestPanicReportNamesTheHandlersOwner(t *testing.T) {
	l := newLoop(t, loop.Options{})
	got := exceptions(l)
	a, b := socketpair(t)
	h := &ownedPanicky{owner: &userFacing{"mine"}}
	r, err := reactor.Of(l).Register(a, h, reactor.Readable)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Unregister()
	writeByte(t, b)
	l.RunOnce()
	if len(*got) != 1 || (*got)[0].Transport != any(h.owner) || (*got)[0].Callback != "*loop_test.userFacing.OnReadable" {
		t.Fatalf("exceptions %+v", *got)
	}
}

// Fault: a panic in the user's exception handler → reported by the default handler; the loop goes on
func TestPanicInExceptionHandlerFallsBackToTheDefault(t *testing.T) {
	var buf bytes.Buffer
	l := newLoop(t, loop.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	l.SetExceptionHandler(func(loop.Exception) { panic("handler broke") })
	l.CallSoon(func() { panic("callback broke") })
	l.CallSoon(l.Stop)
	run(t, l)
	out := buf.String()
	if !strings.Contains(out, "handler broke") || !strings.Contains(out, "callback broke") {
		t.Fatalf("log lacks one of the panics:\n%s", out)
	}
	l.SetExceptionHandler(nil)
	if l.ExceptionHandler() != nil {
		t.Fatal("SetExceptionHandler(nil) did not restore the default")
	}
}

func TestDefaultExceptionHandlerLogs(t *testing.T) {
	var buf bytes.Buffer
	l := newLoop(t, loop.Options{Name: "edge", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	l.CallSoon(func() { panic("boom") })
	l.CallSoon(l.Stop)
	run(t, l)
	out := buf.String()
	for _, want := range []string{"level=ERROR", "loop=edge", "panic: boom", "callback=", "TestDefaultExceptionHandlerLogs"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
