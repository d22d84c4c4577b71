//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aioloop/aioloop/udp"
)

// One flooded endpoint does not starve another on the same loop: a readiness event delivers at
// most udp.Budget datagrams, so a datagram waiting on a second endpoint is delivered before the
// flooded one's Budget+1st, even when the kernel reports the flooded socket first (it was filled
// first). Every datagram is still delivered, in order.
//
// Fault: one endpoint flooded → another endpoint on the same loop is served within one readiness event (64 datagrams)
func TestAFloodedEndpointDoesNotStarveAnother(t *testing.T) {
	l := newLoop(t)
	a, ra := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	b, rb := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	const n = 2*udp.Budget + 10
	var order []string
	done := func() {
		if len(ra.got) == n && len(rb.got) == 1 {
			l.Stop()
		}
	}
	ra.onData = func(*recorder, []byte, udp.Addr) { order = append(order, "a"); done() }
	rb.onData = func(*recorder, []byte, udp.Addr) { order = append(order, "b"); done() }
	c := burst(t, a, n)
	if err := c.WriteTo([]byte("lonely"), b.LocalAddr().AddrPort()); err != nil {
		t.Fatal(err)
	}
	run(t, l)
	if i := slices.Index(order, "b"); i > udp.Budget {
		t.Fatalf("the second endpoint's datagram came after %d of the flooded one's; want at most %d", i, udp.Budget)
	}
	for i, d := range ra.got {
		if want := fmt.Sprintf("datagram %03d", i); d.data != want {
			t.Fatalf("datagram %d is %q, want %q", i, d.data, want)
		}
	}
}
