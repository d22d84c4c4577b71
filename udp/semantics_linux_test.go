package udp_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// madeThenPanics keeps its transport in ConnectionMade, then panics: the creation fails.
type madeThenPanics struct {
	recorder
}

func (p *madeThenPanics) ConnectionMade(t *udp.Transport) {
	p.recorder.ConnectionMade(t)
	panic("ConnectionMade bug")
}

// A transport whose creation failed (a panic in ConnectionMade) is dead: it says it is closing,
// and its methods never touch the descriptor number it had, which may belong to someone else now.
func TestFailedStartLeavesADeadTransport(t *testing.T) {
	l := newLoop(t)
	srv, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	p := &madeThenPanics{}
	_, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return p }, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	var pe *loop.PanicError
	if !errors.As(err, &pe) || p.t == nil {
		t.Fatalf("create: %v", err)
	}
	// The descriptor number the transport had is free now: a pipe takes it.
	tr := p.t
	testfd.PipeAfter(t, func() {
		if !tr.IsClosing() {
			t.Error("IsClosing false on a transport whose creation failed")
		}
		if err := tr.Send([]byte("into someone else's descriptor")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Send = %v; want net.ErrClosed", err)
		}
		if _, err := tr.SyscallConn(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SyscallConn = %v; want net.ErrClosed", err)
		}
		tr.Close()
		tr.Abort()
	})
	l.Stop()
	run(t, l)
	if len(p.lost) != 0 {
		t.Fatalf("ConnectionLost %v for a connection never made", p.lost)
	}
}

// AllowBroadcast with RemoteAddr does not connect the socket, as asyncio does not: answers from any
// host arrive, RemoteAddr is empty (peername None), Send goes to the remote address, and SendTo
// another address is refused.
func TestBroadcastEndpointWithRemoteAddrIsNotConnected(t *testing.T) {
	l := newLoop(t)
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tr, r := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", RemoteAddr: peer.LocalAddr().String(), AllowBroadcast: true})
	if tr.RemoteAddr().IsValid() {
		t.Errorf("RemoteAddr %v; want none (asyncio's peername is None)", tr.RemoteAddr())
	}
	if err := tr.Send([]byte("to the remote")); err != nil {
		t.Fatal(err)
	}
	otherAddr := udp.AddrFromAddrPort(other.LocalAddr().(*net.UDPAddr).AddrPort())
	if err := tr.SendTo([]byte("x"), otherAddr); !errors.Is(err, udp.ErrDestination) {
		t.Errorf("SendTo another address = %v; want ErrDestination", err)
	}
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "to the remote" {
		t.Fatalf("the remote got %q, %v", buf[:n], err)
	}
	if _, err := other.WriteToUDPAddrPort([]byte("from another host"), tr.LocalAddr().AddrPort()); err != nil {
		t.Fatal(err)
	}
	r.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	run(t, l)
	if len(r.got) != 1 || r.got[0].from != otherAddr {
		t.Fatalf("got %+v", r.got)
	}
}

// An empty host is every address, as in Go's net: ":port" binds a dual-stack [::] that hears IPv4
// and IPv6 peers (the IPv4 ones reported unmapped, and answered); with AF_INET it binds 0.0.0.0,
// with AF_INET6 an IPv6-only [::].
func TestEmptyHostIsEveryAddress(t *testing.T) {
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: ":0"})
	if a := tr.LocalAddr().AddrPort().Addr(); a != netip.IPv6Unspecified() {
		t.Fatalf(":0 bound %v, want [::]", tr.LocalAddr())
	}
	echo(t, r)
	port := tr.LocalAddr().AddrPort().Port()
	for _, to := range []string{"127.0.0.1", "::1"} {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(to), port)))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("hi " + to))
		l.CallLater(20*time.Millisecond, l.Stop)
		run(t, l)
		c.SetReadDeadline(time.Now().Add(time.Second))
		b := make([]byte, 64)
		n, err := c.Read(b)
		if err != nil || string(b[:n]) != "hi "+to {
			t.Fatalf("echo from %s: %q, %v", to, b[:n], err)
		}
		if got := r.got[len(r.got)-1].from.AddrPort(); got.Addr().String() != to {
			t.Fatalf("the peer %s was reported as %v", to, got)
		}
	}
	v4, _ := endpoint(t, l, udp.Options{LocalAddr: ":0", Family: unix.AF_INET})
	if a := v4.LocalAddr().AddrPort().Addr(); a != netip.IPv4Unspecified() {
		t.Fatalf(":0 with AF_INET bound %v", a)
	}
	v6, _ := endpoint(t, l, udp.Options{LocalAddr: ":0", Family: unix.AF_INET6})
	if a := v6.LocalAddr().AddrPort().Addr(); a != netip.IPv6Unspecified() {
		t.Fatalf(":0 with AF_INET6 bound %v", a)
	}
	var only int
	raw, _ := v6.SyscallConn()
	raw.Control(func(fd uintptr) { only, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY) })
	if only != 1 {
		t.Fatal("AF_INET6 with an empty host is not IPv6-only")
	}
	// An IPv6-only socket cannot reach IPv4: SendTo says so itself, naming the destination.
	if err := v6.SendTo([]byte("x"), udp.AddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:9"))); !errors.Is(err, udp.ErrDestination) ||
		!strings.Contains(err.Error(), "127.0.0.1:9") {
		t.Fatalf("SendTo an IPv4 address from an IPv6-only endpoint = %v", err)
	}
}

