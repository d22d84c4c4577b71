package udp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/internal/testpeer"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// run11 is a QUIC-like burst: ten 1,200-byte datagrams and a 500-byte tail, each filled with its
// index so that order and boundaries show.
func run11() []byte {
	var b []byte
	for i := range 10 {
		b = append(b, bytes.Repeat([]byte{byte('a' + i)}, 1200)...)
	}
	return append(b, bytes.Repeat([]byte{'z'}, 500)...)
}

func checkRun(t *testing.T, got []datagram) {
	t.Helper()
	if len(got) != 11 {
		t.Fatalf("%d datagrams, want 11", len(got))
	}
	for i, d := range got {
		want := 1200
		c := byte('a' + i)
		if i == 10 {
			want, c = 500, 'z'
		}
		if len(d.data) != want || strings.Trim(d.data, string(c)) != "" {
			t.Fatalf("datagram %d: %d bytes of %q...; want %d of %q", i, len(d.data), d.data[:1], want, c)
		}
	}
}

// A GSO send reaches a GRO receiver as one buffer, delivered as the right datagrams in order; a
// receiver without GRO gets the same datagrams, one receive each.
func TestGSOSendArrivesAsOneGROBuffer(t *testing.T) {
	for _, gro := range []udp.Offload{udp.OffloadAuto, udp.OffloadOff} {
		l := newLoop(t)
		srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", GRO: gro})
		sr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
			if len(r.got) == 11 {
				l.Stop()
			}
		}
		cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String(), GSO: udp.OffloadOn})
		if st := cli.Offload(); !st.GSO {
			t.Fatalf("GSO off on the sender: %+v", st)
		}
		if err := cli.SendSegments(run11(), 1200, udp.Addr{}); err != nil {
			t.Fatal(err)
		}
		run(t, l)
		checkRun(t, sr.got)
		st := srv.Offload()
		if gro == udp.OffloadAuto && (!st.GRO || st.GROBuffers != 1) || gro == udp.OffloadOff && (st.GRO || st.GROBuffers != 0) {
			t.Fatalf("GRO %v: receiver's offload %+v", gro, st)
		}
	}
}

// A GSO send that fails as a device without checksum offload fails it (EIO, injected in
// internal/sock) falls back to single datagrams for that destination for good: nothing lost,
// nothing twice, order kept, both when the failure meets the send at once and when it meets it
// from the queue (after an EAGAIN).
func TestGSOFallbackLosesAndDuplicatesNothing(t *testing.T) {
	for first, attempts := range map[syscall.Errno]int{
		syscall.EIO:    1, // the second run goes plain: GSO is off for that destination
		syscall.EAGAIN: 2, // both queued: the first meets the failure from the queue, the second is split unsent
	} {
		calls := 0
		sock.GSOFault = func(int) syscall.Errno {
			if calls++; calls == 1 {
				return first
			}
			return syscall.EIO
		}
		l := newLoop(t)
		srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
		sr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
			if len(r.got) == 22 {
				l.CallLater(20*time.Millisecond, l.Stop)
			}
		}
		cli, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
		l.CallSoon(func() {
			for range 2 {
				if err := cli.SendSegments(run11(), 1200, srv.LocalAddr()); err != nil {
					t.Error(err)
				}
			}
		})
		run(t, l)
		sock.GSOFault = nil
		if len(sr.got) != 22 {
			t.Fatalf("first %v: %d datagrams, want 22", first, len(sr.got))
		}
		checkRun(t, sr.got[:11])
		checkRun(t, sr.got[11:])
		st := cli.Offload()
		if st.GSOFallbacks != 1 || !st.GSO || calls != attempts {
			t.Fatalf("first %v: %+v after %d GSO attempts; want one fallback, GSO still on, %d attempts", first, st, calls, attempts)
		}
	}
}

// PauseReading in the middle of a GRO buffer holds the rest of its segments, which
// ResumeReading delivers in order.
func TestPauseInTheMiddleOfAGROBuffer(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	sr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
		switch len(r.got) {
		case 3:
			r.t.PauseReading()
			l.CallLater(10*time.Millisecond, r.t.ResumeReading)
		case 11:
			l.Stop()
		}
	}
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	cli.SendSegments(run11(), 1200, udp.Addr{})
	run(t, l)
	checkRun(t, sr.got)
	if srv.Offload().GROBuffers != 1 {
		t.Fatalf("%+v", srv.Offload())
	}
}

