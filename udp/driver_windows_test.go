package udp_test

import (
	"errors"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// winsockDriver is a blocking Winsock UDP socket: the benchmark's client on Windows, where the
// standard library's UDP fails under Wine.
type winsockDriver struct {
	s       windows.Handle
	timeout time.Duration // the SO_RCVTIMEO in force
}

func dialDriver(addr string) (driver, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		return nil, err
	}
	if err := windows.Connect(s, &windows.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}); err != nil {
		windows.Closesocket(s)
		return nil, err
	}
	return &winsockDriver{s: s}, nil
}

func (d *winsockDriver) Write(p []byte) (int, error) { return wsa.Send(d.s, p) }

func (d *winsockDriver) ReadTimeout(p []byte, timeout time.Duration) (int, error) {
	if timeout != d.timeout {
		ms := uint32(timeout / time.Millisecond)
		if err := windows.Setsockopt(d.s, windows.SOL_SOCKET, windows.SO_RCVTIMEO, (*byte)(unsafe.Pointer(&ms)), 4); err != nil {
			return 0, err
		}
		d.timeout = timeout
	}
	n, err := wsa.Recv(d.s, p)
	if errors.Is(err, windows.WSAETIMEDOUT) {
		return 0, os.ErrDeadlineExceeded
	}
	return n, err
}

func (d *winsockDriver) Close() error { return windows.Closesocket(d.s) }

// BenchmarkEchoBlockingWinsock is BenchmarkEcho's reference on Windows, where the standard
// library's UDP fails under Wine: a thread blocked in recvfrom and sendto on one Winsock socket
// (the thread-per-socket model, no readiness at all), driven by the same client.
func BenchmarkEchoBlockingWinsock(b *testing.B) {
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		b.Fatal(err)
	}
	if err := windows.Bind(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		b.Fatal(err)
	}
	sa, _ := windows.Getsockname(s)
	a := sa.(*windows.SockaddrInet4)
	var wg sync.WaitGroup
	wg.Go(func() {
		runtime.LockOSThread()
		buf := make([]byte, 65536)
		var from [128]byte
		for {
			n := int32(len(from))
			got, e := wsa.RecvFrom(s, buf, 0, unsafe.Pointer(&from), &n)
			if e != 0 {
				return // closed
			}
			wsa.SendTo(s, buf[:got], unsafe.Pointer(&from), n)
		}
	})
	drive(b, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String())
	windows.Closesocket(s)
	wg.Wait()
}

// winsockPeer is an unconnected blocking Winsock UDP socket on 127.0.0.1.
type winsockPeer struct {
	winsockDriver
	addr netip.AddrPort
}

func listenPeer() (peer, error) {
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		return nil, err
	}
	if err := windows.Bind(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		windows.Closesocket(s)
		return nil, err
	}
	sa, err := windows.Getsockname(s)
	if err != nil {
		windows.Closesocket(s)
		return nil, err
	}
	a := sa.(*windows.SockaddrInet4)
	return &winsockPeer{winsockDriver{s: s}, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))}, nil
}

func (p *winsockPeer) AddrPort() netip.AddrPort { return p.addr }

func (p *winsockPeer) WriteTo(b []byte, to netip.AddrPort) error {
	return windows.Sendto(p.s, b, 0, &windows.SockaddrInet4{Addr: to.Addr().Unmap().As4(), Port: int(to.Port())})
}
