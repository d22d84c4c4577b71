//go:build linux

package udp_test

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// sink is a bound Unix datagram socket that nobody reads until told: its full receive queue is
// what makes a connected sender's sendto fail with EAGAIN.
func sink(t *testing.T) (fd int, path string) {
	return sinkAt(t, filepath.Join(t.TempDir(), "sink.sock"))
}

// sinkEndpoint is an endpoint with a flow-recording protocol, connected to a sink (sink), closed
// when the test ends; it returns the sink's descriptor too.
func sinkEndpoint(t *testing.T, l *loop.Loop) (*udp.Transport, *recorder, int) {
	t.Helper()
	sfd, path := sink(t)
	r := &recorder{}
	tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return flowRecorder{r} }, udp.Options{RemoteAddr: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndDrain(l, tr) })
	return tr, r, sfd
}

// readAll reads every datagram waiting on fd and returns their sequence numbers.
func readAll(fd int) []uint32 {
	var seqs []uint32
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil || n < 4 {
			return seqs
		}
		seqs = append(seqs, binary.BigEndian.Uint32(buf))
	}
}

// Fault: the peer's receive queue full (kernel send side refuses) → PauseWriting above 64 KiB, ResumeWriting at 16 KiB; every datagram delivered, in order
func TestFlowControlAgainstAFullSocketBuffer(t *testing.T) {
	l := newLoop(t)
	tr, r, sfd := sinkEndpoint(t, l)
	const total = 200
	msg := make([]byte, 1000)
	var received []uint32
	r.onPause = func(r *recorder) {
		if tr.WriteBufferSize() <= 64*1024 {
			t.Errorf("paused at %d bytes queued, not above the high-water mark", tr.WriteBufferSize())
		}
		// Now let the sink read: the queue drains through sendmmsg as it does.
		l.AddReader(sfd, func() {
			received = append(received, readAll(sfd)...)
			if len(received) == total {
				l.RemoveReader(sfd)
				l.Stop()
			}
		})
	}
	r.onResume = func(r *recorder) {
		if tr.WriteBufferSize() > 16*1024 {
			t.Errorf("resumed at %d bytes queued, above the low-water mark", tr.WriteBufferSize())
		}
	}
	l.CallSoon(func() {
		for i := range total {
			binary.BigEndian.PutUint32(msg, uint32(i))
			if err := tr.Send(msg); err != nil {
				t.Fatal(err)
			}
		}
	})
	run(t, l)
	if r.pauses != 1 || r.resumes != 1 || strings.Join(r.events, ",") != "made,pause,resume" {
		t.Fatalf("pauses %d resumes %d events %v", r.pauses, r.resumes, r.events)
	}
	for i, s := range received {
		if s != uint32(i) {
			t.Fatalf("datagram %d arrived as #%d: order lost", s, i)
		}
	}
	if tr.WriteBufferSize() != 0 || len(r.errs) != 0 {
		t.Fatalf("left %d bytes queued, errors %v", tr.WriteBufferSize(), r.errs)
	}
}

// fill sends until the kernel refuses and n datagrams are queued, and returns how many it sent.
func fill(t *testing.T, tr *udp.Transport, queued int) int {
	msg := make([]byte, 1000)
	i := 0
	for ; tr.WriteBufferSize() < queued*(1000+8); i++ {
		if i > 10000 {
			t.Fatal("the socket never filled")
		}
		binary.BigEndian.PutUint32(msg, uint32(i))
		tr.Send(msg)
	}
	return i
}

func TestWriteBufferLimits(t *testing.T) {
	l := newLoop(t)
	tr, r, _ := sinkEndpoint(t, l)
	if lo, hi := tr.WriteBufferLimits(); lo != 16*1024 || hi != 64*1024 {
		t.Fatalf("defaults %d %d", lo, hi)
	}
	if err := tr.SetWriteBufferLimits(10, 20); err == nil {
		t.Fatal("high < low accepted")
	}
	tr.SetWriteBufferLimits(-1, 1000)
	if lo, hi := tr.WriteBufferLimits(); lo != 1000 || hi != 4000 {
		t.Fatalf("derived limits %d %d", lo, hi)
	}
	tr.SetWriteBufferLimits(-1, -1)
	fill(t, tr, 3) // 3 datagrams queued: 3024 bytes, under the default high mark
	if r.pauses != 0 || tr.WriteBufferSize() != 3*1008 {
		t.Fatalf("paused %d at %d bytes", r.pauses, tr.WriteBufferSize())
	}
	tr.SetWriteBufferLimits(2000, -1) // the queue is now above high: pause at once
	if r.pauses != 1 {
		t.Fatalf("lowering high below the queue: %d pauses", r.pauses)
	}
}

func TestCloseFlushesAbortDrops(t *testing.T) {
	for _, abort := range []bool{false, true} {
		l := newLoop(t)
		sfd, path := sink(t)
		tr, r := endpoint(t, l, udp.Options{RemoteAddr: path})
		sent := fill(t, tr, 5)
		accepted := sent - 5 // taken by the kernel before it refused
		var got []uint32
		lost := false
		done := func() {
			if lost && len(got) >= accepted && (abort || len(got) == sent) {
				l.Stop()
			}
		}
		l.CallSoon(func() {
			if abort {
				tr.Abort()
				tr.Close() // after Abort: nothing more
			} else {
				tr.Close()
				tr.Close()
			}
			if len(r.lost) != 0 {
				t.Error("ConnectionLost ran inside Close/Abort; asyncio schedules it")
			}
			if err := tr.Send([]byte("late")); err == nil {
				t.Error("Send after Close accepted")
			}
			// Only now does the sink read, so that the queue is still there when Close or Abort acts.
			l.AddReader(sfd, func() { got = append(got, readAll(sfd)...); done() })
		})
		r.onLost = func(*recorder, error) { lost = true; done() }
		run(t, l)
		l.RemoveReader(sfd)
		if len(r.lost) != 1 || r.lost[0] != nil || tr.WriteBufferSize() != 0 {
			t.Fatalf("abort=%v: ConnectionLost %v, %d bytes left queued", abort, r.lost, tr.WriteBufferSize())
		}
		want := sent
		if abort {
			want = accepted
		}
		if len(got) != want {
			t.Fatalf("abort=%v: the sink got %d datagrams; want %d (%d sent, %d queued)", abort, len(got), want, sent, 5)
		}
		for i, s := range got {
			if s != uint32(i) {
				t.Fatalf("datagram %d arrived as #%d", s, i)
			}
		}
	}
}
