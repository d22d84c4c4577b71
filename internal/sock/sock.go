//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package sock is the one place where aioloop's transports reach the kernel's socket calls. It
// turns addresses into raw sockaddrs and back without allocating (netip.AddrPort in, netip.AddrPort
// out; Unix paths as bytes), opens sockets non-blocking and close-on-exec, and receives and sends
// datagrams in batches.
//
// Every descriptor this package makes or adopts is non-blocking: that is what lets the Linux hot
// path (recvmmsg, sendmmsg, sendto) go through syscall.RawSyscall6, which does not hand the
// processor back to the Go scheduler (DESIGN.md at the repository root, "Hot paths"). Set-up calls
// (socket, bind, connect, setsockopt) use x/sys's ordinary wrappers; they are not on the hot path.
//
// On FreeBSD, NetBSD and DragonFly the batch calls are loops of single raw recvmsg/sendto calls
// into the same fixed buffers and raw addresses, allocating nothing; darwin and OpenBSD, which
// take system calls only through libc, use x/sys's wrappers, which allocate a sockaddr per
// datagram. Compile-checked only here. On Windows
// (sock_windows.go) they are loops of recvfrom/sendto.
package sock

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrPathTooLong is returned for a Unix socket path longer than sockaddr_un can hold.
var ErrPathTooLong = errors.New("path too long for a Unix socket address")

// MaxPathLen is the longest Unix socket filesystem path that sockaddr_un holds on this system
// with room left for the terminating NUL, the portable limit (Python's for a path). Linux takes
// one byte more: see PathLimit.
const MaxPathLen = len(unix.RawSockaddrUnix{}.Path) - 1

// PathLimit is the longest Unix address this system takes: on Linux the whole of sun_path, for an
// abstract name ("@name" or a leading NUL, its leading byte counted, as Linux and Python accept)
// and for a filesystem path (unterminated, as the kernel accepts and reports a peer bound there);
// elsewhere MaxPathLen. What a peer's address decodes to can always be encoded to answer it.
func PathLimit(string) int {
	if fullSunPath {
		return MaxPathLen + 1
	}
	return MaxPathLen
}

// DescriptorFault, when set (tests only), is consulted before every socket and accept call: a
// non-zero errno fails the call as the kernel would (ENFILE: the system's file table is full,
// which no test may cause for real on a shared machine).
var DescriptorFault func(call string) syscall.Errno

// Socket opens a non-blocking, close-on-exec socket.
func Socket(family, sotype, proto int) (int, error) {
	if DescriptorFault != nil {
		if e := DescriptorFault("socket"); e != 0 {
			return -1, os.NewSyscallError("socket", e)
		}
	}
	fd, err := socket(family, sotype, proto)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

// ToUnix converts an address to x/sys's form for the set-up calls. A Unix path may be "" (autobind
// on Linux) or abstract ("@name", or a leading NUL).
func ToUnix(family int, ap netip.AddrPort, path string) (unix.Sockaddr, error) {
	switch family {
	case unix.AF_INET:
		a := ap.Addr().Unmap()
		if !a.Is4() {
			return nil, fmt.Errorf("sock: %v is not an IPv4 address", ap.Addr())
		}
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, nil
	case unix.AF_INET6:
		sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			ifi, err := (*Zones)(nil).Index(z)
			if err != nil {
				return nil, err
			}
			sa.ZoneId = uint32(ifi)
		}
		return sa, nil
	case unix.AF_UNIX:
		if len(path) > PathLimit(path) {
			return nil, fmt.Errorf("sock: %q is %d bytes; the limit is %d: %w", path, len(path), PathLimit(path), ErrPathTooLong)
		}
		if len(path) > 0 && path[0] == 0 {
			path = "@" + path[1:]
		}
		return &unix.SockaddrUnix{Name: path}, nil
	}
	return nil, fmt.Errorf("sock: address family %d not supported", family)
}

// FromUnix converts x/sys's address (from getsockname, getpeername) back to a value: an AddrPort
// for IP, a path for AF_UNIX (abstract names with a leading '@').
func FromUnix(sa unix.Sockaddr) (ap netip.AddrPort, path string, ok bool) {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), "", true
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			a = a.WithZone((*Zones)(nil).Name(int(sa.ZoneId)))
		}
		return netip.AddrPortFrom(a, uint16(sa.Port)), "", true
	case *unix.SockaddrUnix:
		if sa.Name == "@" { // x/sys's rendering of an unnamed socket
			return netip.AddrPort{}, "", true
		}
		return netip.AddrPort{}, sa.Name, true
	}
	return netip.AddrPort{}, "", false
}

// Errno returns err's errno, or 0.
func Errno(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
