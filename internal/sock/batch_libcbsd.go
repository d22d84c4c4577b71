//go:build darwin || openbsd

package sock

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// recvSys reads with one recvmsg(2) per datagram through x/sys, which allocates the source address:
// darwin and OpenBSD take system calls only through libc (OpenBSD enforces it), and x/sys's libc
// wrapper of recvmsg is not exported, so these two cannot make the raw calls the other BSDs make
// (batch_rawbsd.go).
type recvSys struct{}

func (recvSys) init(*RecvBatch) {}

// enableControl does nothing: per-datagram information is Linux's for now.
func (recvSys) enableControl(*RecvBatch) {}

func (recvSys) recv(b *RecvBatch, fd int) (int, error) {
	got := 0
	for i := range b.names {
		buf := b.bufs[i*b.size : (i+1)*b.size]
		n, _, flags, from, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EAFNOSUPPORT {
			// The datagram was received, but x/sys cannot decode its source's family: deliver
			// it with no source rather than lose it.
			from, err = nil, nil
		}
		if err != nil {
			if got > 0 {
				return got, nil
			}
			return 0, syscallError("recvmsg", err)
		}
		b.lens[i], b.trunc[i] = n, flags&unix.MSG_TRUNC != 0
		b.names[i] = Sockaddr{}
		switch sa := from.(type) {
		case *unix.SockaddrInet4, *unix.SockaddrInet6:
			ap, _, _ := FromUnix(sa)
			fam := unix.AF_INET
			if _, ok := sa.(*unix.SockaddrInet6); ok {
				fam = unix.AF_INET6
			}
			b.names[i].SetAddrPort(ap, fam, nil)
		case *unix.SockaddrUnix:
			b.names[i].SetPath(sa.Name)
		}
		got++
	}
	return got, nil
}

func toUnix(s *Sockaddr) (unix.Sockaddr, error) {
	if s == nil || s.n == 0 {
		return nil, nil
	}
	if ap, ok := s.AddrPort(nil); ok {
		return ToUnix(s.Family(), ap, "")
	}
	p, _ := s.Path()
	return ToUnix(unix.AF_UNIX, netip.AddrPort{}, string(p))
}

// SendTo sends one datagram, to to or to the connected peer when to is nil or empty.
func SendTo(fd int, data []byte, to *Sockaddr) error {
	sa, err := toUnix(to)
	if err != nil {
		return err
	}
	if _, err := unix.SendmsgN(fd, data, nil, sa, 0); err != nil {
		return syscallError("sendmsg", err)
	}
	return nil
}
