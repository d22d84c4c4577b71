//go:build linux || windows

package udp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// actions a protocol may take on its own transport from inside a callback.
var actions = map[string]func(t *udp.Transport, to udp.Addr){
	"Close":         func(t *udp.Transport, _ udp.Addr) { t.Close() },
	"Close twice":   func(t *udp.Transport, _ udp.Addr) { t.Close(); t.Close() },
	"Abort":         func(t *udp.Transport, _ udp.Addr) { t.Abort() },
	"Abort twice":   func(t *udp.Transport, _ udp.Addr) { t.Abort(); t.Abort() },
	"Close, Abort":  func(t *udp.Transport, _ udp.Addr) { t.Close(); t.Abort() },
	"Abort, Close":  func(t *udp.Transport, _ udp.Addr) { t.Abort(); t.Close() },
	"SendTo, Close": func(t *udp.Transport, to udp.Addr) { t.SendTo([]byte("last"), to); t.Close() },
	"SendTo x2 Close": func(t *udp.Transport, to udp.Addr) {
		t.SendTo([]byte("a"), bcast)
		t.SendTo([]byte("b"), to)
		t.Close()
	},
	"Pause, Close": func(t *udp.Transport, _ udp.Addr) { t.PauseReading(); t.Close(); t.ResumeReading() },
}

// From DatagramReceived in the middle of a batch, from ErrorReceived after it, and from both (the
// second time from the ErrorReceived of a reply that the first one's Close flushed), every action
// ends the transport the same way: ConnectionLost exactly once, last, and nothing after it;
// SendTo after it is refused with net.ErrClosed; every datagram accepted before Close reaches the
// peer.
//
// Fault: Close, Abort and their pairs from DatagramReceived mid-batch, from ErrorReceived, and from both → ConnectionLost once, last, nothing after it; SendTo after it refused (net.ErrClosed); every datagram accepted before Close reaches the peer
func TestEveryActionFromEveryCallback(t *testing.T) {
	for _, from := range []string{"DatagramReceived", "ErrorReceived", "both"} {
		for name, act := range actions {
			t.Run(from+"/"+name, func(t *testing.T) {
				l := newLoop(t)
				tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
				c := burst(t, tr, 20)
				acted, actedTwice := false, false
				check := func(what string) {
					if len(r.lost) > 0 {
						t.Errorf("%s after ConnectionLost", what)
					}
				}
				r.onData = func(r *recorder, data []byte, src udp.Addr) {
					check("DatagramReceived")
					if acted {
						t.Errorf("DatagramReceived after %s", name)
					}
					switch {
					case from == "DatagramReceived" && len(r.got) == 5:
						acted = true
						act(r.t, src)
					case from == "both" && len(r.got) == 5:
						acted = true
						r.t.SendTo(data, bcast)
						act(r.t, src)
					case from == "ErrorReceived" && len(r.got) == 5:
						r.t.SendTo(data, bcast) // reported after the batch
					}
				}
				r.onErr = func(r *recorder, err error) {
					check("ErrorReceived")
					switch {
					case from == "ErrorReceived" && !acted:
						acted = true
						act(r.t, r.got[0].from)
					case from == "both" && acted && !actedTwice:
						actedTwice = true
						act(r.t, r.got[0].from)
					}
				}
				r.onLost = func(*recorder, error) { l.CallLater(30*time.Millisecond, l.Stop) }
				run(t, l)
				if !acted || len(r.lost) != 1 || r.events[len(r.events)-1] != "lost" {
					t.Fatalf("acted %v, ConnectionLost %v, events %v", acted, r.lost, r.events)
				}
				if err := tr.SendTo([]byte("x"), r.got[0].from); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("SendTo after ConnectionLost = %v", err)
				}
				got := replies(c, 100*time.Millisecond)
				want := 0
				switch name {
				case "SendTo, Close", "SendTo x2 Close":
					want = 1
				}
				if len(got) != want {
					t.Fatalf("the peer got %q; want %d datagram(s)", got, want)
				}
			})
		}
	}
}

// madeActs runs an action on its transport from ConnectionMade.
type madeActs struct {
	recorder
	act func(t *udp.Transport)
}

func (p *madeActs) ConnectionMade(t *udp.Transport) {
	p.recorder.ConnectionMade(t)
	p.act(t)
}

