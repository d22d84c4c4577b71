//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock_test

import (
	"net"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/internal/sock"
)

func TestSockaddrRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fam  int
		want string
	}{
		{"127.0.0.1:53", syscall.AF_INET, "127.0.0.1:53"},
		{"[::ffff:10.1.2.3]:9", syscall.AF_INET, "10.1.2.3:9"},
		{"[::1]:65535", syscall.AF_INET6, "[::1]:65535"},
		{"192.0.2.7:1", syscall.AF_INET6, "192.0.2.7:1"}, // sent IPv4-mapped, read back as IPv4
	} {
		var s sock.Sockaddr
		if !s.SetAddrPort(netip.MustParseAddrPort(tc.in), tc.fam, nil) {
			t.Fatalf("SetAddrPort(%s) failed", tc.in)
		}
		got, ok := s.AddrPort(nil)
		if !ok || got.String() != tc.want || s.Family() != tc.fam {
			t.Errorf("%s: got %v (family %d)", tc.in, got, s.Family())
		}
	}
	var s sock.Sockaddr
	if s.SetAddrPort(netip.MustParseAddrPort("[::1]:1"), syscall.AF_INET, nil) {
		t.Error("an IPv6 address fitted AF_INET")
	}
	for in, want := range map[string]string{"/tmp/x.sock": "/tmp/x.sock", "@name": "\x00name", "\x00raw": "\x00raw", "": ""} {
		if !s.SetPath(in) {
			t.Fatalf("SetPath(%q) failed", in)
		}
		if got, ok := s.Path(); !ok || string(got) != want {
			t.Errorf("Path of %q = %q", in, got)
		}
	}
	// The longest address this system takes, a filesystem path and an abstract name, encodes and
	// decodes to itself (a peer bound there can be answered); one byte more is refused.
	for _, lead := range []string{"/", "@"} {
		if lead == "@" && runtime.GOOS != "linux" {
			continue
		}
		long := lead + strings.Repeat("a", sock.PathLimit(lead)-1)
		if !s.SetPath(long) {
			t.Fatalf("a path of %d bytes, the limit, refused", len(long))
		}
		got, _ := s.Path()
		if lead == "@" {
			got = append([]byte("@"), got[1:]...)
		}
		if string(got) != long {
			t.Fatalf("a path of %d bytes came back as %d bytes", len(long), len(got))
		}
		if s.SetPath(long + "a") {
			t.Errorf("a path of %d bytes, over the limit, accepted", len(long)+1)
		}
	}
}

func FuzzSockaddrAddrPort(f *testing.F) {
	f.Add([]byte{127, 0, 0, 1}, uint16(53))
	f.Add(make([]byte, 16), uint16(0))
	f.Fuzz(func(t *testing.T, ip []byte, port uint16) {
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			return
		}
		ap := netip.AddrPortFrom(a, port)
		fam := syscall.AF_INET6
		if a.Is4() {
			fam = syscall.AF_INET
		}
		var s sock.Sockaddr
		if !s.SetAddrPort(ap, fam, nil) {
			t.Fatalf("SetAddrPort(%v) failed", ap)
		}
		// An IPv4-mapped IPv6 address comes back as IPv4, on purpose: a dual-stack socket reports
		// an IPv4 peer that way, and the transports give the user the IPv4 address.
		want := netip.AddrPortFrom(a.Unmap(), port)
		if got, _ := s.AddrPort(nil); got != want {
			t.Fatalf("round trip %v -> %v, want %v", ap, got, want)
		}
	})
}

// A link-local peer's zone is named from the loop's cache: one listing of the interfaces for any
// number of datagrams, and an index no interface has costs at most one more listing a second.
func TestZonesAreCached(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no interface named lo:", err)
	}
	var z sock.Zones
	in := netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone("lo"), 5)
	for range 1000 {
		var s sock.Sockaddr
		if !s.SetAddrPort(in, syscall.AF_INET6, &z) {
			t.Fatal("SetAddrPort with zone lo failed")
		}
		got, _ := s.AddrPort(&z)
		if got != in {
			t.Fatalf("round trip: %v, want %v", got, in)
		}
	}
	if z.Lookups() != 1 {
		t.Fatalf("%d listings of the interfaces for 1000 datagrams, want 1", z.Lookups())
	}
	if name := z.Name(lo.Index); name != "lo" {
		t.Fatalf("Name(%d) = %q", lo.Index, name)
	}
	for range 1000 {
		if name := z.Name(1 << 30); name != "1073741824" {
			t.Fatalf("an unknown index named %q", name)
		}
	}
	if z.Lookups() > 3 { // 1, plus one per second of this loop at most
		t.Fatalf("%d listings for an unknown index", z.Lookups())
	}
}
