package loop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/poller"
)

// Options configures New. The zero value is asyncio's defaults.
type Options struct {
	// Name labels the loop in pprof profiles (label "aioloop.loop") and in exception reports.
	// Default "loop".
	Name string
	// Debug starts the loop in debug mode (asyncio's debug=True): slow callbacks and loop-only
	// methods called from other goroutines are reported. SetDebug changes it later.
	Debug bool
	// SlowCallbackDuration is asyncio's slow_callback_duration: in debug mode, a callback or handler
	// that runs longer is reported. Default 100 ms; negative is an error.
	SlowCallbackDuration time.Duration
	// LockOSThread makes Run lock its goroutine to its OS thread for as long as it runs. Use it when
	// the loop's thread itself matters (thread-local OS state, CPU affinity set from inside); the
	// bench echo server measured no difference either way in throughput or round trips.
	LockOSThread bool
	// Logger is where DefaultExceptionHandler writes. Default slog.Default() at the time of the report.
	Logger *slog.Logger
	// MaxEvents is how many readiness events one poll may return, 1 to 256. Default 128.
	MaxEvents int
	// PollSpin is how long the loop keeps polling without sleeping before a poll that would sleep
	// (beyond asyncio). A reply that arrives within it is seen without waking a sleeping thread,
	// which cuts round-trip latency at the cost of CPU while lightly loaded; an idle loop still
	// sleeps. 0 (the default) never spins; about 10 µs is a sensible value; at most 1 ms.
	PollSpin time.Duration
}

// Errors returned by the loop. They match with errors.Is.
var (
	// ErrClosed: the loop is closed, or closed the transport that reports it. errors.Is matches it
	// with net.ErrClosed too, as the transports' closed errors do.
	ErrClosed error = closedError{}
	// ErrRunning: Run called on a running loop, or Close on a running loop.
	ErrRunning = errors.New("loop: already running")
	// ErrNotLoopGoroutine: in debug mode, a loop-only method was called from another goroutine.
	ErrNotLoopGoroutine = errors.New("loop: loop-only method called from another goroutine; use CallSoonThreadsafe")
	// ErrFdInUse: the file descriptor is already registered with this loop (by a transport or by
	// AddReader/AddWriter), as asyncio refuses add_reader on a transport's socket.
	ErrFdInUse = errors.New("loop: file descriptor already registered")
	// errNotRegistered: the registration was removed (internal/reactor).
	errNotRegistered = errors.New("loop: registration removed")
)

// Loop is an event loop (asyncio's AbstractEventLoop). Make one with New; the zero value is not usable.
type Loop struct {
	name   string
	opts   Options
	p      *poller.Poller
	events []poller.Event
	epoch  time.Time // every deadline is nanoseconds since epoch, on the monotonic clock

	// Loop goroutine only.
	ready        ring
	timers       timers
	fds          fdTable
	ctr          Stats
	yielded      int64                         // l.now() when poll last yielded to the scheduler
	yields       int64                         // how many times it did, for the tests
	locals       map[any]any                   // reactor.Loop.Local
	owned        map[reactor.Resource]struct{} // transports and servers, closed by Close and Shutdown
	drained      []chan struct{}               // closed when owned empties, for Shutdown
	closing      bool                          // Close is closing the owned resources: no new ones
	shuttingDown bool                          // Shutdown began: no new resources either

	// Shared with other goroutines.
	setupMu    sync.Mutex    // held by a Do that runs directly, and by Run while it starts
	setupOwner atomic.Uint64 // the goroutine holding setupMu in Do
	mu         sync.Mutex    // orders Run, Close, Stop and CallSoonThreadsafe against each other
	tsq, spare []func()      // CallSoonThreadsafe's queue (mu) and the slice it is swapped with
	tsqLen     atomic.Int32
	polling    atomic.Bool // the loop is in, or about to enter, a poll that may sleep
	stopping   atomic.Bool
	running    atomic.Bool
	closed     atomic.Bool
	runGen     uint64        // mu; counts Runs
	ctxStopGen atomic.Uint64 // the Run whose context is done
	goid       atomic.Uint64 // the goroutine in Run, 0 outside
	debug      atomic.Bool
	excHandler atomic.Pointer[func(Exception)]
	pub        published
	runEnded   chan struct{} // mu; made as a Run starts, closed as it ends, for Do
}

