//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// Loop.Close with live endpoints closes their sockets and runs each ConnectionLost once, on
// Close's caller, with an error matching net.ErrClosed; one already lost keeps its own error.
//
// Fault: Loop.Close with live endpoints → each socket closed and ConnectionLost once, with an error matching net.ErrClosed (or the endpoint's own, if already lost)
func TestLoopCloseClosesLiveEndpoints(t *testing.T) {
	before := testfd.Open(t)
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []*recorder
	var trs []*udp.Transport
	for range 3 {
		r := &recorder{}
		tr, p, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return r }, udp.Options{LocalAddr: "127.0.0.1:0"})
		if err != nil || p != r {
			t.Fatal(err)
		}
		recs, trs = append(recs, r), append(trs, tr)
	}
	trs[1].SendTo([]byte("x"), trs[0].LocalAddr())
	trs[2].Close() // ConnectionLost(nil) scheduled, not run: Close runs it with nil
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		switch {
		case len(r.lost) != 1 || !trs[i].IsClosing():
			t.Fatalf("endpoint %d: ConnectionLost %v, closing %v", i, r.lost, trs[i].IsClosing())
		case i < 2 && !errors.Is(r.lost[0], net.ErrClosed):
			t.Fatalf("endpoint %d: ConnectionLost(%v), want an error matching net.ErrClosed", i, r.lost[0])
		case i == 2 && r.lost[0] != nil:
			t.Fatalf("closed endpoint: ConnectionLost(%v), want nil", r.lost[0])
		}
		if err := trs[i].SendTo([]byte("late"), trs[0].LocalAddr()); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("SendTo after Loop.Close = %v", err)
		}
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// Shutdown closes every endpoint (ConnectionLost(nil)), stops the loop that Start runs and closes
// it; a create function on the closed loop then fails with an error matching net.ErrClosed.
func TestShutdownClosesEndpoints(t *testing.T) {
	before := testfd.Open(t)
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := l.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return r }, udp.Options{LocalAddr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || len(r.lost) != 1 || r.lost[0] != nil {
		t.Fatalf("Run = %v, ConnectionLost %v", err, r.lost)
	}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return &recorder{} }, udp.Options{LocalAddr: "127.0.0.1:0"}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("create on a shut-down loop = %v", err)
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// A done context fails the creation with its error, before any socket or lookup, and a nil
// pointer from a typed factory is refused as a nil protocol, with the socket closed.
func TestCreateWithACancelledContextOrANilProtocol(t *testing.T) {
	l := newLoop(t)
	before := testfd.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := udp.CreateDatagramEndpoint(ctx, l, func() *recorder { return &recorder{} }, udp.Options{RemoteAddr: "localhost:53"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("create with a cancelled context = %v", err)
	}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return nil }, udp.Options{LocalAddr: "127.0.0.1:0"}); err == nil {
		t.Fatal("a nil *recorder was accepted as a protocol")
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// Loop.Close runs each ConnectionLost on its caller; from there a protocol acts on its own
// transport (Close, Abort, SendTo, twice) and on the others (Abort, SendTo), schedules a callback
// and tries to make a new endpoint. Each ConnectionLost still runs once, the acts are refused or
// do nothing, nothing is reported and no descriptor is left, whichever order Close meets them in.
func TestActionsFromConnectionLostDuringLoopClose(t *testing.T) {
	before := testfd.Open(t)
	for round := range 20 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var reports []loop.Exception
		l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
		var trs []*udp.Transport
		var recs []*recorder
		var lateErrs []error
		for range 3 {
			r := &recorder{}
			tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return r }, udp.Options{LocalAddr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			trs, recs = append(trs, tr), append(recs, r)
		}
		for i, r := range recs {
			r.onLost = func(*recorder, error) {
				me, other := trs[i], trs[(i+1)%len(trs)]
				for range 2 {
					if err := me.SendTo([]byte("x"), other.LocalAddr()); !errors.Is(err, net.ErrClosed) {
						t.Errorf("round %d: SendTo from its own ConnectionLost = %v", round, err)
					}
					me.Close()
					me.Abort()
					other.SendTo([]byte("y"), me.LocalAddr())
					other.Abort()
				}
				l.CallSoon(func() { t.Error("a callback scheduled during Close ran") })
				_, _, lateErr := udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return &recorder{} }, udp.Options{LocalAddr: "127.0.0.1:0"})
				lateErrs = append(lateErrs, lateErr)
			}
		}
		if round%2 == 1 {
			trs[0].Close() // one already lost, its ConnectionLost scheduled
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if len(r.lost) != 1 || r.events[len(r.events)-1] != "lost" {
				t.Fatalf("round %d: endpoint %d: ConnectionLost %v, events %v", round, i, r.lost, r.events)
			}
		}
		for _, err := range lateErrs {
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("round %d: an endpoint made from ConnectionLost during Close: %v", round, err)
			}
		}
		if len(reports) != 0 {
			t.Fatalf("round %d: reports %+v", round, reports)
		}
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}
