//go:build linux || windows

package udp_test

import (
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// The tests in this file drive the transport's state machine from inside its own protocol
// callbacks: Close, Abort and SendTo called from DatagramReceived and ErrorReceived, mid-batch.

// Close from DatagramReceived, with a staged reply that fails, and Close or Abort again from the
// ErrorReceived that reports it: ConnectionLost runs once, and last.
func TestCloseFromDatagramThenFromErrorLosesOnce(t *testing.T) {
	for _, again := range []string{"Close", "Abort"} {
		l := newLoop(t)
		tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
		burst(t, tr, 1)
		r.onData = func(r *recorder, data []byte, from udp.Addr) {
			r.t.SendTo(data, bcast)
			r.t.Close()
		}
		r.onErr = func(r *recorder, err error) {
			if again == "Close" {
				r.t.Close()
			} else {
				r.t.Abort()
			}
		}
		r.onLost = func(*recorder, error) { l.CallLater(20*time.Millisecond, l.Stop) }
		run(t, l)
		if len(r.errs) != 1 || !errors.Is(r.errs[0], syscall.EACCES) {
			t.Errorf("%s: ErrorReceived %v; want one EACCES", again, r.errs)
		}
		if len(r.lost) != 1 || r.events[len(r.events)-1] != "lost" {
			t.Fatalf("%s: ConnectionLost ran %d times: %v", again, len(r.lost), r.events)
		}
	}
}

// More replies in one batch than the staging holds (udp.Staging), each datagram answered with one reply
// that fails and one that goes, and every error answered with one more reply: every datagram is
// answered exactly once, nothing is sent twice, no zeroed entry is sent, and ErrorReceived never
// runs inside another callback of the transport.
func TestSendToFromErrorReceivedDuringAMidBatchFlush(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	const n = udp.Staging/2 + 10 // two replies each: the staging fills mid-batch
	c := burst(t, tr, n)
	depth, maxDepth := 0, 0
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		depth++
		defer func() { depth-- }()
		r.t.SendTo(data, bcast)
		r.t.SendTo(data, from)
		if len(r.got) == n {
			l.CallLater(50*time.Millisecond, l.Stop)
		}
	}
	r.onErr = func(r *recorder, err error) {
		depth++
		defer func() { depth-- }()
		maxDepth = max(maxDepth, depth)
		r.t.SendTo(fmt.Appendf(nil, "error %d", len(r.errs)), r.got[0].from)
	}
	run(t, l)
	got := replies(c, 200*time.Millisecond)
	var answers, errReplies []string
	for _, g := range got {
		if len(g) > 5 && g[:5] == "error" {
			errReplies = append(errReplies, g)
		} else {
			answers = append(answers, g)
		}
	}
	for i, e := range r.errs {
		if !errors.Is(e, syscall.EACCES) {
			t.Fatalf("error %d is %v; want EACCES only (a zeroed entry gives EDESTADDRREQ)", i, e)
		}
	}
	if len(r.errs) != n {
		t.Errorf("%d errors for %d failing sends", len(r.errs), n)
	}
	if len(answers) != n {
		t.Fatalf("%d answers to %d datagrams: %q", len(answers), n, answers)
	}
	for i, a := range answers {
		if want := fmt.Sprintf("datagram %03d", i); a != want {
			t.Fatalf("answer %d is %q, want %q (all: %q)", i, a, want, answers)
		}
	}
	if len(errReplies) != len(r.errs) || len(slices.Compact(slices.Clone(errReplies))) != len(errReplies) {
		t.Fatalf("%d replies to %d errors: %q", len(errReplies), len(r.errs), errReplies)
	}
	if maxDepth != 1 {
		t.Fatalf("ErrorReceived ran nested %d deep inside the transport's callbacks", maxDepth)
	}
}

// A protocol whose ErrorReceived always sends again to the failing address does not recurse: each
// error is reported on its own, and the loop goes on (a reply-to-error loop is the protocol's, and
// it cannot take the goroutine's stack).
func TestErrorReceivedThatAlwaysRepliesDoesNotRecurse(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	burst(t, tr, 1)
	depth, maxDepth := 0, 0
	r.onData = func(r *recorder, data []byte, _ udp.Addr) { r.t.SendTo(data, bcast) }
	r.onErr = func(r *recorder, err error) {
		depth++
		defer func() { depth-- }()
		maxDepth = max(maxDepth, depth)
		if len(r.errs) == 1000 {
			l.Stop()
			return
		}
		r.t.SendTo([]byte("again"), bcast)
	}
	run(t, l)
	if len(r.errs) != 1000 || maxDepth != 1 {
		t.Fatalf("%d errors, nested %d deep", len(r.errs), maxDepth)
	}
}

// Close from the ErrorReceived of the post-batch flush: the replies staged after the failing one
// were accepted by SendTo, and Close sends what is queued.
func TestCloseFromErrorReceivedKeepsLaterReplies(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	c := burst(t, tr, 1)
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		r.t.SendTo(data, bcast)
		r.t.SendTo([]byte("a"), from)
		r.t.SendTo([]byte("b"), from)
	}
	r.onErr = func(r *recorder, err error) { r.t.Close() }
	r.onLost = func(*recorder, error) { l.Stop() }
	run(t, l)
	if got := replies(c, 200*time.Millisecond); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("the client got %q; want [a b]", got)
	}
	if len(r.lost) != 1 {
		t.Fatalf("ConnectionLost %v", r.lost)
	}
}
