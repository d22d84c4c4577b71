package sock

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvSys holds the mmsghdr and iovec arrays for recvmmsg(2), pointing at the batch's buffers.
type recvSys struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
}

func (r *recvSys) init(b *RecvBatch) {
	n := len(b.names)
	r.hdrs = make([]unix.Mmsghdr, n)
	r.iovs = make([]unix.Iovec, n)
	for i := range n {
		r.iovs[i].Base = &b.bufs[i*b.size]
		r.iovs[i].SetLen(b.size)
		h := &r.hdrs[i].Hdr
		h.Name = (*byte)(b.names[i].ptr())
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
	}
}

func (r *recvSys) enableControl(b *RecvBatch) {
	for i := range r.hdrs {
		r.hdrs[i].Hdr.Control = &b.ctrl[i*ControlSpace]
	}
}

func (r *recvSys) recv(b *RecvBatch, fd int) (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].Hdr.Namelen = uint32(unsafe.Sizeof(b.names[i].raw))
		r.hdrs[i].Hdr.Flags = 0
	}
	if b.ctrl != nil {
		for i := range r.hdrs {
			r.hdrs[i].Hdr.SetControllen(ControlSpace)
		}
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&r.hdrs[0])),
		uintptr(len(r.hdrs)), 0, 0, 0)
	if e != 0 {
		return 0, syscallError("recvmmsg", e)
	}
	for i := range int(n) {
		h := &r.hdrs[i]
		b.lens[i] = int(h.Len)
		b.names[i].n = h.Hdr.Namelen
		b.trunc[i] = h.Hdr.Flags&unix.MSG_TRUNC != 0
		if b.ctrl != nil {
			b.ctrlLen[i] = min(int(h.Hdr.Controllen), ControlSpace)
			b.ctrunc[i] = h.Hdr.Flags&unix.MSG_CTRUNC != 0
		}
	}
	return int(n), nil
}

// SendTo sends one datagram with sendto(2), to to, or to the connected peer when to is nil or
// empty. A zero-length datagram is sent as such. (A datagram with SendInfo goes through
// SendBatch.Send, whose slots have control buffers.)
func SendTo(fd int, data []byte, to *Sockaddr) error {
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	var sa unsafe.Pointer
	var salen uint32
	if to != nil && to.n > 0 {
		sa, salen = to.ptr(), to.n
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(data)), 0,
		uintptr(sa), uintptr(salen))
	if e != 0 {
		return syscallError("sendto", e)
	}
	return nil
}

// SendBatch sends queued datagrams with sendmmsg(2). Its arrays are reused by every Send; the
// control buffers (sendControlSpace bytes a slot) hold each datagram's SendInfo.
type SendBatch struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
	ctrl []byte
}

// sendControlSpace fits IPV6_PKTINFO, IPV6_TCLASS (or their IPv4 forms) and UDP_SEGMENT.
const sendControlSpace = 96

// NewSendBatch makes room for n datagrams per call.
func NewSendBatch(n int) *SendBatch {
	return &SendBatch{hdrs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n), ctrl: make([]byte, n*sendControlSpace)}
}

// Send sends up to len(msgs) (and the batch's size) datagrams and returns how many went. The error
// is that of the first datagram that did not go (EAGAIN when the socket buffer is full).
func (s *SendBatch) Send(fd int, msgs []Datagram) (int, error) {
	n := min(len(msgs), len(s.hdrs))
	if n == 0 {
		return 0, nil
	}
	if GSOFault != nil { // tests: the first GSO send of the batch fails as the kernel can fail it
		for j := range n {
			if msgs[j].Segment == 0 {
				continue
			}
			if j > 0 {
				n = j // what comes before goes; the next call meets the failure
			} else if e := GSOFault(fd); e != 0 {
				return 0, syscallError("sendmmsg", e)
			}
			break
		}
	}
	for i := range n {
		m := &msgs[i]
		iov := &s.iovs[i]
		iov.Base = nil
		if len(m.Data) > 0 {
			iov.Base = &m.Data[0]
		}
		iov.SetLen(len(m.Data))
		h := &s.hdrs[i].Hdr
		h.Name, h.Namelen = nil, 0
		if m.To.n > 0 {
			h.Name, h.Namelen = (*byte)(m.To.ptr()), m.To.n
		}
		h.Iov = iov
		h.SetIovlen(1)
		h.Control = nil
		h.SetControllen(0)
		if !m.Info.IsZero() || m.Segment > 0 {
			c := s.ctrl[i*sendControlSpace : (i+1)*sendControlSpace]
			k := putControl(c, &m.Info)
			if m.Segment > 0 {
				k = putSegment(c, k, m.Segment)
			}
			h.Control = &c[0]
			h.SetControllen(k)
		}
	}

	sent, _, e := syscall.RawSyscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&s.hdrs[0])),
		uintptr(n), 0, 0, 0)
	for i := range n { // drop the references to the queue's memory
		s.iovs[i].Base = nil
		s.hdrs[i].Hdr.Name = nil
		s.hdrs[i].Hdr.Control = nil
	}
	if e != 0 {
		return 0, syscallError("sendmmsg", e)
	}
	return int(sent), nil
}
