//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/udp"
)

// A raw descriptor handed over as an *os.File, and SetProtocol switching who hears the events.
func TestRawFDAndSetProtocol(t *testing.T) {
	l := newLoop(t)
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet6{Addr: [16]byte{15: 1}}); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "raw udp6")
	srv, first := endpoint(t, l, udp.Options{Sock: f})
	f.Close()
	if !srv.LocalAddr().AddrPort().Addr().Is6() || srv.Protocol() != udp.Protocol(first) {
		t.Fatalf("LocalAddr %v, Protocol %v", srv.LocalAddr(), srv.Protocol())
	}
	second := &recorder{onData: func(*recorder, []byte, udp.Addr) { l.Stop() }}
	srv.SetProtocol(second)
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	cli.Send([]byte("to whoever listens"))
	run(t, l)
	if len(first.got) != 0 || len(second.got) != 1 {
		t.Fatalf("first got %d, second got %d", len(first.got), len(second.got))
	}
	raw, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var typ int
	raw.Control(func(fd uintptr) { typ, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TYPE) })
	if typ != syscall.SOCK_DGRAM || raw.Read(func(uintptr) bool { return true }) == nil {
		t.Fatalf("SyscallConn: type %d; Read must be refused", typ)
	}
}

func TestReusePortSharesAnAddress(t *testing.T) {
	l := newLoop(t)
	a, ar := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", ReusePort: true})
	b, br := endpoint(t, l, udp.Options{LocalAddr: a.LocalAddr().String(), ReusePort: true})
	if a.LocalAddr() != b.LocalAddr() {
		t.Fatalf("%v != %v", a.LocalAddr(), b.LocalAddr())
	}
	_, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: a.LocalAddr().String()})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind without ReusePort = %v; want EADDRINUSE", err)
	}
	// The kernel spreads datagrams from many sources over both.
	const n = 64
	total := 0
	count := func(*recorder, []byte, udp.Addr) {
		if total++; total == n {
			l.Stop()
		}
	}
	ar.onData, br.onData = count, count
	for range n {
		c, _ := endpoint(t, l, udp.Options{RemoteAddr: a.LocalAddr().String()})
		c.Send([]byte("x"))
	}
	run(t, l)
	if len(ar.got)+len(br.got) != n || len(ar.got) == 0 || len(br.got) == 0 {
		t.Fatalf("got %d and %d datagrams; want %d in all, spread over both", len(ar.got), len(br.got), n)
	}
}
