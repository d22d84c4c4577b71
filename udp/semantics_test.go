//go:build linux || windows

package udp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// A panic in DatagramReceived is reported and the endpoint stays open (asyncio's _read_ready lets
// the exception reach the loop's handler and keeps the transport): the rest of the batch and later
// datagrams are delivered, and replies staged before the panic still go.
//
// Fault: a panic in DatagramReceived → the exception handler hears it with the transport named; the endpoint stays open and the rest of the batch is delivered
func TestPanicInDatagramReceivedKeepsTheEndpoint(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	c := burst(t, srv, 3)
	sr.onData = func(r *recorder, data []byte, from udp.Addr) {
		r.t.SendTo(data, from)
		if len(r.got) == 2 {
			panic("protocol bug")
		}
		if len(r.got) == 3 {
			l.Stop()
		}
	}
	sr.onErr = func(*recorder, error) { panic("ErrorReceived bug") }
	run(t, l)
	if srv.IsClosing() || len(sr.lost) != 0 || len(sr.got) != 3 {
		t.Fatalf("closing %v, lost %v, delivered %d of 3", srv.IsClosing(), sr.lost, len(sr.got))
	}
	var pe *loop.PanicError
	if len(reports) != 1 || !errors.As(reports[0].Err, &pe) || pe.Value != "protocol bug" ||
		reports[0].Transport != srv || reports[0].Protocol != udp.Protocol(sr) {
		t.Fatalf("reports %+v", reports)
	}
	if s := l.Stats(); s.Panics != 1 || s.Exceptions != 1 {
		t.Fatalf("Stats: %d panics, %d exceptions; want the protocol's panic counted once", s.Panics, s.Exceptions)
	}
	if got := replies(c, 200*time.Millisecond); len(got) != 3 {
		t.Fatalf("replies %q", got)
	}
	// A panic in ErrorReceived is reported too, and the endpoint still stays.
	srv.SendTo([]byte("x"), bcast)
	if len(reports) != 2 || srv.IsClosing() || len(sr.errs) != 1 {
		t.Fatalf("after ErrorReceived panicked: reports %d, closing %v", len(reports), srv.IsClosing())
	}
}

// PauseReading stops DatagramReceived at once, even mid-batch; ResumeReading delivers what was
// already read, in order, then reads again. Nothing is lost.
func TestPauseAndResumeReading(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	const n = 10
	c := burst(t, srv, n)
	if !srv.IsReading() {
		t.Fatal("IsReading false at start")
	}
	paused := false
	sr.onData = func(r *recorder, data []byte, from udp.Addr) {
		if paused {
			t.Errorf("%q delivered while paused", data)
		}
		switch len(r.got) {
		case 3:
			r.t.PauseReading()
			r.t.PauseReading()
			paused = true
			if r.t.IsReading() {
				t.Error("IsReading true after PauseReading")
			}
			l.CallLater(30*time.Millisecond, func() {
				// More arrives while paused: it waits in the kernel.
				c.WriteTo([]byte("late"), srv.LocalAddr().AddrPort())
				l.CallLater(30*time.Millisecond, func() {
					paused = false
					srv.ResumeReading()
					srv.ResumeReading()
				})
			})
		case n + 1:
			l.Stop()
		}
	}
	run(t, l)
	if len(sr.got) != n+1 || sr.got[n].data != "late" {
		t.Fatalf("delivered %d: %+v", len(sr.got), sr.got)
	}
	for i := range n {
		if want := "datagram 00" + string(rune('0'+i)); sr.got[i].data != want {
			t.Fatalf("datagram %d is %q, want %q", i, sr.got[i].data, want)
		}
	}
}

// Close while paused with datagrams held: they are dropped (close means no more
// DatagramReceived), and ConnectionLost comes once.
func TestCloseWhilePausedDropsHeldDatagrams(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	burst(t, srv, 5)
	sr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
		r.t.PauseReading()
		l.CallSoon(func() { r.t.Close(); r.t.ResumeReading() })
	}
	sr.onLost = func(*recorder, error) { l.CallLater(20*time.Millisecond, l.Stop) }
	run(t, l)
	if len(sr.got) != 1 || len(sr.lost) != 1 {
		t.Fatalf("delivered %d, lost %v", len(sr.got), sr.lost)
	}
}