// Every action from ConnectionMade: the creation succeeds (closing there is the protocol's
// choice, as in asyncio), ConnectionLost follows once, and a SendTo before Close reaches the peer.
func TestEveryActionFromConnectionMade(t *testing.T) {
	for name, act := range actions {
		t.Run(name, func(t *testing.T) {
			l := newLoop(t)
			peer := newPeer(t)
			to := udp.AddrFromAddrPort(peer.AddrPort())
			p := &madeActs{act: func(t *udp.Transport) { act(t, to) }}
			tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return p }, udp.Options{LocalAddr: "127.0.0.1:0"})
			if err != nil || !tr.IsClosing() {
				t.Fatalf("create = %v, closing %v", err, tr.IsClosing())
			}
			p.onLost = func(*recorder, error) { l.CallLater(10*time.Millisecond, l.Stop) }
			run(t, l)
			if len(p.lost) != 1 || p.events[len(p.events)-1] != "lost" {
				t.Fatalf("ConnectionLost %v, events %v", p.lost, p.events)
			}
			want := 0
			if strings.HasPrefix(name, "SendTo") {
				want = 1
			}
			if got := replies(peer, 100*time.Millisecond); len(got) != want {
				t.Fatalf("the peer got %q; want %d datagram(s)", got, want)
			}
		})
	}
}

// Creates from several goroutines race a Shutdown from another: each either made an endpoint,
// which Shutdown then closed gracefully (ConnectionLost(nil), once), or failed with an error
// matching net.ErrClosed having run nothing; Shutdown succeeds and no descriptor is left behind.
func TestCreateRacesShutdown(t *testing.T) {
	before := testfd.Open(t)
	for round := range 50 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		const creators = 4
		var recs [creators]*recorder
		var errs [creators]error
		var wg sync.WaitGroup
		for k := range creators {
			wg.Go(func() {
				recs[k] = &recorder{}
				_, _, errs[k] = udp.CreateDatagramEndpoint(context.Background(), l, func() *recorder { return recs[k] }, raceOptions(k))
			})
		}
		time.Sleep(time.Duration(round%4) * 50 * time.Microsecond)
		testloop.Shutdown(t, l, guard, fmt.Sprintf("round %d", round))
		wg.Wait()
		for k, r := range recs {
			switch {
			case errs[k] == nil && r.made == 1 && len(r.lost) == 1 && r.lost[0] == nil:
			case errors.Is(errs[k], net.ErrClosed) && r.made == 0 && len(r.lost) == 0:
			default:
				t.Fatalf("round %d: create = %v, ConnectionMade ran %d times, ConnectionLost %v", round, errs[k], r.made, r.lost)
			}
		}
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// CreateDatagramEndpoint from other goroutines while the loop stops and closes: each creation
// either succeeds (its ConnectionMade ran: the transport is live until closed) or fails with
// loop.ErrClosed having run nothing, and no descriptor is left behind.
//
// Fault: Loop.Close from another goroutine while endpoints are being created, every option on → each creation either succeeds or fails with loop.ErrClosed having run nothing; no descriptor left
func TestCreateRacesLoopClose(t *testing.T) {
	before := testfd.Open(t)
	for round := range 100 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- l.Run(context.Background()) }()
		const creators = 4
		var trs [creators]*udp.Transport
		var made [creators]int
		var recs [creators]*recorder
		var errs [creators]error
		var wg sync.WaitGroup
		for k := range creators {
			wg.Go(func() {
				r := &recorder{}
				recs[k] = r
				trs[k], _, errs[k] = udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return r }, raceOptions(k))
				made[k] = r.made
			})
		}
		time.Sleep(time.Duration(round%4) * 50 * time.Microsecond)
		l.Stop()
		<-ran
		l.Close()
		wg.Wait()
		for k := range creators {
			switch {
			case errs[k] == nil && made[k] == 1:
				// Made before the loop closed: Close closed it and ran its ConnectionLost.
				if lost := recs[k].lost; !trs[k].IsClosing() || len(lost) != 1 || !errors.Is(lost[0], net.ErrClosed) {
					t.Fatalf("round %d: a transport open at Close: closing=%v, ConnectionLost %v", round, trs[k].IsClosing(), lost)
				}
				trs[k].Abort() // nothing more runs
			case errors.Is(errs[k], loop.ErrClosed) && made[k] == 0 && trs[k] == nil:
			default:
				t.Fatalf("round %d: create = %v, ConnectionMade ran %d times", round, errs[k], made[k])
			}
		}
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}
