//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import "net/netip"

// Which per-datagram information a socket is asked to attach to what it receives (SetRecvInfo).
const (
	RecvDestination = 1 << iota // IP_PKTINFO, IPV6_RECVPKTINFO: the destination address and interface
	RecvTOS                     // IP_RECVTOS, IPV6_RECVTCLASS: the TOS or traffic class byte (ECN in its low 2 bits)
	RecvTTL                     // IP_RECVTTL, IPV6_RECVHOPLIMIT
	RecvTime                    // SO_TIMESTAMPNS: the kernel's receive time
)

// RecvInfo is what one received datagram's control messages said (ParseRecvInfo).
type RecvInfo struct {
	Dst     netip.Addr // the address the datagram was sent to; invalid when not reported
	IfIndex int        // the interface it arrived on; 0 when not reported
	TOS     uint8      // the IPv4 TOS or IPv6 traffic class
	HasTOS  bool       // TOS was reported
	TTL     int        // the IPv4 TTL or IPv6 hop limit; -1 when not reported
	Time    int64      // the kernel's receive time, nanoseconds since the Unix epoch; 0 when not reported
}

// SendInfo is per-datagram information for a send: the source address (and interface) to send
// from, and the TOS or traffic class byte. The zero value asks for nothing.
type SendInfo struct {
	Src     netip.Addr // send from this local address; invalid: the kernel chooses
	IfIndex int        // send through this interface; 0: the kernel chooses
	TOS     uint8      // the TOS or traffic class (ECN in its low 2 bits), when SetTOS
	SetTOS  bool
	IPv4    bool // use the IPv4 control messages (an IPv4 destination, mapped or not); else IPv6
}

// IsZero reports whether the info asks for nothing.
func (i *SendInfo) IsZero() bool { return !i.Src.IsValid() && i.IfIndex == 0 && !i.SetTOS }
