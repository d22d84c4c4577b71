package udp_test

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// An unconnected endpoint with ICMPErrors sends to a port nobody listens on and to a live echo
// peer, over and over: each port unreachable reaches ErrorReceived as an *ICMPError naming the dead
// destination (ECONNREFUSED), while the datagrams to the live peer still flow and every one of them
// is echoed; nothing is reported as a bare error, and the loop does not spin on the error queue.
//
// Fault: ICMP port unreachable for a datagram from an unconnected endpoint (IPv4, IPv6) → ErrorReceived(*ICMPError) naming the destination; datagrams to live peers still flow; the loop does not spin
func TestICMPErrorsOnAnUnconnectedEndpoint(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		l := newLoop(t)
		deadAddr := closedPort(t, l, host)
		live, lr := endpoint(t, l, udp.Options{LocalAddr: host + ":0"})
		echo(t, lr)
		ep, er := endpoint(t, l, udp.Options{LocalAddr: host + ":0", ICMPErrors: true})
		const n = 20
		rounds(l, n, func() {
			ep.SendTo([]byte("to nobody"), deadAddr)
			ep.SendTo([]byte("ping"), live.LocalAddr())
		})
		run(t, l)
		if len(er.got) != n {
			t.Errorf("%s: %d echoes of %d", host, len(er.got), n)
		}
		if len(er.errs) == 0 {
			t.Fatalf("%s: no ICMP error reported", host)
		}
		for _, err := range er.errs {
			var ie *udp.ICMPError
			if !errors.As(err, &ie) || ie.Dest != deadAddr || !errors.Is(err, syscall.ECONNREFUSED) ||
				!strings.Contains(err.Error(), deadAddr.String()) {
				t.Fatalf("%s: ErrorReceived(%v); want an *ICMPError for %v, ECONNREFUSED", host, err, deadAddr)
			}
		}
		if len(er.errs) > n {
			t.Fatalf("%s: %d errors for %d datagrams to the dead port: some twice", host, len(er.errs), n)
		}
		// Idle now: the queue was drained, so EPOLLERR is down and the loop sleeps.
		before := l.Stats().Iterations
		l.CallLater(50*time.Millisecond, l.Stop)
		run(t, l)
		if n := l.Stats().Iterations - before; n > 20 {
			t.Fatalf("%s: %d loop iterations in an idle 50 ms: spinning on the error queue", host, n)
		}
	}
}

// Without the option (asyncio's behaviour) an unconnected endpoint hears nothing of them.
func TestICMPErrorsAreOptIn(t *testing.T) {
	l := newLoop(t)
	deadAddr := closedPort(t, l, "127.0.0.1")
	ep, er := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	l.CallSoon(func() {
		for range 5 {
			ep.SendTo([]byte("to nobody"), deadAddr)
		}
	})
	l.CallLater(50*time.Millisecond, l.Stop)
	run(t, l)
	if len(er.errs) != 0 {
		t.Fatalf("errors %v without ICMPErrors", er.errs)
	}
}

// The same from inside DatagramReceived, where replies are staged and leave in one sendmmsg after
// the batch: a reply to a dead port, then one to the live client, for each of its datagrams. Every
// reply to the client arrives (a flush that meets the dead port's pending error reports it from the
// queue and sends again), and every error names the dead port.
func TestICMPErrorsDuringStagedReplies(t *testing.T) {
	l := newLoop(t)
	deadAddr := closedPort(t, l, "127.0.0.1")
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", ICMPErrors: true})
	sr.onData = func(r *recorder, data []byte, from udp.Addr) {
		r.t.SendTo([]byte("to nobody"), deadAddr)
		r.t.SendTo(data, from)
	}
	cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	const n = 20
	rounds(l, n, func() { cli.Send([]byte("ping")) })
	run(t, l)
	if len(cr.got) != n {
		t.Fatalf("%d replies of %d reached the client", len(cr.got), n)
	}
	if len(sr.errs) == 0 {
		t.Fatal("no ICMP error reported")
	}
	for _, err := range sr.errs {
		var ie *udp.ICMPError
		if !errors.As(err, &ie) || ie.Dest != deadAddr {
			t.Fatalf("ErrorReceived(%v); want an *ICMPError for %v", err, deadAddr)
		}
	}
}

// A flush of staged replies that starts with the error of the flush before it: the staging fills
// (udp.Staging replies) with a datagram to a dead port last, so its port unreachable is pending
// when the next flush's first datagram, to the live client, goes. That send fails with the other
// datagram's error; the transport reports it from the queue, naming the dead port, and sends the
// live reply again: it arrives, and no bare ECONNREFUSED is reported.
//
// Fault: another datagram's ICMP error pending when a batch of replies is sent → reported once from the error queue, naming its destination; the live reply is sent again and arrives
func TestICMPErrorPendingAtTheStartOfAFlushIsNotTheReplysError(t *testing.T) {
	l := newLoop(t)
	deadAddr := closedPort(t, l, "127.0.0.1")
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", ICMPErrors: true})
	sr.onData = func(r *recorder, data []byte, from udp.Addr) {
		for i := range udp.Staging - 1 {
			r.t.SendTo(fmt.Appendf(nil, "fill %02d", i), from)
		}
		r.t.SendTo([]byte("to nobody"), deadAddr) // fills the staging: flushed before the next
		r.t.SendTo([]byte("after the error"), from)
	}
	cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	cr.onData = func(r *recorder, data []byte, _ udp.Addr) {
		if string(data) == "after the error" {
			l.CallLater(20*time.Millisecond, l.Stop)
		}
	}
	l.CallSoon(func() { cli.Send([]byte("ping")) })
	l.CallLater(2*time.Second, l.Stop)
	run(t, l)
	if len(cr.got) != udp.Staging || cr.got[len(cr.got)-1].data != "after the error" {
		t.Fatalf("the client got %d datagrams of %d, the last %q; want the reply after the error last",
			len(cr.got), udp.Staging, cr.got[len(cr.got)-1].data)
	}
	if len(sr.errs) != 1 {
		t.Fatalf("ErrorReceived %v; want the dead port's error alone", sr.errs)
	}
	var ie *udp.ICMPError
	if !errors.As(sr.errs[0], &ie) || ie.Dest != deadAddr {
		t.Fatalf("ErrorReceived(%v); want an *ICMPError for %v", sr.errs[0], deadAddr)
	}
}
