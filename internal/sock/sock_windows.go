package sock

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// The Windows socket layer: Winsock sockets made overlapped (so that AFD can poll them) and
// non-blocking (FIONBIO), driven by the same calls as on Unix: recvfrom, sendto, recv, send,
// WSASend, accept. Errors carry their POSIX names (internal/wsa), so the transports' checks for
// EAGAIN, ECONNRESET and the rest hold unchanged. A datagram batch is a loop of single calls:
// Windows has no recvmmsg or sendmmsg.

// ErrPathTooLong is returned for a Unix socket path longer than sockaddr_un can hold.
var ErrPathTooLong = errors.New("path too long for a Unix socket address")

// ErrUnsupported is returned for what Windows (or this layer on it) lacks.
var ErrUnsupported = errors.New("sock: not supported on Windows")

// MaxPathLen is the longest Unix socket path: sun_path less its terminating NUL.
const MaxPathLen = sunPathLen - 1

// PathLimit is the longest Unix address Windows takes (no abstract names).
func PathLimit(string) int { return MaxPathLen }

// Socket opens an overlapped, non-inheritable, non-blocking socket. A UDP socket has
// SIO_UDP_CONNRESET turned off: otherwise an ICMP port-unreachable answering any of its sends
// fails its next recvfrom with WSAECONNRESET, which would end an unconnected endpoint for one
// dead peer (Connect turns it back on, where asyncio reports the error).
func Socket(family, sotype, proto int) (int, error) {
	s, err := windows.WSASocket(int32(family), int32(sotype), int32(proto), nil, 0,
		windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return -1, os.NewSyscallError("WSASocket", wsa.Translate(err))
	}
	if err := wsa.SetNonblock(s); err != nil {
		windows.Closesocket(s)
		return -1, err
	}
	if sotype == windows.SOCK_DGRAM && family != windows.AF_UNIX {
		setConnReset(s, false)
	}
	return int(s), nil
}

// setConnReset sets SIO_UDP_CONNRESET (best effort: Wine lacks SIO_UDP_NETRESET, and a failure
// here costs only the ICMP report).
func setConnReset(s windows.Handle, on bool) {
	v := uint32(0)
	if on {
		v = 1
	}
	var n uint32
	windows.WSAIoctl(s, windows.SIO_UDP_CONNRESET, (*byte)(unsafe.Pointer(&v)), 4, nil, 0, &n, nil, 0)
}

// SetReusePort fails: Windows has no SO_REUSEPORT (its SO_REUSEADDR lets another socket take the
// port over, which is not the same promise).
func SetReusePort(int) error {
	return os.NewSyscallError("setsockopt SO_REUSEPORT", fmt.Errorf("%w (no SO_REUSEPORT)", ErrUnsupported))
}

// SetV6Only sets IPV6_V6ONLY.
func SetV6Only(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return setsockopt("IPV6_V6ONLY", fd, windows.IPPROTO_IPV6, windows.IPV6_V6ONLY, v)
}

// SetBroadcast sets SO_BROADCAST.
func SetBroadcast(fd int) error {
	return setsockopt("SO_BROADCAST", fd, windows.SOL_SOCKET, windows.SO_BROADCAST, 1)
}

func setsockopt(name string, fd, level, opt, v int) error {
	if err := windows.SetsockoptInt(windows.Handle(fd), level, opt, v); err != nil {
		return os.NewSyscallError("setsockopt "+name, wsa.Translate(err))
	}
	return nil
}

// encode turns an address into a raw sockaddr for family.
func encode(family int, ap netip.AddrPort, path string) (*Sockaddr, error) {
	sa := new(Sockaddr)
	if family == afUnix {
		if !sa.SetPath(path) {
			return nil, fmt.Errorf("sock: %q is %d bytes; the limit is %d: %w", path, len(path), MaxPathLen, ErrPathTooLong)
		}
		return sa, nil
	}
	if !sa.SetAddrPort(ap, family, nil) {
		return nil, fmt.Errorf("sock: %v does not fit address family %d", ap, family)
	}
	return sa, nil
}

// Bind binds fd to an IP address (AF_INET, AF_INET6) or a Unix path (AF_UNIX).
func Bind(fd, family int, ap netip.AddrPort, path string) error {
	sa, err := encode(family, ap, path)
	if err != nil {
		return err
	}
	return wsa.Bind(windows.Handle(fd), sa.ptr(), int32(sa.n))
}

// Connect connects fd. A stream connect that has started answers EINPROGRESS (Winsock says
// WSAEWOULDBLOCK); a datagram connect completes at once and turns ICMP error reports back on.
func Connect(fd, family int, ap netip.AddrPort, path string) error {
	sa, err := encode(family, ap, path)
	if err != nil {
		return err
	}
	switch e := wsa.Connect(windows.Handle(fd), sa.ptr(), int32(sa.n)); e {
	case 0:
		if t, _ := windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, soType); t == windows.SOCK_DGRAM {
			setConnReset(windows.Handle(fd), true)
		}
		return nil
	case windows.WSAEWOULDBLOCK:
		return os.NewSyscallError("connect", syscall.EINPROGRESS)
	default:
		return os.NewSyscallError("connect", wsa.Errno(e))
	}
}