// New makes a loop and its poller (asyncio.new_event_loop). Bad options are refused, naming the field.
func New(opts Options) (*Loop, error) {
	if opts.SlowCallbackDuration < 0 {
		return nil, fmt.Errorf("loop: Options.SlowCallbackDuration is %v; want >= 0", opts.SlowCallbackDuration)
	}
	if opts.MaxEvents < 0 || opts.MaxEvents > 256 {
		return nil, fmt.Errorf("loop: Options.MaxEvents is %d; want 1 to 256, or 0 for 128", opts.MaxEvents)
	}
	if opts.PollSpin < 0 || opts.PollSpin > time.Millisecond {
		return nil, fmt.Errorf("loop: Options.PollSpin is %v; want 0 to 1ms", opts.PollSpin)
	}
	if opts.SlowCallbackDuration == 0 {
		opts.SlowCallbackDuration = 100 * time.Millisecond
	}
	if opts.MaxEvents == 0 {
		opts.MaxEvents = 128
	}
	if opts.Name == "" {
		opts.Name = "loop"
	}
	p, err := poller.New()
	if err != nil {
		return nil, fmt.Errorf("loop: %w", err)
	}
	l := &Loop{name: opts.Name, opts: opts, p: p, events: make([]poller.Event, opts.MaxEvents), epoch: time.Now()}
	l.debug.Store(opts.Debug)
	l.fds.init()
	return l, nil
}

// Name returns Options.Name. Any goroutine.
func (l *Loop) Name() string { return l.name }

// closedError is ErrClosed: the loop's own error that also matches net.ErrClosed (quic-go's
// ErrTransportClosed does the same).
type closedError struct{}

func (closedError) Error() string        { return "loop: closed" }
func (closedError) Is(target error) bool { return target == net.ErrClosed }

// Run runs the loop on the calling goroutine until Stop is called (it then returns nil), ctx is done
// (it returns context.Cause(ctx)), or the poller fails (it returns that error). asyncio's
// run_forever. It returns ErrRunning if the loop is running and ErrClosed if it is closed.
func (l *Loop) Run(ctx context.Context) error { return l.run(ctx, nil) }

// run is Run; started, if set, is called once the loop counts as running.
func (l *Loop) run(ctx context.Context, started func()) (err error) {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if l.running.Load() {
		return ErrRunning // before setupMu: Run inside a callback must not wait for itself
	}
	me := goroutineID()
	if l.setupOwner.Load() == me {
		return fmt.Errorf("loop: Run called from a function that Do runs while setting up: %w", ErrRunning)
	}
	l.setupMu.Lock() // waits for a Do running fn directly
	l.mu.Lock()
	switch {
	case l.closed.Load():
		l.mu.Unlock()
		l.setupMu.Unlock()
		return ErrClosed
	case l.running.Load():
		l.mu.Unlock()
		l.setupMu.Unlock()
		return ErrRunning
	}
	l.running.Store(true)
	l.runGen++
	gen := l.runGen
	l.runEnded = make(chan struct{})
	l.mu.Unlock()
	l.setupMu.Unlock()
	if started != nil {
		started()
	}

	if l.opts.LockOSThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	l.goid.Store(me)
	stopWatch := context.AfterFunc(ctx, func() {
		// This may run late, after this Run returned and another started: never lower the
		// generation, or the later Run would miss its own cancelled context.
		for old := l.ctxStopGen.Load(); old < gen && !l.ctxStopGen.CompareAndSwap(old, gen); old = l.ctxStopGen.Load() {
		}
		l.wake()
	})
	defer func() { // also if a bug panics out of an iteration: the loop must not stay "running"
		stopWatch()
		l.publish()
		l.mu.Lock()
		l.goid.Store(0)
		l.stopping.Store(false)
		l.running.Store(false)
		close(l.runEnded)
		l.mu.Unlock()
	}()
	pprof.Do(ctx, pprof.Labels("aioloop.loop", l.name), func(context.Context) {
		for err == nil {
			err = l.runOnce(gen)
			if l.stopping.Load() || l.ctxStopGen.Load() == gen {
				break
			}
		}
	})
	if err == nil && l.ctxStopGen.Load() == gen {
		err = context.Cause(ctx)
	}
	return err
}

