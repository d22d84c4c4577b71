//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/udp"
)

// echo makes an endpoint that sends every datagram back where it came from.
func echo(t testing.TB, r *recorder) {
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		if err := r.t.SendTo(data, from); err != nil {
			t.Errorf("echo SendTo: %v", err)
		}
	}
}

func TestEchoIPv4AndIPv6(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		l := newLoop(t)
		srv, sr := endpoint(t, l, udp.Options{LocalAddr: host + ":0"})
		echo(t, sr)
		cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
		if cli.RemoteAddr() != srv.LocalAddr() || !cli.LocalAddr().AddrPort().IsValid() {
			t.Fatalf("client local %v remote %v", cli.LocalAddr(), cli.RemoteAddr())
		}
		cr.onData = func(r *recorder, data []byte, from udp.Addr) {
			if len(r.got) == 3 {
				l.Stop()
			}
		}
		for _, m := range []string{"one", "", "three"} { // a zero-length datagram is a datagram
			if err := cli.Send([]byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		run(t, l)
		if len(cr.got) != 3 || cr.got[0].data != "one" || cr.got[1].data != "" || cr.got[2].data != "three" {
			t.Fatalf("%s: client got %+v", host, cr.got)
		}
		if cr.got[0].from != srv.LocalAddr() || sr.got[0].from != cli.LocalAddr() {
			t.Fatalf("%s: addresses: client saw %v (server %v), server saw %v (client %v)", host,
				cr.got[0].from, srv.LocalAddr(), sr.got[0].from, cli.LocalAddr())
		}
	}
}

func TestSendDestinationRules(t *testing.T) {
	l := newLoop(t)
	srv, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	other := udp.AddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:9"))
	if err := srv.Send([]byte("x")); !errors.Is(err, udp.ErrNotConnected) {
		t.Errorf("Send unconnected = %v", err)
	}
	if err := srv.SendTo([]byte("x"), udp.Addr{}); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendTo no address = %v", err)
	}
	if err := srv.SendTo([]byte("x"), udp.UnixAddr("/tmp/x")); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendTo a path from IPv4 = %v", err)
	}
	if err := srv.SendTo([]byte("x"), udp.AddrFromAddrPort(netip.MustParseAddrPort("[::1]:9"))); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendTo IPv6 from IPv4 = %v", err)
	}
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	if err := cli.SendTo([]byte("x"), other); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendTo another address on a connected endpoint = %v", err)
	}
	if err := cli.SendTo([]byte("x"), srv.LocalAddr()); err != nil {
		t.Errorf("SendTo the peer on a connected endpoint = %v", err)
	}
	cli.Close()
	if err := cli.Send([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close = %v; want net.ErrClosed", err)
	}
	if _, err := cli.SyscallConn(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SyscallConn after Close = %v", err)
	}
}

func TestLargestDatagramArrivesWhole(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	sr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	big := bytes.Repeat([]byte("0123456789abcdef"), 65507/16+1)[:65507]
	if err := cli.Send(big); err != nil {
		t.Fatal(err)
	}
	run(t, l)
	if len(sr.got) != 1 || sr.got[0].data != string(big) {
		t.Fatalf("got %d datagrams, first %d bytes", len(sr.got), len(sr.got[0].data))
	}
}

// The kernel's own error path: a datagram to a closed port on loopback draws an ICMP port
// unreachable, which a connected socket reports on its next receive.
//
// Fault: ICMP port unreachable on a connected endpoint → ErrorReceived(ECONNREFUSED); the endpoint stays open
func TestICMPErrorOnConnectedEndpoint(t *testing.T) {
	if v, ok := testfd.Wine(); ok {
		t.Skipf("Wine %s keeps a UDP socket's ICMP error in SO_ERROR only: neither recv nor AFD poll reports it", v)
	}
	l := newLoop(t)
	addr := closedPort(t, l, "127.0.0.1").String()
	cli, cr := endpoint(t, l, udp.Options{RemoteAddr: addr})
	cr.onErr = func(*recorder, error) { l.Stop() }
	cli.Send([]byte("anyone?"))
	run(t, l)
	if len(cr.errs) != 1 || !errors.Is(cr.errs[0], syscall.ECONNREFUSED) || cli.IsClosing() {
		t.Fatalf("errors %v (closing %v); want one ECONNREFUSED and the transport open", cr.errs, cli.IsClosing())
	}
	// Still usable: the error was reported, not fatal.
	if err := cli.Send([]byte("again")); err != nil {
		t.Fatal(err)
	}
}

