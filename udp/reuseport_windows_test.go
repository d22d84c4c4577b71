package udp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/udp"
)

// Windows has no SO_REUSEPORT: the option is refused with an error that names it, and the socket
// made for it is closed.
func TestReusePortRefusedOnWindows(t *testing.T) {
	l := newLoop(t)
	before := testfd.Open(t)
	_, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: "127.0.0.1:0", ReusePort: true})
	if err == nil || !strings.Contains(err.Error(), "ReusePort") {
		t.Fatalf("ReusePort on Windows = %v; want an error naming the option", err)
	}
	if after := testfd.Open(t); after > before {
		t.Fatalf("%d handles open before, %d after", before, after)
	}
}
