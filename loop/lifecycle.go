package loop

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/aioloop/aioloop/internal/reactor"
)

// Close closes the loop (asyncio's close). First it closes what the loop's transports and servers
// own: each transport's socket is closed at once, without flushing what it had queued, and its
// protocol's ConnectionLost runs before Close returns, on the goroutine that called Close, with
// an error matching ErrClosed and net.ErrClosed (or with the error it was already closing with);
// each server stops listening. Creating a transport from one of those ConnectionLost calls fails
// with ErrClosed. Then it releases the poller and drops every pending callback, timer and
// registration without running them. Descriptors that AddReader or AddWriter watch are the
// caller's and stay open, as in asyncio.
//
// To close transports gracefully (flushing their queues) use Shutdown. libuv's uv_loop_close
// refuses to close a loop with live handles; Close closes them instead, so that the shutdown a Go
// user writes first (cancel the context, Close the loop) leaves no descriptor open.
//
// It returns ErrRunning while the loop runs; a second Close returns nil. Any goroutine; it waits
// for a Do that is running its function directly.
func (l *Loop) Close() error {
	me := goroutineID()
	if l.setupOwner.Load() != me { // inside a Do's function, the caller holds setupMu already
		l.setupMu.Lock()
		l.setupOwner.Store(me) // a Do from a ConnectionLost that Close runs runs directly
		defer func() {
			l.setupOwner.Store(0)
			l.setupMu.Unlock()
		}()
	}
	if l.running.Load() {
		return ErrRunning
	}
	if l.closed.Load() {
		return nil
	}
	l.closeResources()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) {
		return nil
	}
	clear(l.tsq)
	l.tsq = nil
	l.tsqLen.Store(0)
	l.ready = ring{}
	l.timers = timers{}
	l.fds.init()
	l.locals = nil
	l.publish()
	if err := l.p.Close(); err != nil {
		return fmt.Errorf("loop: close poller: %w", err)
	}
	return nil
}

// closeResources closes every transport and server at once, running their ConnectionLost; from
// Close, with setupMu held and the loop not running. A resource made meanwhile (from a
// ConnectionLost) is refused: closing is set first.
func (l *Loop) closeResources() {
	l.closing = true
	defer func() { l.closing = false }()
	for len(l.owned) > 0 {
		for r := range l.owned {
			delete(l.owned, r)
			l.guard(r, "CloseNow", func() { r.CloseNow(ErrClosed) })
		}
	}
	for _, c := range l.drained {
		close(c)
	}
	l.drained = nil
}

// Start runs the loop on a new goroutine until Stop is called, ctx is done, or Shutdown, and
// returns once it runs (beyond asyncio, whose run_forever takes the calling thread). The channel
// receives what Run returned, then is closed. It returns Run's error at once when the loop cannot
// run (ErrRunning, ErrClosed, a done ctx). Any goroutine.
//
// ctx stops the loop, but closes nothing: to end a server, call Shutdown (graceful) or Close once
// the loop has stopped. Give Start a context that outlives the shutdown, since Shutdown needs the
// loop to flush.
func (l *Loop) Start(ctx context.Context) (<-chan error, error) {
	started := make(chan struct{})
	failed := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		ran := false
		err := l.run(ctx, func() { ran = true; close(started) })
		if !ran {
			failed <- err
			return
		}
		done <- err
		close(done)
	}()
	select {
	case <-started:
		return done, nil
	case err := <-failed:
		return nil, err
	}
}

// ShutdownError is the error ConnectionLost receives when Shutdown's context ended before the
// transport finished closing, and Shutdown aborted it. It matches ErrClosed and net.ErrClosed, and
// the context's cause (context.DeadlineExceeded for a timeout).
type ShutdownError struct {
	Cause error // context.Cause of Shutdown's context
}

// Error says that Shutdown aborted the transport, and why.
func (e *ShutdownError) Error() string {
	return "loop: Shutdown aborted the transport: " + e.Cause.Error()
}

// Unwrap returns ErrClosed and the cause.
func (e *ShutdownError) Unwrap() []error { return []error{ErrClosed, e.Cause} }

