package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testpeer"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// infoRecorder is a recorder that takes per-datagram information: it keeps a copy of each info.
type infoRecorder struct {
	*recorder
	infos  []udp.RecvInfo
	onInfo func(r *infoRecorder, data []byte, from udp.Addr, info *udp.RecvInfo)
}

func (r *infoRecorder) DatagramReceivedInfo(data []byte, from udp.Addr, info *udp.RecvInfo) {
	r.infos = append(r.infos, *info)
	r.recorder.DatagramReceived(data, from)
	if r.onInfo != nil {
		r.onInfo(r, data, from, info)
	}
}

func infoEndpoint(t *testing.T, l *loop.Loop, opts udp.Options) (*udp.Transport, *infoRecorder) {
	t.Helper()
	r := &infoRecorder{recorder: &recorder{}}
	tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return r }, opts)
	if err != nil {
		t.Fatalf("CreateDatagramEndpoint(%+v): %v", opts, err)
	}
	t.Cleanup(func() { closeAndDrain(l, tr) })
	return tr, r
}

// A server on the wildcard address learns which address each datagram was sent to, and answers
// from it: a client connected to 127.0.0.2 (or 127.0.0.3, or ::1) accepts only datagrams from that
// address, so its reply arriving proves the source. Replies go both staged (from the callback,
// mid-batch) and at once (from a later callback, outside any batch).
func TestDestinationReportedAndAnsweredFrom(t *testing.T) {
	for _, staged := range []bool{true, false} {
		l := newLoop(t)
		srv, sr := infoEndpoint(t, l, udp.Options{LocalAddr: ":0", ReceiveInfo: udp.InfoDestination})
		sr.onInfo = func(r *infoRecorder, data []byte, from udp.Addr, info *udp.RecvInfo) {
			reply := append([]byte("re: "), data...)
			src := info.Dst
			send := func() {
				if err := r.t.SendToInfo(reply, from, udp.SendInfo{Src: src}); err != nil {
					t.Errorf("SendToInfo: %v", err)
				}
			}
			if staged {
				send()
			} else {
				l.CallSoon(send)
			}
		}
		port := srv.LocalAddr().AddrPort().Port()
		hosts := []string{"127.0.0.2", "127.0.0.3", "::1"}
		got := 0
		clients := make(map[string]*recorder)
		for _, h := range hosts {
			c, cr := endpoint(t, l, udp.Options{RemoteAddr: netip.AddrPortFrom(netip.MustParseAddr(h), port).String()})
			cr.onData = func(*recorder, []byte, udp.Addr) {
				if got++; got == len(hosts) {
					l.Stop()
				}
			}
			clients[h] = cr
			c.Send([]byte("to " + h))
		}
		run(t, l)
		for i, d := range sr.got {
			want := strings.TrimPrefix(d.data, "to ")
			if sr.infos[i].Dst != netip.MustParseAddr(want) || sr.infos[i].IfIndex == 0 {
				t.Errorf("staged=%v: %q reported as sent to %v (interface %d)", staged, d.data, sr.infos[i].Dst, sr.infos[i].IfIndex)
			}
		}
		for h, cr := range clients {
			if len(cr.got) != 1 || cr.got[0].data != "re: to "+h {
				t.Errorf("staged=%v: the client of %s got %+v", staged, h, cr.got)
			}
		}
	}
}

// TOS marks (ECN) set on send are read on receive, over IPv4 and IPv6; the TTL and the kernel's
// receive time come with them.
func TestTOSSentIsReceived(t *testing.T) {
	start := time.Now()
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		l := newLoop(t)
		srv, sr := infoEndpoint(t, l, udp.Options{LocalAddr: host + ":0", ReceiveInfo: udp.InfoTOS | udp.InfoTTL | udp.InfoTime})
		sr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
		cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
		const tos = 0xb8 | 0x01 // DSCP EF, ECT(1)
		if err := cli.SendToInfo([]byte("marked"), udp.Addr{}, udp.SendInfo{TOS: tos, SetTOS: true}); err != nil {
			t.Fatal(err)
		}
		run(t, l)
		if len(sr.infos) != 1 {
			t.Fatalf("%s: %d datagrams", host, len(sr.infos))
		}
		info := sr.infos[0]
		if !info.HasTOS || info.TOS != tos || info.ECN() != 1 || info.TTL <= 0 || info.Truncated ||
			info.Time.Before(start.Add(-time.Second)) || info.Dst.IsValid() {
			t.Fatalf("%s: info %+v", host, info)
		}
	}
}

