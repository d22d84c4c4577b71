//go:build linux

// Package load drives an echo server and measures it: UDP and Unix-stream throughput with many
// messages in flight, and round-trip latency from a ping-pong. It runs on one locked OS thread and
// batches its own syscalls (recvmmsg, sendmmsg, one write per refill) so that it is not the
// bottleneck; every Result says how busy the generator itself was.
package load

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Result is what one phase measured.
type Result struct {
	Phase    string        `json:"phase"`    // "udp", "udp-rtt", "unix", "unix-bulk", "unix-rtt"
	Messages int64         `json:"messages"` // datagrams, stream messages or round trips echoed
	Bytes    int64         `json:"bytes"`    // payload bytes echoed
	Lost     int64         `json:"lost"`     // datagrams sent and never echoed (UDP only)
	Elapsed  time.Duration `json:"elapsed_ns"`
	// Busy is the generator's CPU time over Elapsed: 1.0 is one core fully used. Near 1.0 the
	// generator, not the server, may be what limits the figures.
	Busy float64 `json:"busy"`
	// ServerBusy is the server process's CPU time over Elapsed, when Span.ServerPID named it
	// (from /proc: see ProcessCPU).
	ServerBusy float64 `json:"server_busy,omitempty"`
	// Round-trip percentiles of a ping-pong phase.
	P50  time.Duration `json:"p50_ns,omitempty"`
	P99  time.Duration `json:"p99_ns,omitempty"`
	P999 time.Duration `json:"p999_ns,omitempty"`
}

// PerSecond is Messages per second.
func (r Result) PerSecond() float64 { return float64(r.Messages) / r.Elapsed.Seconds() }

// MBPerSecond is payload megabytes (10^6 bytes) per second.
func (r Result) MBPerSecond() float64 { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

func (r Result) String() string {
	s := fmt.Sprintf("%-9s %12.0f msg/s %9.1f MB/s", r.Phase, r.PerSecond(), r.MBPerSecond())
	if r.P50 > 0 {
		s = fmt.Sprintf("%-9s %12.0f rtt/s  p50 %v p99 %v p999 %v", r.Phase, r.PerSecond(),
			r.P50.Round(100*time.Nanosecond), r.P99.Round(100*time.Nanosecond), r.P999.Round(100*time.Nanosecond))
	}
	if r.Lost > 0 {
		s += fmt.Sprintf(", lost %d", r.Lost)
	}
	s += fmt.Sprintf("; loadgen busy %.0f%%", 100*r.Busy)
	if r.ServerBusy > 0 {
		s += fmt.Sprintf(", server busy %.0f%%", 100*r.ServerBusy)
	}
	return s + " of a core"
}

// Span is how long a phase runs: Warmup first, unmeasured, then Duration measured, or, when Count
// is set, until Count messages were echoed after the warm-up (whichever ends first).
type Span struct {
	Warmup   time.Duration
	Duration time.Duration
	Count    int64
	// ServerPID, when not 0, is the server's process: its CPU use is measured too (Linux /proc).
	ServerPID int
}

func (s Span) check() error {
	if s.Duration <= 0 && s.Count <= 0 {
		return fmt.Errorf("load: a phase needs a Duration or a Count")
	}
	return nil
}

// meter tracks a phase's warm-up, measured window and CPU use.
type meter struct {
	span       Span
	start      time.Time
	measuring  bool
	t0         time.Time
	cpu0, srv0 time.Duration
	base       int64 // messages at the end of the warm-up
	baseBytes  int64
}

func newMeter(s Span) *meter {
	if s.Duration <= 0 {
		s.Duration = time.Hour
	}
	m := &meter{span: s, start: time.Now()}
	if s.Warmup <= 0 {
		m.begin(m.start, 0, 0)
	}
	return m
}

func (m *meter) begin(now time.Time, msgs, bytes int64) {
	m.measuring, m.t0, m.cpu0, m.base, m.baseBytes = true, now, cpuTime(), msgs, bytes
	m.srv0 = ProcessCPU(m.span.ServerPID)
}

// tick is called with the running totals; it reports whether the phase is over.
func (m *meter) tick(now time.Time, msgs, bytes int64) bool {
	if !m.measuring {
		if now.Sub(m.start) >= m.span.Warmup {
			m.begin(now, msgs, bytes)
		}
		return false
	}
	return now.Sub(m.t0) >= m.span.Duration || (m.span.Count > 0 && msgs-m.base >= m.span.Count)
}

func (m *meter) result(phase string, msgs, bytes int64) Result {
	el := time.Since(m.t0)
	r := Result{Phase: phase, Messages: msgs - m.base, Bytes: bytes - m.baseBytes, Elapsed: el,
		Busy: float64(cpuTime()-m.cpu0) / float64(el)}
	if m.span.ServerPID != 0 {
		r.ServerBusy = float64(ProcessCPU(m.span.ServerPID)-m.srv0) / float64(el)
	}
	return r
}

// ProcessCPU is the CPU time process pid has used, all its threads together, from
// /proc/PID/task/*/schedstat (nanoseconds; threads that already exited are not counted); 0 when
// pid is 0 or gone. Linux.
func ProcessCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// locked runs fn on a locked OS thread, as the generator's loop must not migrate between threads
// while it measures.
func locked[T any](fn func() (T, error)) (T, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return fn()
}

// percentiles fills r's P50, P99 and P999 from samples (sorted in place).
func percentiles(r *Result, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(q float64) time.Duration { return samples[min(len(samples)-1, int(q*float64(len(samples))))] }
	r.P50, r.P99, r.P999 = at(0.50), at(0.99), at(0.999)
}
