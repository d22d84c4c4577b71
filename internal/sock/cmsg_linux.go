package sock

import (
	"encoding/binary"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The control-message layer: per-datagram information parsed from, and built into, the control
// buffers of recvmmsg and sendmmsg slots. Fixed buffers, no allocation, every length checked (the
// parser is fuzzed: FuzzParseRecvInfo).

// ControlSpace is the size of each slot's control buffer: room for every receive message this
// package asks for on a dual-stack socket (IPv6 packet info, traffic class, hop limit, a
// timestamp, and their IPv4 forms), with margin.
const ControlSpace = 256

const (
	cmsgAlign  = int(unsafe.Sizeof(uintptr(0)))
	cmsgHdr    = unix.SizeofCmsghdr // Len (size_t), Level, Type
	cmsgLenLen = cmsgHdr - 8        // the width of Len
)

func align(n int) int { return (n + cmsgAlign - 1) &^ (cmsgAlign - 1) }

// nextCmsg splits the first control message off b: its level, type and data, and what follows.
// ok is false when b holds no whole message (too short, or a length that does not fit): what the
// kernel wrote is trusted no further than its lengths allow.
func nextCmsg(b []byte) (level, typ int32, data, rest []byte, ok bool) {
	if len(b) < cmsgHdr {
		return 0, 0, nil, nil, false
	}
	var l int
	if cmsgLenLen == 8 {
		v := binary.NativeEndian.Uint64(b)
		if v > uint64(len(b)) {
			return 0, 0, nil, nil, false
		}
		l = int(v)
	} else {
		l = int(binary.NativeEndian.Uint32(b))
	}
	if l < cmsgHdr || l > len(b) {
		return 0, 0, nil, nil, false
	}
	level = int32(binary.NativeEndian.Uint32(b[cmsgLenLen:]))
	typ = int32(binary.NativeEndian.Uint32(b[cmsgLenLen+4:]))
	if next := align(l); next < len(b) {
		rest = b[next:]
	}
	return level, typ, b[cmsgHdr:l], rest, true // cmsgHdr is whole words: the data follows it
}

// putCmsg writes a control message header for size bytes of data at b[n:], zeroing its padding,
// and returns the data's slice and the offset after the message.
func putCmsg(b []byte, n, level, typ, size int) (data []byte, end int) {
	l := cmsgHdr + size
	h := b[n:]
	clear(h[:align(l)])
	if cmsgLenLen == 8 {
		binary.NativeEndian.PutUint64(h, uint64(l))
	} else {
		binary.NativeEndian.PutUint32(h, uint32(l))
	}
	binary.NativeEndian.PutUint32(h[cmsgLenLen:], uint32(level))
	binary.NativeEndian.PutUint32(h[cmsgLenLen+4:], uint32(typ))
	return h[cmsgHdr:l], n + align(l)
}

// SetRecvInfo asks the socket for the per-datagram information in what (RecvDestination and the
// rest). An IPv6 socket is asked for the IPv4 forms too, for the IPv4 datagrams a dual-stack socket
// receives.
func SetRecvInfo(fd, family, what int) error {
	type opt struct {
		name       string
		level, opt int
	}
	var opts []opt
	v4 := family == unix.AF_INET || family == unix.AF_INET6
	v6 := family == unix.AF_INET6
	if what&RecvDestination != 0 {
		if v4 {
			opts = append(opts, opt{"IP_PKTINFO", unix.IPPROTO_IP, unix.IP_PKTINFO})
		}
		if v6 {
			opts = append(opts, opt{"IPV6_RECVPKTINFO", unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO})
		}
	}
	if what&RecvTOS != 0 {
		if v4 {
			opts = append(opts, opt{"IP_RECVTOS", unix.IPPROTO_IP, unix.IP_RECVTOS})
		}
		if v6 {
			opts = append(opts, opt{"IPV6_RECVTCLASS", unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS})
		}
	}
	if what&RecvTTL != 0 {
		if v4 {
			opts = append(opts, opt{"IP_RECVTTL", unix.IPPROTO_IP, unix.IP_RECVTTL})
		}
		if v6 {
			opts = append(opts, opt{"IPV6_RECVHOPLIMIT", unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT})
		}
	}
	if what&RecvTime != 0 {
		opts = append(opts, opt{"SO_TIMESTAMPNS", unix.SOL_SOCKET, unix.SO_TIMESTAMPNS})
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, 1); err != nil {
			return os.NewSyscallError("setsockopt "+o.name, err)
		}
	}
	return nil
}

