package loop

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
)

// SetDebug turns debug mode on or off (asyncio's set_debug): slow callbacks and loop-only methods
// called from other goroutines are reported to the exception handler. Any goroutine.
func (l *Loop) SetDebug(on bool) { l.debug.Store(on) }

// Debug reports whether debug mode is on (asyncio's get_debug). Any goroutine.
func (l *Loop) Debug() bool { return l.debug.Load() }

// goroutineID returns the calling goroutine's id, read from the first line of its stack trace
// ("goroutine 18 [running]:"). Debug mode and Run only: it costs a stack walk.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// onLoop reports whether a loop-only method may go ahead. Outside debug mode it always may; in
// debug mode, a call from another goroutine while the loop runs is reported, on the loop goroutine,
// and refused.
func (l *Loop) onLoop(op string) bool {
	if !l.debug.Load() {
		return true
	}
	g := l.goid.Load()
	if g == 0 {
		return true
	}
	caller := goroutineID()
	if caller == g {
		return true
	}
	e := Exception{
		Message: fmt.Sprintf("%s called from goroutine %d while loop %q runs on goroutine %d; only "+
			"CallSoonThreadsafe, Stop and the other documented methods are safe off the loop", op, caller, l.name, g),
		Err:   ErrNotLoopGoroutine,
		Stack: debug.Stack(),
	}
	l.CallSoonThreadsafe(func() { l.CallExceptionHandler(e) })
	return false
}

// checkSlow reports a callback or handler that ran for SlowCallbackDuration or longer (debug mode).
func (l *Loop) checkSlow(start time.Time, fn func(), h reactor.Handler, readable bool) {
	d := time.Since(start)
	if d < l.opts.SlowCallbackDuration {
		return
	}
	cb, tr := describe(fn, h, readable)
	l.CallExceptionHandler(Exception{
		Message:  fmt.Sprintf("slow callback: executing %s took %.3f seconds", cb, d.Seconds()),
		Callback: cb, Transport: tr,
	})
}