// Shutdown closes the loop gracefully, as net/http's Server.Shutdown does a server: it closes every
// transport and server of the loop (a transport first sends what it has queued, then its protocol
// hears ConnectionLost(nil); a server stops listening), waits until every one is gone or ctx is
// done, then aborts those left (their ConnectionLost gets a *ShutdownError), stops the loop,
// waits for Run to return, and closes the loop. It returns nil when everything closed in time,
// context.Cause(ctx) when it had to abort, or Close's error.
//
// From the moment Shutdown begins, creating a transport or server on the loop fails with an error
// matching ErrClosed (as net/http refuses connections once Shutdown begins).
//
// The loop must run for transports to flush: if no goroutine runs it (Run returned, or never
// started), Shutdown runs it on its own goroutine while it waits. If the loop does not get to the
// shutdown before ctx ends (a callback that does not return), Shutdown returns context.Cause(ctx)
// and leaves the loop as it is. Any goroutine but the loop's, which it would block. A Shutdown of
// a closed loop returns nil.
func (l *Loop) Shutdown(ctx context.Context) error {
	if l.InLoop() {
		return errors.New("loop: Shutdown on the loop goroutine would block the loop; call it from another goroutine")
	}
	drained := make(chan struct{})
	err := l.Do(ctx, func() {
		l.shuttingDown = true
		if len(l.owned) == 0 {
			close(drained)
			return
		}
		l.drained = append(l.drained, drained)
		for r := range l.owned {
			l.guard(r, "Shutdown", r.Shutdown)
		}
	})
	switch {
	case errors.Is(err, ErrClosed):
		return nil
	case err != nil:
		return err // ctx ended before the loop took the shutdown
	}
	var result error
	if ok, rerr := l.await(ctx, drained); !ok {
		result = rerr
		if result == nil {
			result = context.Cause(ctx)
			serr := &ShutdownError{Cause: result}
			l.Do(context.Background(), func() {
				for r := range l.owned {
					l.guard(r, "Abort", func() { r.Abort(serr) })
				}
			})
			l.await(context.Background(), drained) // aborts are immediate: ConnectionLost in one iteration
		}
	}
	for {
		l.Stop()
		l.mu.Lock()
		running, ended := l.running.Load(), l.runEnded
		l.mu.Unlock()
		if running {
			<-ended
		}
		cerr := l.Close()
		if !errors.Is(cerr, ErrRunning) {
			return errors.Join(result, cerr)
		}
	}
}

// guard runs fn, which closes the resource r (method names how), and reports a panic in it (a
// protocol's, from the ConnectionLost a transport runs) instead of letting it stop the loop
// from closing the others.
func (l *Loop) guard(r reactor.Resource, method string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			var tr any = r
			if o, ok := r.(reactor.Owner); ok {
				tr = o.Owner()
			}
			cb := fmt.Sprintf("%T.%s", tr, method)
			pe := &PanicError{Value: v, Stack: debug.Stack()}
			l.CallExceptionHandler(Exception{
				Message: "panic while closing " + cb, Err: pe, Panic: v, Stack: pe.Stack, Callback: cb, Transport: tr,
			})
		}
	}()
	fn()
}

// await waits until drained is closed (true) or ctx is done (false), running the loop on the
// calling goroutine whenever no one else does. A poller failure of that Run ends the wait with
// false and the error.
func (l *Loop) await(ctx context.Context, drained chan struct{}) (bool, error) {
	for {
		select {
		case <-drained:
			return true, nil
		default:
		}
		if ctx.Err() != nil {
			return false, nil
		}
		l.mu.Lock()
		running, ended := l.running.Load(), l.runEnded
		l.mu.Unlock()
		if running {
			select {
			case <-drained:
				return true, nil
			case <-ctx.Done():
				return false, nil
			case <-ended:
				continue
			}
		}
		runCtx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-drained:
				cancel()
			case <-runCtx.Done():
			}
		}()
		err := l.Run(runCtx)
		cancel()
		switch {
		case errors.Is(err, ErrRunning): // another goroutine started it meanwhile
		case errors.Is(err, ErrClosed):
			return true, nil // closed meanwhile: Close closed everything
		case err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil:
			return false, err
		}
	}
}
