// Package flow is asyncio's write flow control, which every transport shares: the water marks, and
// the protocol's PauseWriting and ResumeWriting, called when what a transport holds crosses them.
package flow

import (
	"errors"
	"fmt"
	"math"
)

// Protocol is the optional part of a protocol that hears about the write buffer (asyncio's
// pause_writing and resume_writing).
type Protocol interface {
	PauseWriting()
	ResumeWriting()
}

// asyncio's defaults.
const (
	DefaultHigh = 64 * 1024
	DefaultLow  = 16 * 1024
)

// DefaultMax is the write buffer's hard cap unless a transport sets another (asyncio has none:
// its buffer grows while the protocol ignores pause_writing). 16 MiB is 256 times the default
// high-water mark, so a protocol that stops writing at PauseWriting never comes near it, and a
// single large write (a file, a snapshot) still fits; what a peer that never reads can make one
// transport hold is bounded by it (plus the kernel's socket buffer). A server's bound is its
// transports times the cap: one with many connections and small messages should lower it.
const DefaultMax = 16 << 20

// ErrFull is the error of a write that would take a write buffer above its cap (matched by
// errors.Is on a *FullError).
var ErrFull = errors.New("write buffer full")

// FullError says how full the buffer would have been, and its cap.
type FullError struct {
	Pkg       string // "udp" or "unixstream": the package whose transport refused
	Size, Max int
}

func (e *FullError) Error() string {
	return fmt.Sprintf("%s: a write would take the write buffer to %d bytes, above its cap of %d (SetWriteBufferMax): %v",
		e.Pkg, e.Size, e.Max, ErrFull)
}

// Is makes errors.Is(err, ErrFull) hold.
func (e *FullError) Is(target error) bool { return target == ErrFull }

// Control is one transport's flow-control state; loop goroutine only. Call Init first.
type Control struct {
	high, low int
	max       int // the hard cap; math.MaxInt for none
	paused    bool
	proto     Protocol
	report    func(method string, panicValue any)
}

// Init sets asyncio's default marks and how a panic in PauseWriting or ResumeWriting is reported:
// it is recovered, as asyncio catches an exception there, and does not unwind into the writer.
func (c *Control) Init(report func(method string, panicValue any)) {
	c.high, c.low, c.max, c.report = DefaultHigh, DefaultLow, DefaultMax, report
}

// Max is the write buffer's hard cap (math.MaxInt: none).
func (c *Control) Max() int { return c.max }

// SetMax sets the hard cap: n > 0 bytes, 0 for DefaultMax, a negative n for none (asyncio's
// unbounded buffer).
func (c *Control) SetMax(n int) {
	switch {
	case n == 0:
		n = DefaultMax
	case n < 0:
		n = math.MaxInt
	}
	c.max = n
}

// Check returns a *FullError for pkg when adding more bytes to a buffer of size would pass the cap.
func (c *Control) Check(pkg string, size, more int) error {
	if more <= c.max-size {
		return nil
	}
	return &FullError{Pkg: pkg, Size: size + more, Max: c.max}
}

// SetProtocol takes the protocol's PauseWriting and ResumeWriting, if it has them.
func (c *Control) SetProtocol(p any) { c.proto, _ = p.(Protocol) }

// Limits returns the low- and high-water marks (get_write_buffer_limits).
func (c *Control) Limits() (low, high int) { return c.low, c.high }

// SetLimits sets the marks as asyncio's set_write_buffer_limits: a negative value is None (both
// None: the defaults; one None: high = 4×low or low = high/4), and high >= low >= 0 is required.
// The caller then calls MaybePause, as asyncio does.
func (c *Control) SetLimits(high, low int) error {
	switch {
	case high < 0 && low < 0:
		high, low = DefaultHigh, DefaultLow
	case high < 0:
		high = 4 * low
	case low < 0:
		low = high / 4
	}
	if high < low {
		return fmt.Errorf("high (%d) must be >= low (%d) >= 0", high, low)
	}
	c.high, c.low = high, low
	return nil
}

// MaybePause calls PauseWriting when size is strictly above the high-water mark and the protocol
// is not paused yet.
func (c *Control) MaybePause(size int) {
	if c.paused || size <= c.high {
		return
	}
	c.paused = true
	if c.proto != nil {
		c.call(c.proto.PauseWriting, "PauseWriting")
	}
}

// MaybeResume calls ResumeWriting when size is at or below the low-water mark and the protocol is
// paused.
func (c *Control) MaybeResume(size int) {
	if !c.paused || size > c.low {
		return
	}
	c.paused = false
	if c.proto != nil {
		c.call(c.proto.ResumeWriting, "ResumeWriting")
	}
}

func (c *Control) call(fn func(), method string) {
	defer func() {
		if v := recover(); v != nil && c.report != nil {
			c.report(method, v)
		}
	}()
	fn()
}
