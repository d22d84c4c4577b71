package udp_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// A socket handed over (Options.Sock) takes the per-socket options as a socket the transport
// makes does: receive information, the error queue, buffer sizes, Don't Fragment, and GRO off
// even though the caller had turned it on. They are set on the caller's socket too (one socket).
func TestAdoptedSocketTakesThePerSocketOptions(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	const solUDP, udpGRO = 17, 104
	if err := syscall.SetsockoptInt(fd, solUDP, udpGRO, 1); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "caller's socket")
	defer f.Close()
	l := newLoop(t)
	deadAddr := closedPort(t, l, "127.0.0.1")
	srv, sr := infoEndpoint(t, l, udp.Options{Sock: f, ReceiveInfo: udp.InfoDestination | udp.InfoTTL,
		ICMPErrors: true, ReceiveBuffer: 64 << 10, DontFragment: true, GRO: udp.OffloadOff})
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	sr.onInfo = func(r *infoRecorder, _ []byte, _ udp.Addr, _ *udp.RecvInfo) {
		r.t.SendTo([]byte("to nobody"), deadAddr)
	}
	sr.onErr = func(*recorder, error) { l.CallLater(20*time.Millisecond, l.Stop) }
	l.CallSoon(func() { cli.Send([]byte("ping")) })
	run(t, l)

	if len(sr.infos) != 1 || sr.infos[0].Dst.String() != "127.0.0.1" || sr.infos[0].TTL != 64 {
		t.Fatalf("information %+v; want destination 127.0.0.1 and TTL 64", sr.infos)
	}
	var ie *udp.ICMPError
	if len(sr.errs) != 1 || !errors.As(sr.errs[0], &ie) || ie.Dest != deadAddr {
		t.Fatalf("errors %v; want one *ICMPError for %v", sr.errs, deadAddr)
	}
	if rcv, _, err := srv.BufferSizes(); err != nil || rcv != 2*(64<<10) {
		t.Fatalf("BufferSizes: receive %d, %v; want the 64 KiB asked for, doubled", rcv, err)
	}
	// The caller's own descriptor sees the same socket's options.
	for _, c := range []struct {
		name             string
		level, opt, want int
	}{
		{"SO_RCVBUF", syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2 * (64 << 10)},
		{"IP_MTU_DISCOVER", syscall.IPPROTO_IP, syscall.IP_MTU_DISCOVER, syscall.IP_PMTUDISC_DO},
		{"IP_RECVERR", syscall.IPPROTO_IP, syscall.IP_RECVERR, 1},
		{"UDP_GRO", solUDP, udpGRO, 0},
	} {
		if v, err := syscall.GetsockoptInt(fd, c.level, c.opt); err != nil || v != c.want {
			t.Errorf("the caller's %s is %d (%v); want %d", c.name, v, err, c.want)
		}
	}
	if st := srv.Offload(); st.GRO || st.GROWhyNot != "off (Options.GRO)" {
		t.Errorf("Offload %+v; want GRO off by the option", st)
	}
}

// The socket modifiers stay excluded, as asyncio excludes them, and the IP-only options are
// refused for an AF_UNIX socket handed over, naming the field, before the transport uses it.
func TestAdoptedSocketOptionsRefused(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()
	l := newLoop(t)
	for _, c := range []struct {
		opts udp.Options
		want string
	}{
		{udp.Options{Sock: a, AllowBroadcast: true}, "Options.Sock excludes Options.AllowBroadcast"},
		{udp.Options{Sock: a, ReceiveInfo: udp.InfoTOS}, "Options.ReceiveInfo is for IP endpoints, not AF_UNIX (Options.Sock is an AF_UNIX socket)"},
		{udp.Options{Sock: a, ICMPErrors: true}, "Options.ICMPErrors is for IP endpoints"},
		{udp.Options{Sock: a, DontFragment: true}, "Options.DontFragment is for IP endpoints"},
		{udp.Options{Sock: a, GSO: udp.OffloadOn}, "Options.GRO and GSO are for IP endpoints"},
		{udp.Options{Sock: a, ReceiveBuffer: -1}, "Options.ReceiveBuffer is -1"},
	} {
		if _, _, err := udp.CreateDatagramEndpoint(t.Context(), l, never, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.opts, err, c.want)
		}
	}
	// Buffers are for every socket: the AF_UNIX one takes them.
	tr, _ := endpoint(t, l, udp.Options{Sock: a, SendBuffer: 64 << 10})
	if _, snd, err := tr.BufferSizes(); err != nil || snd != 2*(64<<10) {
		t.Fatalf("BufferSizes: send %d, %v", snd, err)
	}
}