// Without ReceiveInfo an InfoReceiver still gets every datagram, with empty information; with it,
// a plain Protocol still gets DatagramReceived.
func TestInfoReceiverAndOptionIndependent(t *testing.T) {
	l := newLoop(t)
	srv, sr := infoEndpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	plain, pr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", ReceiveInfo: udp.InfoDestination | udp.InfoTTL})
	n := 0
	stop := func(*recorder, []byte, udp.Addr) {
		if n++; n == 2 {
			l.Stop()
		}
	}
	sr.onData, pr.onData = stop, stop
	cli, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	cli.SendTo([]byte("a"), srv.LocalAddr())
	cli.SendTo([]byte("b"), plain.LocalAddr())
	run(t, l)
	if len(sr.infos) != 1 || sr.infos[0] != (udp.RecvInfo{TTL: -1}) || len(pr.got) != 1 {
		t.Fatalf("info receiver %+v, plain protocol %+v", sr.infos, pr.got)
	}
}

// Datagrams held by PauseReading mid-batch keep their information until ResumeReading delivers
// them.
func TestHeldDatagramsKeepTheirInfo(t *testing.T) {
	l := newLoop(t)
	srv, sr := infoEndpoint(t, l, udp.Options{LocalAddr: ":0", ReceiveInfo: udp.InfoDestination})
	sr.onInfo = func(r *infoRecorder, _ []byte, _ udp.Addr, _ *udp.RecvInfo) {
		switch len(r.infos) {
		case 1:
			r.t.PauseReading()
			l.CallLater(10*time.Millisecond, r.t.ResumeReading)
		case 5:
			l.Stop()
		}
	}
	port := srv.LocalAddr().AddrPort().Port()
	c, _ := endpoint(t, l, udp.Options{RemoteAddr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), port).String()})
	l.CallSoon(func() { // all five in the socket before the server reads: one batch
		for range 5 {
			c.Send([]byte("x"))
		}
	})
	run(t, l)
	if len(sr.infos) != 5 {
		t.Fatalf("%d datagrams", len(sr.infos))
	}
	for i, info := range sr.infos {
		if info.Dst != netip.MustParseAddr("127.0.0.2") {
			t.Fatalf("datagram %d: Dst %v", i, info.Dst)
		}
	}
}

func TestInfoOptionsAndErrors(t *testing.T) {
	l := newLoop(t)
	for _, c := range []struct {
		opts udp.Options
		want string
	}{
		{udp.Options{LocalAddr: "127.0.0.1:0", ReceiveInfo: 0x80}, "Options.ReceiveInfo has unknown bits 0x80"},
		{udp.Options{LocalAddr: "/tmp/x.sock", ReceiveInfo: udp.InfoTOS}, "Options.ReceiveInfo is for IP endpoints"},
	} {
		if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.opts, err, c.want)
		}
	}
	v4, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	err := v4.SendToInfo([]byte("x"), v4.LocalAddr(), udp.SendInfo{Src: netip.MustParseAddr("::1")})
	if !errors.Is(err, udp.ErrDestination) || !strings.Contains(err.Error(), "SendInfo.Src ::1") {
		t.Errorf("an IPv6 source for an IPv4 destination: %v", err)
	}
	ux, _ := endpoint(t, l, udp.Options{LocalAddr: t.TempDir() + "/u.sock"})
	if err := ux.SendToInfo([]byte("x"), ux.LocalAddr(), udp.SendInfo{SetTOS: true}); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendInfo on a Unix endpoint: %v", err)
	}
}

// infoEcho answers every datagram from the address it was sent to, with its TOS; it allocates
// nothing.
type infoEcho struct{ t *udp.Transport }

