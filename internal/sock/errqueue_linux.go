package sock

import (
	"encoding/binary"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// QueuedError is one entry of a socket's error queue (IP_RECVERR): an ICMP error, or a local one,
// about a datagram the socket sent.
type QueuedError struct {
	Dest     Sockaddr      // where the datagram that drew the error was going
	Errno    syscall.Errno // ECONNREFUSED for a port unreachable, EHOSTUNREACH, EMSGSIZE, ...
	Origin   uint8         // SO_EE_ORIGIN_ICMP, SO_EE_ORIGIN_ICMP6, SO_EE_ORIGIN_LOCAL
	Type     uint8         // the ICMP or ICMPv6 type
	Code     uint8         // and code
	Info     uint32        // the path MTU, for "fragmentation needed" and "packet too big"
	Offender netip.Addr    // the node that reported it, when the kernel gives it
}

// SetRecvErr turns the error queue on (IP_RECVERR; and IPV6_RECVERR on an IPv6 socket): ICMP
// errors reach an unconnected socket, each with the destination it concerns.
func SetRecvErr(fd, family int) error {
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil && family == unix.AF_INET {
		return os.NewSyscallError("setsockopt IP_RECVERR", err)
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1); err != nil {
			return os.NewSyscallError("setsockopt IPV6_RECVERR", err)
		}
	}
	return nil
}

// ErrQueue reads a socket's error queue without allocating: its buffers are reused by every Recv.
type ErrQueue struct {
	hdr  unix.Msghdr
	iov  unix.Iovec
	data [64]byte // the start of the offending datagram; not kept
	ctrl [ControlSpace]byte
	name Sockaddr
}

// NewErrQueue makes a reader of error queues.
func NewErrQueue() *ErrQueue { return new(ErrQueue) }

// Recv takes one entry off fd's error queue into e; it returns false with EAGAIN when the queue
// is empty. Taking the last entry clears the socket's pending error, which the next send or
// receive would otherwise return once.
func (q *ErrQueue) Recv(fd int, e *QueuedError) (bool, error) {
	q.iov.Base = &q.data[0]
	q.iov.SetLen(len(q.data))
	q.hdr = unix.Msghdr{Name: (*byte)(q.name.ptr()), Namelen: uint32(unsafe.Sizeof(q.name.raw)), Iov: &q.iov, Control: &q.ctrl[0]}
	q.hdr.SetIovlen(1)
	q.hdr.SetControllen(len(q.ctrl))
	_, _, errno := syscall.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&q.hdr)),
		unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if errno != 0 {
		return false, syscallError("recvmsg MSG_ERRQUEUE", errno)
	}
	q.name.n = q.hdr.Namelen
	*e = QueuedError{Dest: q.name}
	ParseQueuedError(q.ctrl[:min(int(q.hdr.Controllen), len(q.ctrl))], e)
	return true, nil
}

// ParseQueuedError reads the IP_RECVERR or IPV6_RECVERR message among control messages into e
// (its Dest untouched). Lengths are checked as ParseRecvInfo checks them.
func ParseQueuedError(b []byte, e *QueuedError) {
	for {
		level, typ, d, rest, ok := nextCmsg(b)
		if !ok {
			return
		}
		if (level == unix.IPPROTO_IP && typ == unix.IP_RECVERR || level == unix.IPPROTO_IPV6 && typ == unix.IPV6_RECVERR) &&
			len(d) >= sizeofSockExtendedErr {
			e.Errno = syscall.Errno(binary.NativeEndian.Uint32(d))
			e.Origin, e.Type, e.Code = d[4], d[5], d[6]
			e.Info = binary.NativeEndian.Uint32(d[8:])
			if off := d[sizeofSockExtendedErr:]; len(off) >= 2 { // SO_EE_OFFENDER: a sockaddr
				var sa Sockaddr
				sa.n = uint32(copy(sa.bytes()[:], off))
				if ap, ok := sa.AddrPort(nil); ok && !ap.Addr().IsUnspecified() {
					e.Offender = ap.Addr()
				}
			}
		}
		b = rest
	}
}

const sizeofSockExtendedErr = int(unsafe.Sizeof(unix.SockExtendedErr{}))

// RecvErrOn reports whether the socket's error queue is on (IP_RECVERR or IPV6_RECVERR), as a
// socket handed over by a caller may have it.
func RecvErrOn(fd, family int) bool {
	if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_RECVERR); err == nil && v != 0 {
		return true
	}
	if family == unix.AF_INET6 {
		if v, err := unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVERR); err == nil && v != 0 {
			return true
		}
	}
	return false
}
