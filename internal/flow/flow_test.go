package flow_test

import (
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
