//go:build linux

package udp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
)

// A panic in the protocol methods not covered by TestPanicInDatagramReceivedKeepsTheEndpoint:
// PauseWriting, ResumeWriting (driven by a destination whose queue fills, then drains) and
// ConnectionLost. Each is reported once with the transport named and counted; the endpoint keeps
// working after a flow-control panic, the socket is closed after a ConnectionLost one, and the
// loop goes on.
//
// Fault: a panic in PauseWriting, ResumeWriting or ConnectionLost → reported once with the transport named; the endpoint keeps working after the flow-control ones, the socket is closed after ConnectionLost's; the loop goes on
func TestPanicInFlowControlAndConnectionLost(t *testing.T) {
	for _, where := range []string{"PauseWriting", "ResumeWriting", "ConnectionLost"} {
		t.Run(where, func(t *testing.T) {
			l := newLoop(t)
			before := testfd.Open(t)
			var reports []loop.Exception
			l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
			tr, r, sfd := sinkEndpoint(t, l)
			boom := func(m string) {
				if m == where {
					where = "" // once
					panic(m + " bug")
				}
			}
			r.onPause = func(*recorder) { boom("PauseWriting") }
			r.onResume = func(*recorder) { boom("ResumeWriting") }
			r.onLost = func(*recorder, error) { boom("ConnectionLost") }
			name := where
			step := func(d time.Duration) { l.CallLater(d, l.Stop); run(t, l) }
			if name == "ConnectionLost" {
				l.CallSoon(func() { tr.Close() })
				step(20 * time.Millisecond)
			} else {
				l.CallSoon(func() { fill(t, tr, 100) }) // above 64 KiB: PauseWriting
				step(10 * time.Millisecond)
				for i := 0; i < 500 && tr.WriteBufferSize() > 0; i++ { // the sink reads: ResumeWriting
					readAll(sfd)
					step(2 * time.Millisecond)
				}
			}
			if len(reports) != 1 || reports[0].Transport != tr {
				t.Fatalf("reports %+v; want one naming the transport", reports)
			}
			var pe *loop.PanicError
			if !errors.As(reports[0].Err, &pe) || pe.Value != name+" bug" {
				t.Fatalf("the report's error is %v; want the panic", reports[0].Err)
			}
			if s := l.Stats(); s.Panics != 1 {
				t.Fatalf("Stats.Panics = %d", s.Panics)
			}
			if name != "ConnectionLost" {
				if tr.IsClosing() || len(r.lost) != 0 {
					t.Fatalf("a panic in %s ended the endpoint", name)
				}
				if err := tr.Send([]byte("still works")); err != nil {
					t.Fatalf("Send after a panic in %s: %v", name, err)
				}
				l.CallSoon(func() { tr.Close() })
				step(20 * time.Millisecond)
			}
			if len(r.lost) != 1 {
				t.Fatalf("ConnectionLost ran %d times", len(r.lost))
			}
			ran := false
			l.CallSoon(func() { ran = true })
			step(0)
			if !ran {
				t.Fatal("the loop did not go on")
			}
			if after := testfd.Open(t); after != before+1 { // the sink's, closed at the test's end
				t.Fatalf("%d descriptors open before (and the sink), %d after", before, after)
			}
		})
	}
}