func TestSendSegmentsRefusesBadRuns(t *testing.T) {
	l := newLoop(t)
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: "127.0.0.1:9"})
	for _, c := range []struct {
		data    []byte
		segment int
		want    string
	}{
		{make([]byte, 10), 0, "segment size 0"},
		{nil, 100, "no data"},
		{make([]byte, 65*100), 100, "more than 64 datagrams"},
		{make([]byte, 65528), 1500, "more than one UDP send holds"},
	} {
		if err := cli.SendSegments(c.data, c.segment, udp.Addr{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SendSegments(%d bytes, %d) = %v; want %q", len(c.data), c.segment, err, c.want)
		}
	}
}

// Python's socket module sends a GSO run (sendmsg with UDP_SEGMENT, which Python 3.11 does not
// name: 103) to our GRO receiver, which delivers its datagrams.
func TestGSOFromPython(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	out, err := testpeer.PythonClient(t, l, guard, "testdata/gso.py", "127.0.0.1", fmt.Sprint(srv.LocalAddr().AddrPort().Port()))
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	checkRun(t, sr.got)
	if srv.Offload().GROBuffers != 1 {
		t.Fatalf("%+v", srv.Offload())
	}
}

// Replies staged while a batch is delivered, to one peer and of one size, leave as one GSO send:
// the peer (with GRO) receives them as one buffer, in order. When that send fails (EIO injected)
// the same replies go one by one: all of them, once each.
func TestStagedRepliesLeaveAsOneGSORun(t *testing.T) {
	for _, fail := range []bool{false, true} {
		if fail {
			sock.GSOFault = func(int) syscall.Errno { return syscall.EIO }
		}
		l := newLoop(t)
		srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
		echo(t, sr)
		cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
		cr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
			if len(r.got) == 11 {
				l.CallLater(20*time.Millisecond, l.Stop)
			}
		}
		l.CallSoon(func() { // the burst is in the server's socket before it reads: one batch
			if err := cli.SendSegments(run11(), 1200, udp.Addr{}); err != nil {
				t.Error(err)
			}
		})
		run(t, l)
		sock.GSOFault = nil
		checkRun(t, cr.got)
		st := srv.Offload()
		switch {
		case !fail && (cli.Offload().GROBuffers == 0 || st.GSOFallbacks != 0):
			t.Fatalf("the echoes did not arrive as a GRO buffer: server %+v, client %+v", st, cli.Offload())
		case fail && (st.GSOFallbacks != 1 || cli.Offload().GROBuffers != 0):
			t.Fatalf("with GSO failing: server %+v, client %+v", st, cli.Offload())
		}
	}
}

// runPing counts the datagrams of a returning run and signals when all 11 are back.
type runPing struct {
	echoProto
	n       int
	replies chan struct{}
}

func (p *runPing) DatagramReceived([]byte, udp.Addr) {
	if p.n++; p.n == 11 {
		p.n = 0
		p.replies <- struct{}{}
	}
}

// A GSO run sent, received as a GRO buffer, echoed as staged replies merged into one GSO run, and
// received again as a GRO buffer: no allocation per round trip.
func TestGSORunRoundTripDoesNotAllocate(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &echoProto{} },
		udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ping := &runPing{replies: make(chan struct{}, 1)}
	cli, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return ping },
		udp.Options{RemoteAddr: srv.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	data := run11()
	send := func() { cli.SendSegments(data, 1200, udp.Addr{}) }
	trip := func() {
		l.CallSoonThreadsafe(send)
		<-ping.replies
	}
	for range 50 {
		trip()
	}
	allocs := testing.AllocsPerRun(200, trip)
	var st udp.OffloadState
	l.CallSoonThreadsafe(func() { st = cli.Offload(); cli.Close(); srv.Close(); l.CallSoon(l.Stop) })
	if err := <-done; err != nil {
		t.Error(err)
	}
	l.Close()
	if allocs != 0 || st.GROBuffers < 200 {
		t.Fatalf("%v allocations per round trip of a run (%d GRO buffers received), want 0", allocs, st.GROBuffers)
	}
}

