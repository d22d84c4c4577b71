package udp_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// An unconnected Unix datagram socket stays writable by epoll's account while the peer's queue is
// full (Linux wakes only connected senders when a peer drains), so draining the queue on
// writability alone would spin. The transport backs off instead.
func TestUnconnectedUnixSenderDoesNotSpin(t *testing.T) {
	l := newLoop(t)
	sfd, path := sink(t)
	tr, r := endpoint(t, l, udp.Options{Family: syscall.AF_UNIX})
	msg := make([]byte, 1000)
	for tr.WriteBufferSize() == 0 {
		tr.SendTo(msg, udp.UnixAddr(path))
	}
	before := l.Stats().Events
	l.CallLater(100*time.Millisecond, l.Stop)
	run(t, l)
	if ev := l.Stats().Events - before; ev > 500 {
		t.Fatalf("%d readiness events in 100 ms with the peer full: the loop spins", ev)
	}
	// Once the peer reads, the queue goes out.
	n := len(readAll(sfd))
	l.CallLater(200*time.Millisecond, l.Stop)
	run(t, l)
	n += len(readAll(sfd))
	if tr.WriteBufferSize() != 0 || len(r.errs) != 0 || n == 0 {
		t.Fatalf("%d bytes still queued, errors %v", tr.WriteBufferSize(), r.errs)
	}
}
