package flow_test

import (
	"errors"
	"math"
	"testing"

	"github.com/aioloop/aioloop/internal/flow"
	"github.com/aioloop/aioloop/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

type proto struct{ calls []string }

func (p *proto) PauseWriting()  { p.calls = append(p.calls, "pause") }
func (p *proto) ResumeWriting() { p.calls = append(p.calls, "resume") }

// asyncio's rules: pause strictly above high, resume at or below low, each once per crossing.
func TestWaterMarks(t *testing.T) {
	var c flow.Control
	c.Init(nil)
	p := &proto{}
	c.SetProtocol(p)
	c.SetLimits(100, 10)
	for _, size := range []int{100, 101, 150, 11, 10, 5, 101} {
		c.MaybePause(size)
		c.MaybeResume(size)
	}
	if got := p.calls; len(got) != 3 || got[0] != "pause" || got[1] != "resume" || got[2] != "pause" {
		t.Fatalf("calls %v", got)
	}
	for _, tc := range []struct{ high, low, wantLow, wantHigh int }{
		{-1, -1, 16 << 10, 64 << 10}, {-1, 100, 100, 400}, {400, -1, 100, 400}, {0, 0, 0, 0},
	} {
		if err := c.SetLimits(tc.high, tc.low); err != nil {
			t.Fatal(err)
		}
		if lo, hi := c.Limits(); lo != tc.wantLow || hi != tc.wantHigh {
			t.Errorf("SetLimits(%d, %d) gave %d, %d", tc.high, tc.low, lo, hi)
		}
	}
	if err := c.SetLimits(1, 2); err == nil {
		t.Error("high < low accepted")
	}
}

type panicky struct{}

func (panicky) PauseWriting()  { panic("pause broke") }
func (panicky) ResumeWriting() {}

func TestPanicIsReportedNotPropagated(t *testing.T) {
	var c flow.Control
	var reported []any
	c.Init(func(method string, v any) { reported = append(reported, method, v) })
	c.SetProtocol(panicky{})
	c.MaybePause(1 << 20)
	if len(reported) != 2 || reported[0] != "PauseWriting" || reported[1] != "pause broke" {
		t.Fatalf("reported %v", reported)
	}
	c.SetProtocol(struct{}{}) // no flow control: nothing to call
	c.MaybeResume(0)
}

func TestHardCap(t *testing.T) {
	var c flow.Control
	c.Init(nil)
	if c.Max() != flow.DefaultMax {
		t.Fatalf("default cap %d", c.Max())
	}
	c.SetMax(100)
	if err := c.Check("udp", 60, 40); err != nil {
		t.Fatalf("60+40 under a cap of 100: %v", err)
	}
	err := c.Check("unixstream", 60, 41)
	var full *flow.FullError
	if !errors.Is(err, flow.ErrFull) || !errors.As(err, &full) || full.Size != 101 || full.Max != 100 ||
		err.Error() != "unixstream: a write would take the write buffer to 101 bytes, above its cap of 100 (SetWriteBufferMax): write buffer full" {
		t.Fatalf("over the cap: %v", err)
	}
	c.SetMax(-1)
	if c.Max() != math.MaxInt || c.Check("udp", math.MaxInt-5, 5) != nil || c.Check("udp", math.MaxInt-5, 6) == nil {
		t.Fatalf("no cap: %d", c.Max())
	}
	c.SetMax(0)
	if c.Max() != flow.DefaultMax {
		t.Fatalf("SetMax(0): %d", c.Max())
	}
}