// A socket handed over with UDP_GRO or IP_RECVERR already on (Options.Sock) does not surprise the
// transport: GRO buffers are split as on its own sockets, and the error queue is drained and
// reported (an unconnected endpoint hears of a dead port, and the loop does not spin).
func TestAdoptedSocketWithGROAndRecvErr(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	for _, opt := range [][2]int{{17 /* SOL_UDP */, 104 /* UDP_GRO */}, {syscall.IPPROTO_IP, syscall.IP_RECVERR}} {
		if err := syscall.SetsockoptInt(fd, opt[0], opt[1], 1); err != nil {
			t.Fatal(err)
		}
	}
	l := newLoop(t)
	deadAddr := closedPort(t, l, "127.0.0.1")
	f := os.NewFile(uintptr(fd), "caller's socket")
	srv, sr := endpoint(t, l, udp.Options{Sock: f})
	f.Close()
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	sr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
		if len(r.got) == 11 {
			r.t.SendTo([]byte("to nobody"), deadAddr)
		}
	}
	sr.onErr = func(*recorder, error) { l.CallLater(30*time.Millisecond, l.Stop) }
	cli.SendSegments(run11(), 1200, udp.Addr{})
	run(t, l)
	if st := srv.Offload(); !st.GRO || st.GROBuffers != 1 {
		t.Fatalf("adopted socket's offload %+v", st)
	}
	checkRun(t, sr.got)
	var ie *udp.ICMPError
	if len(sr.errs) != 1 || !errors.As(sr.errs[0], &ie) || ie.Dest != deadAddr {
		t.Fatalf("errors %v; want one *ICMPError for %v", sr.errs, deadAddr)
	}
}

// Actions on its own transport from inside DatagramReceived, in the middle of a GRO buffer (the
// 3rd of its 11 datagrams): after Close or Abort (once or twice) nothing more is delivered and
// ConnectionLost comes once, last; a SendTo and a SendSegments made there before Close (a staged
// reply, then a GSO run, which must follow it) reach the peer in that order, all of them.
func TestActionsFromInsideAGROBuffer(t *testing.T) {
	for name, act := range map[string]func(tr *udp.Transport, from udp.Addr){
		"Close":        func(tr *udp.Transport, _ udp.Addr) { tr.Close() },
		"Close twice":  func(tr *udp.Transport, _ udp.Addr) { tr.Close(); tr.Close() },
		"Abort":        func(tr *udp.Transport, _ udp.Addr) { tr.Abort() },
		"Abort, Close": func(tr *udp.Transport, _ udp.Addr) { tr.Abort(); tr.Close() },
		"SendTo, SendSegments, Close": func(tr *udp.Transport, from udp.Addr) {
			tr.SendTo([]byte("first"), from)
			tr.SendSegments(run11(), 1200, from)
			tr.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLoop(t)
			srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
			sr.onData = func(r *recorder, _ []byte, from udp.Addr) {
				if len(r.lost) > 0 {
					t.Error("DatagramReceived after ConnectionLost")
				}
				if len(r.got) == 3 {
					act(r.t, from)
				}
			}
			sr.onLost = func(*recorder, error) { l.CallLater(30*time.Millisecond, l.Stop) }
			cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
			cli.SendSegments(run11(), 1200, udp.Addr{})
			run(t, l)
			if len(sr.got) != 3 || len(sr.lost) != 1 || sr.events[len(sr.events)-1] != "lost" {
				t.Fatalf("delivered %d, ConnectionLost %v, events %v", len(sr.got), sr.lost, sr.events)
			}
			if srv.Offload().GROBuffers != 1 {
				t.Fatalf("the run did not arrive as a GRO buffer: %+v", srv.Offload())
			}
			if strings.HasPrefix(name, "SendTo") {
				if len(cr.got) != 12 || cr.got[0].data != "first" {
					t.Fatalf("the peer got %d datagrams", len(cr.got))
				}
				checkRun(t, cr.got[1:])
			} else if len(cr.got) != 0 {
				t.Fatalf("the peer got %d datagrams", len(cr.got))
			}
		})
	}
}