// decode turns a getsockname or getpeername result into a value. Unlike a datagram's source, an
// IPv4-mapped address stays mapped, as getsockname reports it on Unix.
func decode(sa *Sockaddr) (netip.AddrPort, string) {
	if ap, ok := sa.AddrPort(nil); ok {
		if sa.Family() == afInet6 {
			b := sa.bytes()
			ap = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])).WithZone(ap.Addr().Zone()), ap.Port())
		}
		return ap, ""
	}
	if p, ok := sa.Path(); ok {
		return netip.AddrPort{}, string(p)
	}
	return netip.AddrPort{}, ""
}

// LocalAddr returns fd's bound address (getsockname).
func LocalAddr(fd int) (ap netip.AddrPort, path string, err error) {
	var sa Sockaddr
	n := int32(unsafe.Sizeof(sa.raw))
	if err := wsa.Getsockname(windows.Handle(fd), sa.ptr(), &n); err != nil {
		return ap, "", err
	}
	sa.n = uint32(n)
	ap, path = decode(&sa)
	return ap, path, nil
}

// PeerAddr returns fd's connected peer (getpeername); ok is false when it is not connected.
func PeerAddr(fd int) (ap netip.AddrPort, path string, ok bool) {
	var sa Sockaddr
	n := int32(unsafe.Sizeof(sa.raw))
	if wsa.Getpeername(windows.Handle(fd), sa.ptr(), &n) != nil {
		return ap, "", false
	}
	sa.n = uint32(n)
	ap, path = decode(&sa)
	return ap, path, true
}

// Info is what a socket handed over by a caller turns out to be.
type Info struct {
	FD, Family, Type int
}

// Adopt duplicates the socket behind rc (WSADuplicateSocket into this process, then a new socket
// from its protocol information), makes the copy non-blocking, and reports its family and type.
// The caller's socket stays open and keeps its own mode.
func Adopt(rc syscall.RawConn) (Info, error) {
	var info windows.WSAProtocolInfo
	var derr error
	if err := rc.Control(func(s uintptr) {
		derr = windows.WSADuplicateSocket(windows.Handle(s), windows.GetCurrentProcessId(), &info)
	}); err != nil {
		return Info{}, err
	}
	if derr != nil {
		return Info{}, os.NewSyscallError("WSADuplicateSocket", wsa.Translate(derr))
	}
	s, err := windows.WSASocket(-1, -1, -1, &info, 0, windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return Info{}, os.NewSyscallError("WSASocket", wsa.Translate(err))
	}
	if err := wsa.SetNonblock(s); err != nil {
		windows.Closesocket(s)
		return Info{}, err
	}
	return Info{FD: int(s), Family: int(info.AddressFamily), Type: int(info.SocketType)}, nil
}

// Close closes the socket fd.
func Close(fd int) error {
	if err := windows.Closesocket(windows.Handle(fd)); err != nil {
		return os.NewSyscallError("closesocket", wsa.Translate(err))
	}
	return nil
}

// DupFile is not available on Windows: a TLS handshake needs a duplicate on Go's own poller,
// which Go's os package gives only for Unix descriptors.
func DupFile(int, string) (*os.File, error) {
	return nil, fmt.Errorf("%w (a socket on Go's poller for the TLS handshake)", ErrUnsupported)
}

// syscallError wraps a hot-path call's error as os.NewSyscallError does, except "not now"
// (would-block, interrupted), which comes back bare: a shared value that does not allocate.
func syscallError(op string, e syscall.Errno) error {
	err := wsa.Errno(e)
	if Temporary(err) {
		return err
	}
	return os.NewSyscallError(op, err)
}

// Temporary reports whether a send or receive error means "not now".
func Temporary(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)
}

// Bound reports whether a socket is bound at the Unix path: a blocking stream probe's connect is
// refused only when nothing listens there.
func Bound(path string) (bool, error) {
	probe, err := windows.WSASocket(windows.AF_UNIX, windows.SOCK_STREAM, 0, nil, 0, windows.WSA_FLAG_NO_HANDLE_INHERIT)
	if err != nil {
		return false, os.NewSyscallError("WSASocket", wsa.Translate(err))
	}
	defer windows.Closesocket(probe)
	sa, err := encode(afUnix, netip.AddrPort{}, path)
	if err != nil {
		return false, err
	}
	return wsa.Connect(probe, sa.ptr(), int32(sa.n)) != windows.WSAECONNREFUSED, nil
}

// Errno returns err's errno (its POSIX name for a Winsock error), or 0.
func Errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

// Socket options x/sys/windows does not name.
const (
	soType  = 0x1008 // SO_TYPE
	soError = 0x1007 // SO_ERROR
)
