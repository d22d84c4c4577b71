package udp

import (
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
)

// Info selects the per-datagram information Options.ReceiveInfo asks the kernel for. asyncio has
// none of it (its datagram transport reads with recvfrom); the names are the socket options'.
type Info uint8

// The information a datagram can carry; combine with |.
const (
	// InfoDestination: the address the datagram was sent to, and the interface it came in on
	// (IP_PKTINFO, IPV6_RECVPKTINFO). A server bound to a wildcard address answers from the
	// address it was asked on with SendToInfo(reply, from, SendInfo{Src: info.Dst}).
	InfoDestination Info = sock.RecvDestination
	// InfoTOS: the IPv4 TOS or IPv6 traffic class byte, ECN in its low two bits (IP_RECVTOS,
	// IPV6_RECVTCLASS).
	InfoTOS Info = sock.RecvTOS
	// InfoTTL: the IPv4 TTL or IPv6 hop limit (IP_RECVTTL, IPV6_RECVHOPLIMIT).
	InfoTTL Info = sock.RecvTTL
	// InfoTime: the kernel's receive time (SO_TIMESTAMPNS).
	InfoTime Info = sock.RecvTime

	infoAll = InfoDestination | InfoTOS | InfoTTL | InfoTime
)

// RecvInfo is the per-datagram information of one received datagram: what Options.ReceiveInfo
// asked for, the rest left at its zero value (TTL at -1).
type RecvInfo struct {
	Dst     netip.Addr // the destination address (InfoDestination); IPv4 for an IPv4 datagram on a dual-stack socket
	IfIndex int        // the interface it arrived on (InfoDestination)
	TOS     uint8      // the TOS or traffic class byte (InfoTOS)
	HasTOS  bool       // TOS was reported
	TTL     int        // the TTL or hop limit (InfoTTL); -1 when not reported
	Time    time.Time  // the kernel's receive time (InfoTime); the zero Time when not reported
	// Truncated: the kernel cut the control messages to fit (MSG_CTRUNC), so some of the above
	// may be missing.
	Truncated bool
}

// ECN is the datagram's ECN codepoint: the low two bits of its TOS or traffic class (RFC 3168).
func (i *RecvInfo) ECN() uint8 { return i.TOS & 3 }

// InfoReceiver is the optional part of a Protocol that takes per-datagram information. When the
// protocol has it, the transport calls DatagramReceivedInfo instead of DatagramReceived. It is
// checked once, when the transport is made or the protocol set. info points into the loop's own
// memory, valid until the method returns, as data is; nothing is allocated for it. Loop goroutine.
type InfoReceiver interface {
	DatagramReceivedInfo(data []byte, from Addr, info *RecvInfo)
}

// SendInfo is per-datagram information for SendToInfo: the local address to send from (a
// multi-homed server answers from the address it was asked on) and the TOS or traffic class byte
// (for ECN). The zero value asks for nothing.
type SendInfo struct {
	Src     netip.Addr // send from this local address (IP_PKTINFO, IPV6_PKTINFO); invalid: the kernel chooses
	IfIndex int        // send through this interface; 0: the kernel chooses
	TOS     uint8      // the TOS or traffic class, when SetTOS (IP_TOS, IPV6_TCLASS)
	SetTOS  bool
}

// SendToInfo is SendTo with per-datagram information, which stays with the datagram when it is
// staged or queued. Linux only for now; elsewhere a non-zero info is refused. Loop-only.
func (t *Transport) SendToInfo(data []byte, to Addr, info SendInfo) error {
	if info == (SendInfo{}) {
		return t.SendTo(data, to)
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("%w: SendInfo is supported on Linux only for now", ErrDestination)
	}
	if t.family != syscall.AF_INET && t.family != syscall.AF_INET6 {
		return fmt.Errorf("%w: SendInfo is for IP endpoints", ErrDestination)
	}
	si := sock.SendInfo{Src: info.Src, IfIndex: info.IfIndex, TOS: info.TOS, SetTOS: info.SetTOS}
	switch d := t.destination(to); {
	case t.family == syscall.AF_INET:
		si.IPv4 = true
	case d.IsValid():
		si.IPv4 = d.Unmap().Is4()
	default:
		si.IPv4 = info.Src.Unmap().Is4()
	}
	if si.Src.IsValid() && si.IPv4 != si.Src.Unmap().Is4() {
		return fmt.Errorf("%w: SendInfo.Src %v and the destination are of different families", ErrDestination, info.Src)
	}
	return t.sendTo(data, to, &si)
}

// destination is where a send to to goes: to, or the endpoint's remote address.
func (t *Transport) destination(to Addr) netip.Addr {
	if to.IsValid() && !to.unix {
		return to.ap.Addr()
	}
	if t.dest.IsValid() && !t.dest.unix {
		return t.dest.ap.Addr()
	}
	return netip.Addr{}
}

// deliverInfo parses the control messages of slot i into the loop's RecvInfo and hands the
// datagram to the InfoReceiver.
func (t *Transport) deliverInfo(i int, data []byte, from Addr) {
	ctrl, cut := t.recv.Control(i)
	t.fillInfo(ctrl, cut)
	t.info.DatagramReceivedInfo(data, from, t.rinfo)
}

// fillInfo parses control messages into the loop's RecvInfo.
func (t *Transport) fillInfo(ctrl []byte, cut bool) {
	sock.ParseRecvInfo(ctrl, t.sinfo)
	s, r := t.sinfo, t.rinfo
	*r = RecvInfo{Dst: s.Dst, IfIndex: s.IfIndex, TOS: s.TOS, HasTOS: s.HasTOS, TTL: s.TTL, Truncated: cut}
	if s.Time != 0 {
		r.Time = time.Unix(0, s.Time)
	}
}

// BufferSizes returns the socket's receive and send buffer sizes as the kernel granted them
// (SO_RCVBUF, SO_SNDBUF; Linux reports twice what was asked, its bookkeeping included). Loop-only.
func (t *Transport) BufferSizes() (receive, send int, err error) {
	if t.fd < 0 {
		return 0, 0, errClosed
	}
	return sock.Buffers(t.fd)
}

// Drops returns how many datagrams the kernel dropped for this socket since it was made, for want
// of receive buffer room mostly (SO_MEMINFO: the drops column of /proc/net/udp). Linux only for
// now. Loop-only.
func (t *Transport) Drops() (uint64, error) {
	if t.fd < 0 {
		return 0, errClosed
	}
	return sock.Drops(t.fd)
}