// ParseRecvInfo fills info from one datagram's control messages. Anything malformed, truncated or
// unknown is skipped: what the kernel wrote is trusted no further than its lengths allow.
func ParseRecvInfo(b []byte, info *RecvInfo) {
	*info = RecvInfo{TTL: -1}
	for {
		level, typ, data, rest, ok := nextCmsg(b)
		if !ok {
			return
		}
		parseOne(level, typ, data, info)
		b = rest
	}
}

func parseOne(level, typ int32, d []byte, info *RecvInfo) {
	u32 := func() (uint32, bool) {
		if len(d) < 4 {
			return 0, false
		}
		return binary.NativeEndian.Uint32(d), true
	}
	switch {
	case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(d) >= unix.SizeofInet4Pktinfo:
		info.IfIndex = int(int32(binary.NativeEndian.Uint32(d)))
		info.Dst = netip.AddrFrom4([4]byte(d[8:12]))
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(d) >= unix.SizeofInet6Pktinfo:
		info.Dst = netip.AddrFrom16([16]byte(d[0:16])).Unmap()
		info.IfIndex = int(binary.NativeEndian.Uint32(d[16:]))
	case level == unix.IPPROTO_IP && typ == unix.IP_TOS && len(d) >= 1:
		info.TOS, info.HasTOS = d[0], true // a byte on receive
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS:
		if v, ok := u32(); ok {
			info.TOS, info.HasTOS = uint8(v), true
		}
	case level == unix.IPPROTO_IP && typ == unix.IP_TTL:
		if v, ok := u32(); ok {
			info.TTL = int(int32(v))
		}
	case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_HOPLIMIT:
		if v, ok := u32(); ok {
			info.TTL = int(int32(v))
		}
	case level == unix.SOL_SOCKET && typ == unix.SO_TIMESTAMPNS:
		switch {
		case len(d) >= 16: // struct timespec of 64-bit fields
			info.Time = int64(binary.NativeEndian.Uint64(d))*1e9 + int64(binary.NativeEndian.Uint64(d[8:]))
		case len(d) >= 8: // 32-bit systems' timespec
			info.Time = int64(int32(binary.NativeEndian.Uint32(d)))*1e9 + int64(int32(binary.NativeEndian.Uint32(d[4:])))
		}
	}
}

// putControl writes info's control messages into b (a slot's buffer, ControlSpace bytes) and
// returns how many bytes they take.
func putControl(b []byte, info *SendInfo) int {
	n := 0
	put := func(level, typ, size int) []byte {
		d, end := putCmsg(b, n, level, typ, size)
		n = end
		return d
	}
	if info.IPv4 {
		if info.Src.IsValid() || info.IfIndex != 0 {
			d := put(unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)
			binary.NativeEndian.PutUint32(d, uint32(int32(info.IfIndex)))
			if info.Src.IsValid() {
				a := info.Src.Unmap().As4()
				copy(d[4:8], a[:]) // ipi_spec_dst: the source address
			}
		}
		if info.SetTOS {
			binary.NativeEndian.PutUint32(put(unix.IPPROTO_IP, unix.IP_TOS, 4), uint32(info.TOS))
		}
		return n
	}
	if info.Src.IsValid() || info.IfIndex != 0 {
		d := put(unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
		if info.Src.IsValid() {
			a := info.Src.As16()
			copy(d[0:16], a[:])
		}
		binary.NativeEndian.PutUint32(d[16:], uint32(info.IfIndex))
	}
	if info.SetTOS {
		binary.NativeEndian.PutUint32(put(unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4), uint32(info.TOS))
	}
	return n
}
