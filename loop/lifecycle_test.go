//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
)

// fakeConn is a resource as a transport is one: it owns a descriptor, and its ConnectionLost is
// scheduled by Abort, and runs at once by CloseNow. finish is what Shutdown does: nil finishes at
// once (a transport with nothing queued), otherwise the test calls it later.
type fakeConn struct {
	l        *loop.Loop
	fd       int
	lost     []error
	calls    []string
	slow     bool // Shutdown does not finish by itself (a peer that never reads)
	lostSent bool
	lostErr  error

	onShutdown func()
	onLost     func()
}

func newFake(t *testing.T, l *loop.Loop, slow bool) *fakeConn {
	t.Helper()
	fd := testfd.Socket(t)
	var err error
	c := &fakeConn{l: l, fd: fd, slow: slow}
	l.Do(context.Background(), func() { err = reactor.Of(l).Track(c) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *fakeConn) lose(err error) {
	if c.lostSent {
		return
	}
	c.lostSent, c.lostErr = true, err
	testfd.Close(c.fd)
	c.fd = -1
	c.l.CallSoon(func() { c.connectionLost(err) })
}

func (c *fakeConn) connectionLost(err error) {
	if len(c.lost) > 0 {
		return
	}
	c.lost = append(c.lost, err)
	reactor.Of(c.l).Untrack(c)
	if c.onLost != nil {
		c.onLost()
	}
}

func (c *fakeConn) Shutdown() {
	c.calls = append(c.calls, "Shutdown")
	if c.onShutdown != nil {
		c.onShutdown()
	}
	if !c.slow {
		c.lose(nil)
	}
}

func (c *fakeConn) Abort(err error) { c.calls = append(c.calls, "Abort"); c.lose(err) }

func (c *fakeConn) CloseNow(err error) {
	c.calls = append(c.calls, "CloseNow")
	if !c.lostSent {
		c.lostSent, c.lostErr = true, err
		testfd.Close(c.fd)
		c.fd = -1
	}
	c.connectionLost(c.lostErr)
}

func TestErrClosedMatchesNetErrClosed(t *testing.T) {
	if !errors.Is(loop.ErrClosed, net.ErrClosed) || !errors.Is(loop.ErrClosed, loop.ErrClosed) {
		t.Fatal("loop.ErrClosed does not match net.ErrClosed")
	}
	serr := &loop.ShutdownError{Cause: context.DeadlineExceeded}
	if !errors.Is(serr, net.ErrClosed) || !errors.Is(serr, context.DeadlineExceeded) {
		t.Fatal("ShutdownError does not match net.ErrClosed and its cause")
	}
}

// Close with live resources closes each once, runs its ConnectionLost with ErrClosed on the
// caller, and refuses resources made meanwhile.
func TestCloseClosesLiveResources(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := newFake(t, l, false), newFake(t, l, true)
	var lateErr error
	l.CallSoon(func() { t.Error("a callback dropped by Close ran") })
	// b was lost before Close (its ConnectionLost scheduled, not run): Close runs it with b's own
	// error.
	b.lose(errors.New("b's own"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if lateErr = reactor.Of(l).Track(&fakeConn{l: l}); !errors.Is(lateErr, loop.ErrClosed) {
		t.Fatalf("Track after Close = %v", lateErr)
	}
	if len(a.lost) != 1 || !errors.Is(a.lost[0], net.ErrClosed) || strings.Join(a.calls, ",") != "CloseNow" || a.fd != -1 {
		t.Fatalf("a: lost %v, calls %v, fd %d", a.lost, a.calls, a.fd)
	}
	if len(b.lost) != 1 || b.lost[0] == nil || b.lost[0].Error() != "b's own" {
		t.Fatalf("b: lost %v", b.lost)
	}
	if l.Close() != nil {
		t.Fatal("a second Close failed")
	}
}

// Shutdown: resources that finish are gone with ConnectionLost(nil); one that never finishes is
// aborted when ctx ends, with a *ShutdownError; the loop is stopped and closed, and Run returns.
func TestShutdownWaitsThenAborts(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fast, slow := newFake(t, l, false), newFake(t, l, true)
	done, err := l.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Start(context.Background()); !errors.Is(err, loop.ErrRunning) {
		t.Fatalf("second Start = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !l.IsClosed() {
		t.Fatal("Shutdown left the loop open")
	}
	if len(fast.lost) != 1 || fast.lost[0] != nil || strings.Join(fast.calls, ",") != "Shutdown" {
		t.Fatalf("fast: lost %v, calls %v", fast.lost, fast.calls)
	}
	var serr *loop.ShutdownError
	if len(slow.lost) != 1 || !errors.As(slow.lost[0], &serr) || !errors.Is(slow.lost[0], context.DeadlineExceeded) ||
		strings.Join(slow.calls, ",") != "Shutdown,Abort" {
		t.Fatalf("slow: lost %v, calls %v", slow.lost, slow.calls)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown of a closed loop = %v", err)
	}
}

// Shutdown of a loop nobody runs runs it while it waits, so that transports still flush; one whose
// Run ended by its context (the signal context of a server) is taken over the same way.
func TestShutdownRunsAStoppedLoop(t *testing.T) {
	for _, started := range []bool{false, true} {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := newFake(t, l, true)
		if started {
			ctx, cancel := context.WithCancel(context.Background())
			done, err := l.Start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			<-done
		}
		// The slow resource finishes 20 ms into the shutdown, on the loop: only a running loop gets there.
		l.CallSoon(func() { l.CallLater(20*time.Millisecond, func() { c.lose(nil) }) })
		if err := l.Shutdown(context.Background()); err != nil {
			t.Fatalf("started=%v: Shutdown = %v", started, err)
		}
		if len(c.lost) != 1 || c.lost[0] != nil || !l.IsClosed() {
			t.Fatalf("started=%v: lost %v, closed %v", started, c.lost, l.IsClosed())
		}
	}
}

func TestShutdownOnTheLoopIsRefused(t *testing.T) {
	l := newLoop(t, loop.Options{})
	var err error
	l.CallSoon(func() { err = l.Shutdown(context.Background()); l.Stop() })
	run(t, l)
	if err == nil || !strings.Contains(err.Error(), "block the loop") {
		t.Fatalf("Shutdown on the loop = %v", err)
	}
}

// Do with a context: a done context before the call runs nothing; a context that ends while the
// loop is busy takes fn back (it never runs); on a stopped loop fn runs directly.
func TestDoWithAContext(t *testing.T) {
	l := newLoop(t, loop.Options{})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Do(cancelled, func() { t.Error("ran with a done context") }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do(cancelled) = %v", err)
	}
	release := make(chan struct{})
	busy := make(chan struct{})
	l.CallSoon(func() { close(busy); <-release; l.Stop() })
	done := runAsync(l, context.Background())
	<-busy
	ctx, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	ran := false
	if err := l.Do(ctx, func() { ran = true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do on a busy loop = %v", err)
	}
	close(release)
	if err := done(); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Fatal("fn taken back after the deadline ran anyway")
	}
	// Stopped: Do runs fn on the caller, with a context that has a deadline too.
	ctx3, cancel3 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel3()
	if err := l.Do(ctx3, func() { ran = true }); err != nil || !ran {
		t.Fatalf("Do on a stopped loop = %v, ran %v", err, ran)
	}
}

// A panic in fn comes back from Do as a *PanicError, on the loop and directly.
func TestDoReturnsAPanic(t *testing.T) {
	l := newLoop(t, loop.Options{})
	got := exceptions(l)
	var pe *loop.PanicError
	if err := l.Do(context.Background(), func() { panic("direct") }); !errors.As(err, &pe) || pe.Value != "direct" {
		t.Fatalf("direct Do = %v", err)
	}
	done := runAsync(l, context.Background())
	var err error
	var wg sync.WaitGroup
	onLoop := errors.New("on the loop")
	wg.Go(func() { err = l.Do(context.Background(), func() { panic(onLoop) }) })
	wg.Wait()
	v, verr := loop.DoValue(context.Background(), l, func() int { return 42 })
	l.Stop()
	if derr := done(); derr != nil {
		t.Fatal(derr)
	}
	if !errors.As(err, &pe) || !errors.Is(err, onLoop) || len(pe.Stack) == 0 {
		t.Fatalf("Do through the loop = %v", err)
	}
	if v != 42 || verr != nil {
		t.Fatalf("DoValue = %v, %v", v, verr)
	}
	if len(*got) != 0 {
		t.Fatalf("a panic Do returned was reported too: %+v", *got)
	}
}

// Once Shutdown has begun, nothing new may join the loop: a resource made from a protocol's
// callback (here from the Shutdown of another) is refused with an error matching ErrClosed.
func TestShutdownRefusesNewResources(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newFake(t, l, false)
	var lateErr error
	done, err := l.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.onShutdown = func() { lateErr = reactor.Of(l).Track(&fakeConn{l: l}) }
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
	if !errors.Is(lateErr, loop.ErrClosed) || !errors.Is(lateErr, net.ErrClosed) {
		t.Fatalf("Track during Shutdown = %v", lateErr)
	}
}

// A loop stuck in a callback never takes the shutdown: Shutdown returns when its context ends
// instead of waiting for ever, and leaves the loop running.
//
// Fault: a callback that never returns → Shutdown ends with its context's error instead of hanging
func TestShutdownOfAStuckLoopEndsWithItsContext(t *testing.T) {
	l := newLoop(t, loop.Options{})
	stuck, release := make(chan struct{}), make(chan struct{})
	l.CallSoon(func() { close(stuck); <-release; l.Stop() })
	done := runAsync(l, context.Background())
	<-stuck
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown of a stuck loop = %v", err)
	}
	if l.IsClosed() {
		t.Fatal("Shutdown closed a loop it never reached")
	}
	close(release)
	if err := done(); err != nil {
		t.Fatal(err)
	}
}

// A protocol whose ConnectionLost panics while Close closes it is reported, and the others are
// still closed.
//
// Fault: a panic in one ConnectionLost during Loop.Close → reported; every other resource still closed
func TestClosePanicInOneConnectionLost(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	fakes := []*fakeConn{newFake(t, l, false), newFake(t, l, false), newFake(t, l, false)}
	fakes[1].onLost = func() { panic("ConnectionLost bug") }
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range fakes {
		if len(c.lost) != 1 || c.fd != -1 {
			t.Fatalf("fake %d: lost %v, fd %d", i, c.lost, c.fd)
		}
	}
	var pe *loop.PanicError
	if len(reports) != 1 || !errors.As(reports[0].Err, &pe) || pe.Value != "ConnectionLost bug" ||
		reports[0].Transport != any(fakes[1]) || !strings.HasSuffix(reports[0].Callback, ".CloseNow") {
		t.Fatalf("reports %+v", reports)
	}
}
