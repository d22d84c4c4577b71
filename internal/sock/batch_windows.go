package sock

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// errPortUnreachable is what a UDP socket's WSAECONNRESET means: an ICMP port unreachable answered
// a datagram it sent (reported only on a connected socket: see Socket). Unix reports the same as
// ECONNREFUSED, and so does this layer, with Windows' number kept.
var errPortUnreachable = &wsa.Error{Win: windows.WSAECONNRESET, Posix: syscall.ECONNREFUSED}

// recvSys is empty on Windows: a batch is a loop of recvfrom calls, each into its own buffer and
// address; nothing is allocated.
type recvSys struct{}

func (recvSys) init(*RecvBatch) {}

// enableControl does nothing: per-datagram information is Linux's for now.
func (recvSys) enableControl(*RecvBatch) {}

// recv reads datagrams until the batch is full or none is waiting. A datagram larger than its
// buffer fails recvfrom with WSAEMSGSIZE having filled the buffer and dropped the rest, as
// MSG_TRUNC reports it on Unix.
func (recvSys) recv(b *RecvBatch, fd int) (int, error) {
	for i := range b.names {
		sa := &b.names[i]
		n := int32(unsafe.Sizeof(sa.raw))
		got, e := wsa.RecvFrom(windows.Handle(fd), b.bufs[i*b.size:(i+1)*b.size], 0, sa.ptr(), &n)
		trunc := false
		if e == windows.WSAEMSGSIZE {
			got, trunc, e = b.size, true, 0
		}
		if e != 0 {
			if i > 0 {
				return i, nil
			}
			if e == windows.WSAECONNRESET {
				return 0, os.NewSyscallError("recvfrom", errPortUnreachable)
			}
			return 0, syscallError("recvfrom", e)
		}
		sa.n = uint32(n)
		b.lens[i], b.trunc[i] = got, trunc
	}
	return len(b.names), nil
}

// SendTo sends one datagram to the raw address to (to.Len() == 0: the connected peer).
func SendTo(fd int, data []byte, to *Sockaddr) error {
	var p unsafe.Pointer
	var n int32
	if to != nil && to.n > 0 {
		p, n = to.ptr(), int32(to.n)
	}
	if _, e := wsa.SendTo(windows.Handle(fd), data, p, n); e != 0 {
		if e == windows.WSAECONNRESET {
			return os.NewSyscallError("sendto", errPortUnreachable)
		}
		return syscallError("sendto", e)
	}
	return nil
}
