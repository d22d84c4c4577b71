//go:build linux || windows

package udp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// The answers to a received batch leave together, after the batch: each is a copy taken when
// SendTo was called, so the protocol may reuse its buffer at once, and none is lost or reordered.
func TestRepliesToABatchAreCopiesSentInOrder(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	const n = 100
	c := burst(t, tr, n)
	scratch := make([]byte, 64)
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		k := copy(scratch, data)
		if err := r.t.SendTo(scratch[:k], from); err != nil {
			t.Error(err)
		}
		copy(scratch, "overwritten after SendTo returned")
		if len(r.got) == n {
			l.Stop()
		}
	}
	run(t, l)
	got := replies(c, time.Second)
	if len(got) != n {
		t.Fatalf("%d replies to %d datagrams", len(got), n)
	}
	for i, g := range got {
		if want := fmt.Sprintf("datagram %03d", i); g != want {
			t.Fatalf("reply %d is %q, want %q", i, g, want)
		}
	}
}

// Close from DatagramReceived sends what SendTo staged before it; Abort drops it.
func TestCloseSendsStagedRepliesAbortDropsThem(t *testing.T) {
	for _, abort := range []bool{false, true} {
		l := newLoop(t)
		tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
		c := burst(t, tr, 3)
		r.onData = func(r *recorder, data []byte, from udp.Addr) {
			r.t.SendTo(data, from)
			if abort {
				r.t.Abort()
			} else {
				r.t.Close()
			}
		}
		r.onLost = func(*recorder, error) { l.Stop() }
		run(t, l)
		if len(r.got) != 1 || len(r.lost) != 1 || r.lost[0] != nil {
			t.Fatalf("abort %v: delivered %d datagrams after closing, ConnectionLost %v", abort, len(r.got), r.lost)
		}
		got := replies(c, 200*time.Millisecond)
		if want := []string{"datagram 000"}; abort && len(got) != 0 || !abort && !slices.Equal(got, want) {
			t.Fatalf("abort %v: the client got %q", abort, got)
		}
	}
}

// An error for one staged datagram goes to ErrorReceived after the batch; the others still go.
func TestStagedSendErrorIsReported(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	c := burst(t, tr, 1)
	bcast := udp.AddrFromAddrPort(netip.MustParseAddrPort("255.255.255.255:9"))
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		r.t.SendTo(data, bcast) // EACCES: AllowBroadcast is off
		r.t.SendTo(data, from)
		if len(r.errs) != 0 {
			t.Error("the error was reported before the batch was delivered")
		}
	}
	r.onErr = func(*recorder, error) { l.Stop() }
	run(t, l)
	if len(r.errs) != 1 || !errors.Is(r.errs[0], syscall.EACCES) {
		t.Fatalf("ErrorReceived %v, want EACCES", r.errs)
	}
	if got := replies(c, time.Second); !slices.Equal(got, []string{"datagram 000"}) {
		t.Fatalf("the client got %q", got)
	}
}