func TestExistingSocketIsTakenOver(t *testing.T) {
	l := newLoop(t)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if v, ok := testfd.Wine(); ok && err != nil {
		t.Skipf("the standard library's UDP fails under Wine %s: %v", v, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, sr := endpoint(t, l, udp.Options{Sock: c})
	c.Close() // the transport has its own descriptor
	if srv.LocalAddr().String() != c.LocalAddr().String() {
		t.Fatalf("LocalAddr %v, socket %v", srv.LocalAddr(), c.LocalAddr())
	}
	echo(t, sr)
	cli, cr := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	cr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	cli.Send([]byte("ping"))
	run(t, l)
	if len(cr.got) != 1 || cr.got[0].data != "ping" {
		t.Fatalf("got %+v", cr.got)
	}
	// A stream socket is refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{Sock: ln.(*net.TCPListener)}); err == nil ||
		!strings.Contains(err.Error(), "not a datagram socket") {
		t.Fatalf("TCP listener as Sock = %v", err)
	}
}

func TestResolvesNamesOffTheLoop(t *testing.T) {
	l := newLoop(t)
	var wg sync.WaitGroup
	var tr *udp.Transport
	var err error
	l.CallSoon(func() {
		wg.Go(func() {
			tr, _, err = udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &recorder{} },
				udp.Options{LocalAddr: "localhost:0", Family: syscall.AF_INET})
			l.CallSoonThreadsafe(l.Stop)
		})
	})
	run(t, l)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAndDrain(l, tr)
	if tr.LocalAddr().AddrPort().Addr() != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("localhost resolved to %v", tr.LocalAddr())
	}
}

// The accepted spellings of the options: the numeric flags, a service name, an explicit IPv6
// family with an IPv4-mapped address, and FlagNumericHost with a numeric host.
func TestOptionVariants(t *testing.T) {
	l := newLoop(t)
	a, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", Flags: udp.FlagNumericHost | udp.FlagNumericServ})
	if !a.LocalAddr().AddrPort().Addr().Is4() {
		t.Fatalf("LocalAddr %v", a.LocalAddr())
	}
	b, _ := endpoint(t, l, udp.Options{RemoteAddr: "127.0.0.1:domain"})
	if b.RemoteAddr().AddrPort().Port() != 53 {
		t.Fatalf("service \"domain\" resolved to %v", b.RemoteAddr())
	}
	c, cr := endpoint(t, l, udp.Options{LocalAddr: "[::ffff:127.0.0.1]:0", Family: syscall.AF_INET6})
	if !c.LocalAddr().AddrPort().Addr().Is4In6() {
		t.Fatalf("IPv6 socket on a mapped address: %v", c.LocalAddr())
	}
	// The dual-stack socket hears an IPv4 sender and answers it.
	echo(t, cr)
	d, dr := endpoint(t, l, udp.Options{RemoteAddr: "127.0.0.1:" + fmt.Sprint(c.LocalAddr().AddrPort().Port())})
	dr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	d.Send([]byte("v4 to a v6 socket"))
	run(t, l)
	// The IPv4 peer of the dual-stack socket is reported as IPv4 (unmapped), as the endpoint made
	// with an empty host (dual-stack too) reports it: one peer, one Addr.
	if len(dr.got) != 1 || !cr.got[0].from.AddrPort().Addr().Is4() {
		t.Fatalf("got %+v; the v6 socket saw %v", dr.got, cr.got)
	}
}
