// Package flow is asyncio's write flow control, which every transport shares: the water marks, and
// the protocol's PauseWriting and ResumeWriting, called when what a transport holds crosses them.
package flow

import "fmt"

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

// Control is one transport's flow-control state; loop goroutine only. Call Init first.
type Control struct {
	high, low int
	paused    bool
	proto     Protocol
	report    func(method string, panicValue any)
}

// Init sets asyncio's default marks and how a panic in PauseWriting or ResumeWriting is reported:
// it is recovered, as asyncio catches an exception there, and does not unwind into the writer.
func (c *Control) Init(report func(method string, panicValue any)) {
	c.high, c.low, c.report = DefaultHigh, DefaultLow, report
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