// When the first address of the empty host cannot be bound, the next is tried, as asyncio tries
// every resolved address: [::]:port held IPv6-only by another socket, then 0.0.0.0:port binds.
func TestBindTriesEveryResolvedAddress(t *testing.T) {
	taken, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		t.Skip("no IPv6:", err)
	}
	defer taken.Close()
	port := taken.LocalAddr().(*net.UDPAddr).Port
	l := newLoop(t)
	tr, _ := endpoint(t, l, udp.Options{LocalAddr: net.JoinHostPort("", strconv.Itoa(port))})
	if want := netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)); tr.LocalAddr().AddrPort() != want {
		t.Fatalf("bound %v; want %v", tr.LocalAddr(), want)
	}
	// When every candidate fails, the error names each failure.
	_, _, err = udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &recorder{} }, udp.Options{LocalAddr: ":" + strconv.Itoa(port)})
	if !errors.Is(err, unix.EADDRINUSE) || !strings.Contains(err.Error(), "0.0.0.0") || !strings.Contains(err.Error(), "[::]") {
		t.Fatalf("every address taken: %v", err)
	}
}

// A datagram from an unnamed Unix socket (one that never bound) comes from the unnamed Unix
// address, not from no address.
func TestDatagramFromAnUnnamedUnixSocket(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: filepath.Join(t.TempDir(), "srv.sock")})
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, []byte("anonymous"), 0, &unix.SockaddrUnix{Name: srv.LocalAddr().Path()}); err != nil {
		t.Fatal(err)
	}
	sr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	run(t, l)
	if len(sr.got) != 1 || !sr.got[0].from.IsUnix() || sr.got[0].from.Path() != "" || !sr.got[0].from.IsValid() {
		t.Fatalf("got %+v; want one datagram from UnixAddr(\"\")", sr.got)
	}
}

// An address that fills sun_path can be answered: an abstract name (a NUL and 107 bytes: Linux and
// Python accept it) and a filesystem path of 108 bytes without its NUL (Linux accepts it, and a C
// peer may bind one), as the kernel reports them.
func TestAnswerAFullLengthUnixAddress(t *testing.T) {
	l := newLoop(t)
	dir := t.TempDir()
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: filepath.Join(dir, "srv.sock")})
	echo(t, sr)
	abstract := "@aioloop-" + strconv.Itoa(os.Getpid()) + "-"
	abstract += strings.Repeat("a", 108-len(abstract))
	path := dir + "/"
	path += strings.Repeat("p", 108-len(path))
	for _, name := range []string{abstract, path} {
		if len(name) != 108 {
			t.Fatalf("name is %d bytes", len(name))
		}
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := bindRaw(fd, name); err != nil { // x/sys refuses it
			t.Fatal(err)
		}
		if err := unix.Sendto(fd, []byte("long name"), 0, &unix.SockaddrUnix{Name: srv.LocalAddr().Path()}); err != nil {
			t.Fatal(err)
		}
		l.CallLater(100*time.Millisecond, l.Stop)
		run(t, l)
		if n := len(sr.got); n == 0 || sr.got[n-1].from.Path() != name {
			t.Fatalf("got %+v", sr.got)
		}
		// The answer was sent: it waits at the client.
		unix.SetNonblock(fd, true)
		buf := make([]byte, 64)
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil || string(buf[:n]) != "long name" {
			t.Fatalf("%q: the client got %q, %v (errors at the server: %v)", name, buf[:max(n, 0)], err, sr.errs)
		}
		// And a client can name it directly.
		cli, _ := endpoint(t, l, udp.Options{Family: unix.AF_UNIX})
		if err := cli.SendTo([]byte("direct"), udp.UnixAddr(name)); err != nil {
			t.Fatalf("SendTo a 108-byte address: %v", err)
		}
		if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &recorder{} }, udp.Options{LocalAddr: name + "x"}); err == nil {
			t.Fatal("a 109-byte address accepted")
		}
	}
}

// bindRaw binds fd to an abstract name "@..." or a path, unterminated, with the raw sockaddr_un
// that Linux accepts.
func bindRaw(fd int, name string) error {
	var sa unix.RawSockaddrUnix
	sa.Family = unix.AF_UNIX
	for i := range len(name) {
		sa.Path[i] = int8(name[i])
	}
	if name[0] == '@' {
		sa.Path[0] = 0
	}
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), uintptr(2+len(name)))
	if e != 0 {
		return e
	}
	return nil
}