func (p *infoEcho) ConnectionMade(t *udp.Transport)   { p.t = t }
func (p *infoEcho) DatagramReceived([]byte, udp.Addr) { panic("DatagramReceived with an InfoReceiver") }
func (p *infoEcho) ErrorReceived(error)               {}
func (p *infoEcho) ConnectionLost(error)              {}
func (p *infoEcho) DatagramReceivedInfo(data []byte, from udp.Addr, info *udp.RecvInfo) {
	p.t.SendToInfo(data, from, udp.SendInfo{Src: info.Dst, TOS: info.TOS, SetTOS: info.HasTOS})
}

// Zero allocations per echoed datagram with every option on: all information asked for and parsed,
// the reply sent from the destination address with the TOS received.
func TestEchoWithEveryInfoDoesNotAllocate(t *testing.T) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &infoEcho{} },
		udp.Options{LocalAddr: ":0", ReceiveInfo: udp.InfoDestination | udp.InfoTOS | udp.InfoTTL | udp.InfoTime})
	if err != nil {
		t.Fatal(err)
	}
	ping := &pingProto{replies: make(chan struct{}, 1)}
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), srv.LocalAddr().AddrPort().Port())
	cli, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return ping }, udp.Options{RemoteAddr: to.String()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	msg := make([]byte, 64)
	send := func() { cli.SendToInfo(msg, udp.Addr{}, udp.SendInfo{TOS: 2, SetTOS: true}) }
	trip := func() {
		l.CallSoonThreadsafe(send)
		<-ping.replies
	}
	for range 100 {
		trip()
	}
	allocs := testing.AllocsPerRun(1000, trip)
	l.CallSoonThreadsafe(func() { cli.Close(); srv.Close(); l.CallSoon(l.Stop) })
	if err := <-done; err != nil {
		t.Error(err)
	}
	l.Close()
	if allocs != 0 {
		t.Fatalf("%v allocations per echoed datagram with every option on, want 0", allocs)
	}
}

// Python's socket module as the peer nobody here wrote, both ways. Its client sends with IP_TOS in
// sendmsg to 127.0.0.2 on our wildcard server, which sees both and answers from that address with
// that TOS; Python's recvmsg reports the reply's source, its destination (IP_PKTINFO) and TOS.
// Then our client sends with a TOS to Python's wildcard server at 127.0.0.3, which answers with
// sendmsg and IP_PKTINFO from the address asked; our client is connected to it, so the answer
// arriving proves its source, and it carries the TOS back.
func TestPacketInfoWithPython(t *testing.T) {
	l := newLoop(t)
	srv, sr := infoEndpoint(t, l, udp.Options{LocalAddr: ":0", ReceiveInfo: udp.InfoDestination | udp.InfoTOS})
	sr.onInfo = func(r *infoRecorder, data []byte, from udp.Addr, info *udp.RecvInfo) {
		r.t.SendToInfo([]byte(fmt.Sprintf("re: %s dst=%v tos=%d", data, info.Dst, info.TOS)), from,
			udp.SendInfo{Src: info.Dst, TOS: info.TOS, SetTOS: true})
	}
	out, err := testpeer.PythonClient(t, l, guard, "testdata/pktinfo.py", "client", "127.0.0.2", fmt.Sprint(srv.LocalAddr().AddrPort().Port()))
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	if want := "reply re: ping dst=127.0.0.2 tos=42 from 127.0.0.2 to 127.0.0.1 tos 42\n"; string(out) != want {
		t.Fatalf("python client printed %q, want %q", out, want)
	}

	line, _ := testpeer.PythonServer(t, guard, "testdata/pktinfo.py", "server")
	f := strings.Fields(line)
	if len(f) != 2 || f[0] != "listening" {
		t.Fatalf("python server said %q", line)
	}
	l2 := newLoop(t)
	cli, cr := infoEndpoint(t, l2, udp.Options{RemoteAddr: "127.0.0.3:" + f[1], ReceiveInfo: udp.InfoTOS})
	cr.onData = func(*recorder, []byte, udp.Addr) { l2.Stop() }
	if err := cli.SendToInfo([]byte("hello"), udp.Addr{}, udp.SendInfo{TOS: 0x2a, SetTOS: true}); err != nil {
		t.Fatal(err)
	}
	run(t, l2)
	if len(cr.got) != 1 || cr.got[0].data != "re: hello dst=127.0.0.3 tos=42" || cr.infos[0].TOS != 0x2a {
		t.Fatalf("from Python: %+v %+v", cr.got, cr.infos)
	}
}
