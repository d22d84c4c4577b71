// Package loop is aioloop's event loop: asyncio's loop (new_event_loop, run_forever, stop, close,
// call_soon, call_soon_threadsafe, call_later, call_at, add_reader, add_writer, the exception
// handler, debug mode) in Go idiom, on one goroutine that owns a poller.
//
// # Threading contract
//
// Run executes on the goroutine that calls it, and every callback, timer and readiness handler runs
// there, one at a time: code called by the loop never needs a mutex for state only the loop touches.
//
// Safe from any goroutine at any time: CallSoonThreadsafe, Do, DoValue, Start, Stop, Shutdown,
// Close, IsRunning, IsClosed, InLoop, Name, Time, Stats, SetDebug, Debug, SetExceptionHandler,
// ExceptionHandler and DefaultExceptionHandler.
//
// Every other method of Loop, and the methods of the handles it returns, are loop-only. A caller
// may use them where it can tell that no other goroutine is inside the loop:
//
//   - in a function the loop runs: a callback, a timer, an AddReader/AddWriter function, a
//     protocol method, the exception handler;
//   - in a function passed to Do or DoValue, from any goroutine: Do runs it on the loop, or, while
//     no Run is in progress, on the caller while it holds off Run and Close;
//   - directly, on the goroutine that made the loop with New and has not yet passed it to Run,
//     Start or another goroutine (setting up), or that saw Run return and hands it to no one.
//
// When in doubt, use Do. In debug mode (SetDebug, asyncio's set_debug) a loop-only method called
// from another goroutine while the loop runs is reported to the exception handler and does
// nothing (a handle comes back not Pending, an error is ErrNotLoopGoroutine) instead of corrupting
// the loop's state. Outside debug mode the check is not made: it costs a stack walk.
//
// # Lifecycle
//
// New makes a loop; Run runs it on the calling goroutine, Start on a goroutine of its own, until
// Stop or the context. The transports and servers made on a loop (packages udp and unixstream)
// belong to it: Shutdown closes them gracefully (they flush what is queued) and aborts what is
// left when its context ends, then stops and closes the loop, as net/http's Server.Shutdown does;
// Close closes them at once, running their protocols' ConnectionLost with an error that matches
// ErrClosed and net.ErrClosed. Either way no descriptor the loop's transports own stays open.
//
// # One iteration
//
// Run repeats this iteration until Stop is called or its context is done. It is asyncio's
// _run_once with one difference in order, chosen for the I/O path: asyncio appends the I/O
// handlers to the callbacks already ready and runs them all in one batch, so that callbacks
// scheduled in the previous iteration run before this iteration's I/O; here I/O is dispatched
// first (step 2) and those callbacks run after it (step 5). Within each step the order is
// asyncio's.
//
//  1. Poll. The timeout is zero when callbacks are ready or a stop is pending, the time to the
//     earliest timer when there is one, and infinite otherwise. CallSoonThreadsafe and Stop wake a
//     sleeping poll.
//  2. Dispatch every readiness event at once, in the order the poller reported them, to the
//     handler of its registration (readable, then writable: an AddReader or AddWriter function,
//     or a transport); an event whose registration was removed or reused meanwhile is dropped.
//  3. Append the callbacks that other goroutines handed to CallSoonThreadsafe, in their order.
//  4. Append the timers that are due, in deadline order (ties in the order they were scheduled).
//  5. Run the callbacks that are ready now (those scheduled in the previous iteration, then those
//     of steps 3 and 4), in FIFO order. Callbacks they schedule run in the next iteration, so a
//     callback that reschedules itself cannot starve I/O.
//  6. Publish the counters that Stats reads, and stop if asked.
//
// A Stop before Run makes Run do one iteration and return (asyncio's semantics for stop before
// run_forever); a Stop from a callback lets the current batch finish.
//
// # Errors
//
// A panic in a callback or a handler is recovered, wrapped in a *PanicError with its stack, and
// handed to the exception handler (SetExceptionHandler; DefaultExceptionHandler logs through
// log/slog); the loop goes on with the next callback. A transport whose readiness handler panics
// is told, so that it can close itself as asyncio's _fatal_error does. A panic in a function
// passed to Do is not reported: Do returns it.
//
// # Profiling
//
// Run labels its goroutine with pprof label "aioloop.loop" set to Options.Name, so a CPU profile
// shows which loop spent the time (go tool pprof -tagfocus aioloop.loop=NAME). Options.LockOSThread
// keeps the loop on one OS thread.
package loop
