//go:build dragonfly || freebsd || netbsd

package sock

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvSys needs no headers of its own on FreeBSD, NetBSD and DragonFly: a batch is a loop of single
// raw recvmsg calls (darwin and OpenBSD go through libc: batch_libcbsd.go).
type recvSys struct{}

func (recvSys) init(*RecvBatch) {}

// enableControl does nothing: per-datagram information is Linux's for now.
func (recvSys) enableControl(*RecvBatch) {}

// recv reads datagrams with raw recvmsg calls until the batch is full or none is waiting. The
// source lands in the batch's Sockaddr as the kernel wrote it: nothing is decoded (x/sys's
// Recvmsg fails, and so loses the datagram, on an address family it cannot decode) and nothing
// is allocated. A sender without an address (an unbound Unix socket) gives an empty one.
func (recvSys) recv(b *RecvBatch, fd int) (int, error) {
	for i := range b.names {
		sa := &b.names[i]
		buf := b.bufs[i*b.size : (i+1)*b.size]
		var iov unix.Iovec
		iov.Base = &buf[0]
		iov.SetLen(len(buf))
		var h unix.Msghdr
		h.Name = (*byte)(sa.ptr())
		h.Namelen = uint32(unsafe.Sizeof(sa.raw))
		h.Iov = &iov
		h.SetIovlen(1)
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&h)), 0)
		if e != 0 {
			if i > 0 {
				return i, nil
			}
			return 0, syscallError("recvmsg", e)
		}
		sa.n = h.Namelen
		b.lens[i], b.trunc[i] = int(n), h.Flags&unix.MSG_TRUNC != 0
	}
	return len(b.names), nil
}

// SendTo sends one datagram to the raw address to (to.Len() == 0: the connected peer) with a raw
// sendto: no encoding, no allocation.
func SendTo(fd int, data []byte, to *Sockaddr) error {
	var p unsafe.Pointer
	var n uintptr
	if to != nil && to.n > 0 {
		p, n = to.ptr(), uintptr(to.n)
	}
	var d unsafe.Pointer
	if len(data) > 0 {
		d = unsafe.Pointer(&data[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(d), uintptr(len(data)), 0, uintptr(p), n)
	if e != 0 {
		return syscallError("sendto", syscall.Errno(e))
	}
	return nil
}
