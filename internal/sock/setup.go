//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"errors"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// SetReusePort sets SO_REUSEPORT.
func SetReusePort(fd int) error {
	return os.NewSyscallError("setsockopt SO_REUSEPORT", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1))
}

// SetV6Only sets IPV6_V6ONLY: on, an IPv6 socket takes IPv6 only; off, IPv4 too (as mapped).
func SetV6Only(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt IPV6_V6ONLY", unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v))
}

// SetBroadcast sets SO_BROADCAST.
func SetBroadcast(fd int) error {
	return os.NewSyscallError("setsockopt SO_BROADCAST", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1))
}

// Bind binds fd to an IP address (family AF_INET or AF_INET6) or a Unix path (AF_UNIX; "" autobinds
// on Linux).
func Bind(fd, family int, ap netip.AddrPort, path string) error {
	if family == unix.AF_UNIX {
		return unixAddrCall("bind", fd, path)
	}
	sa, err := ToUnix(family, ap, path)
	if err != nil {
		return err
	}
	return os.NewSyscallError("bind", unix.Bind(fd, sa))
}

// Connect connects fd. On a non-blocking datagram socket it completes at once.
func Connect(fd, family int, ap netip.AddrPort, path string) error {
	if family == unix.AF_UNIX {
		return unixAddrCall("connect", fd, path)
	}
	sa, err := ToUnix(family, ap, path)
	if err != nil {
		return err
	}
	return os.NewSyscallError("connect", unix.Connect(fd, sa))
}

// LocalAddr returns fd's bound address (getsockname).
func LocalAddr(fd int) (ap netip.AddrPort, path string, err error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return ap, "", os.NewSyscallError("getsockname", err)
	}
	ap, path, _ = FromUnix(sa)
	return ap, path, nil
}

// PeerAddr returns fd's connected peer (getpeername); ok is false when it is not connected.
func PeerAddr(fd int) (ap netip.AddrPort, path string, ok bool) {
	sa, err := unix.Getpeername(fd)
	if err != nil {
		return ap, "", false
	}
	ap, path, ok = FromUnix(sa)
	return ap, path, ok
}

// Info is what a socket handed over by a caller turns out to be.
type Info struct {
	FD, Family, Type int
}

// Adopt duplicates the socket behind rc (close-on-exec), makes the copy non-blocking, and reports
// its family and type. The caller's socket stays open (closing it is the caller's call), but
// O_NONBLOCK belongs to the open file, which the duplicate shares: the caller's socket becomes
// non-blocking too, as asyncio makes a sock it is given.
func Adopt(rc syscall.RawConn) (Info, error) {
	var fd int
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return Info{}, err
	}
	if derr != nil {
		return Info{}, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", derr)
	}
	info := Info{FD: fd}
	var err error
	if info.Type, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil {
		unix.Close(fd)
		return Info{}, os.NewSyscallError("getsockopt SO_TYPE", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return Info{}, os.NewSyscallError("getsockname", err)
	}
	switch sa.(type) {
	case *unix.SockaddrInet4:
		info.Family = unix.AF_INET
	case *unix.SockaddrInet6:
		info.Family = unix.AF_INET6
	case *unix.SockaddrUnix:
		info.Family = unix.AF_UNIX
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return Info{}, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	return info, nil
}

// Close closes fd.
func Close(fd int) error { return os.NewSyscallError("close", unix.Close(fd)) }

// DupFile returns a duplicate of the non-blocking socket fd as an *os.File on Go's own poller:
// its Read and Write park the calling goroutine instead of blocking a thread, and SetDeadline
// interrupts them. Closing the file closes only the duplicate.
func DupFile(fd int, name string) (*os.File, error) {
	d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	return os.NewFile(uintptr(d), name), nil
}

// syscallError wraps a hot-path call's error as os.NewSyscallError does, except "not now" (EAGAIN,
// EINTR), which comes back as the bare errno: a small integer in an interface does not allocate,
// and a loop meets it on every drained socket.
func syscallError(op string, err error) error {
	if e, ok := err.(syscall.Errno); ok && (e == unix.EAGAIN || e == unix.EINTR) {
		return e
	}
	return os.NewSyscallError(op, err)
}

// Temporary reports whether a send or receive error means "not now": the socket buffer is full or
// empty (EAGAIN), or a signal interrupted the call.
func Temporary(err error) bool {
	return errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EINTR)
}

// Bound reports whether a socket is bound at the Unix path: a datagram probe's connect gets
// ECONNREFUSED only when no socket of any type is bound to the file (a stream socket there, listening
// or not, answers EPROTOTYPE; a datagram socket accepts). A socket file with nothing bound is
// stale: what a process that did not remove its file left behind.
func Bound(path string) (bool, error) {
	probe, err := Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		return false, err
	}
	defer Close(probe)
	err = Connect(probe, unix.AF_UNIX, netip.AddrPort{}, path)
	return Errno(err) != unix.ECONNREFUSED, nil
}
