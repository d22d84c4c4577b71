//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// bcast is a destination that a socket without SO_BROADCAST may not send to: the kernel refuses
// it at once (EACCES), which gives a test an error to report whenever it wants one.
var bcast = udp.AddrFromAddrPort(netip.MustParseAddrPort("255.255.255.255:9"))

// peer is a plain UDP socket on 127.0.0.1 that a test drives by hand: net.UDPConn on Unix, a
// blocking Winsock socket on Windows (the standard library's UDP fails under Wine).
type peer interface {
	AddrPort() netip.AddrPort
	WriteTo(p []byte, to netip.AddrPort) error
	// ReadTimeout reads one datagram, or fails after d.
	ReadTimeout(p []byte, d time.Duration) (int, error)
	Close() error
}

// newPeer makes a peer, closed when the test ends.
func newPeer(t testing.TB) peer {
	t.Helper()
	p, err := listenPeer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// burst sends n numbered datagrams to tr's address from a new peer before the loop runs, so that
// the server reads them in batches; it returns the peer.
func burst(t *testing.T, tr *udp.Transport, n int) peer {
	t.Helper()
	c := newPeer(t)
	for i := range n {
		if err := c.WriteTo(fmt.Appendf(nil, "datagram %03d", i), tr.LocalAddr().AddrPort()); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// replies reads what arrives at c until nothing more comes for wait.
func replies(c peer, wait time.Duration) []string {
	var got []string
	buf := make([]byte, 2048)
	for {
		n, err := c.ReadTimeout(buf, wait)
		if err != nil {
			return got
		}
		got = append(got, string(buf[:n]))
	}
}