// Stop makes Run return after the current iteration (asyncio's stop). Called before Run, it makes
// the next Run do one iteration. Any goroutine.
func (l *Loop) Stop() {
	l.stopping.Store(true)
	l.wake()
}

// wake interrupts a poll that may sleep. Under mu, so that Close cannot release the poller
// between the check and the Wake.
func (l *Loop) wake() {
	if !l.polling.Load() {
		return
	}
	l.mu.Lock()
	if !l.closed.Load() {
		l.p.Wake()
	}
	l.mu.Unlock()
}

// IsRunning reports whether Run is running (asyncio's is_running). Any goroutine.
func (l *Loop) IsRunning() bool { return l.running.Load() }

// IsClosed reports whether Close was called (asyncio's is_closed). Any goroutine.
func (l *Loop) IsClosed() bool { return l.closed.Load() }

// Time returns the current time with its monotonic clock reading; the loop's timers are measured on
// that clock (asyncio's time). Any goroutine.
func (l *Loop) Time() time.Time { return time.Now() }

// now is the loop's clock: nanoseconds since epoch, monotonic.
func (l *Loop) now() int64 { return int64(time.Since(l.epoch)) }

// runOnce is one iteration; see the package doc.
func (l *Loop) runOnce(gen uint64) error {
	timeout := time.Duration(-1)
	switch {
	case l.ready.n > 0, l.stopping.Load(), l.ctxStopGen.Load() == gen:
		timeout = 0
	case l.timers.len() > 0:
		timeout = 0
		if next, now := l.timers.next(), l.now(); next > now { // compared first: next may be math.MinInt64
			timeout = time.Duration(next - now)
		}
	}
	announced := timeout != 0
	if announced {
		// Announce the sleep, then look again: a goroutine that queued work or asked to stop
		// either sees polling set (and wakes us) or is seen here.
		l.polling.Store(true)
		if l.tsqLen.Load() > 0 || l.stopping.Load() || l.ctxStopGen.Load() == gen {
			timeout = 0
		}
	}
	n, err := l.poll(timeout, gen)
	if announced {
		l.polling.Store(false)
	}
	if err != nil {
		return fmt.Errorf("loop: poll: %w", err)
	}
	l.ctr.Iterations++
	l.dispatch(n)
	l.drainThreadsafe()
	if l.timers.len() > 0 {
		l.timers.due(l, l.now())
	}
	l.runReady()
	l.publish()
	return nil
}

// poll waits for readiness. With Options.PollSpin, a poll that may sleep first polls without
// sleeping until something is ready, another goroutine hands over work, or the spin budget (or the
// timeout) is spent.
func (l *Loop) poll(timeout time.Duration, gen uint64) (int, error) {
	if timeout == 0 {
		return l.p.Wait(l.events, 0)
	}
	// Pass through the scheduler now and then before a wait that may sleep. A goroutine that never
	// does is, to sysmon, one that has run for 10 ms without yielding: from then on sysmon tries to
	// preempt it on every tick, cannot while it sleeps in epoll_wait, and takes its P instead,
	// waking another thread to hold it (measured: sysmon and its hand-offs were 24% of the echo
	// server's CPU in UDP ping-pong, sysmon stuck in its 20 µs tick). Yielding before every sleep
	// cost 12% of UDP echo throughput; once a millisecond is enough for sysmon.
	if now := l.now(); now-l.yielded >= int64(time.Millisecond) {
		l.yielded = now
		l.yields++
		runtime.Gosched()
	}
	if l.opts.PollSpin == 0 {
		return l.p.Wait(l.events, timeout)
	}
	start := time.Now()
	for {
		n, err := l.p.Wait(l.events, 0)
		if n > 0 || err != nil || l.tsqLen.Load() > 0 || l.stopping.Load() || l.ctxStopGen.Load() == gen {
			return n, err
		}
		spent := time.Since(start)
		if timeout > 0 && spent >= timeout {
			return 0, nil
		}
		if spent >= l.opts.PollSpin {
			if timeout > 0 {
				timeout -= spent
			}
			return l.p.Wait(l.events, timeout)
		}
	}
}
