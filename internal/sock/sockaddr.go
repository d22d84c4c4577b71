//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import (
	"encoding/binary"
	"net/netip"
	"unsafe"
)

// Sockaddr is a raw socket address held by value, as the kernel reads it on send and writes it on
// receive. The layouts it encodes and decodes, from <netinet/in.h> and <sys/un.h>:
//
//	sockaddr_in   { family(2 or len+family) ; port be16 @2 ; addr[4] @4 }                 16 bytes
//	sockaddr_in6  { family ; port be16 @2 ; flowinfo @4 ; addr[16] @8 ; scope_id u32 @24 } 28 bytes
//	sockaddr_un   { family ; path @2 }
//
// The first two bytes are a uint16 family on Linux and Windows and a length byte plus a family byte
// on the BSDs (setHeader and family, per OS; the constants come from sockaddr_unix.go and
// sockaddr_windows.go).
type Sockaddr struct {
	raw rawSockaddrAny
	n   uint32 // bytes in use
}

const (
	pathOffset = 2
	sunLen     = pathOffset + sunPathLen // sizeof(struct sockaddr_un)
)

func (s *Sockaddr) bytes() *[unsafe.Sizeof(rawSockaddrAny{})]byte {
	return (*[unsafe.Sizeof(rawSockaddrAny{})]byte)(unsafe.Pointer(&s.raw))
}

// Len is the length of the address in use; 0 for none.
func (s *Sockaddr) Len() int { return int(s.n) }

// Family is the address family, or 0 when empty.
func (s *Sockaddr) Family() int {
	if s.n < 2 {
		return 0
	}
	return family(s.bytes())
}

// SetAddrPort encodes ap for a socket of family AF_INET or AF_INET6 (an IPv4 address is sent from an
// IPv6 socket as IPv4-mapped). It reports false when ap does not fit the family. A zone is looked up
// in z (nil: in the system, which allocates); addresses without one need no lookup.
func (s *Sockaddr) SetAddrPort(ap netip.AddrPort, fam int, z *Zones) bool {
	b := s.bytes()
	a := ap.Addr()
	switch fam {
	case afInet:
		a = a.Unmap()
		if !a.Is4() {
			return false
		}
		*b = [len(b)]byte{}
		setHeader(b, afInet, sizeofInet4)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		a4 := a.As4()
		copy(b[4:8], a4[:])
		s.n = sizeofInet4
	case afInet6:
		if !a.IsValid() {
			return false
		}
		*b = [len(b)]byte{}
		setHeader(b, afInet6, sizeofInet6)
		binary.BigEndian.PutUint16(b[2:], ap.Port())
		a16 := a.As16()
		copy(b[8:24], a16[:])
		if zone := a.Zone(); zone != "" {
			idx, err := z.Index(zone)
			if err != nil {
				return false
			}
			binary.NativeEndian.PutUint32(b[24:], uint32(idx))
		}
		s.n = sizeofInet6
	default:
		return false
	}
	return true
}

// SetPath encodes a Unix socket path: a filesystem path, an abstract name ("@name" or a leading
// NUL, Linux), or "" for an unnamed address. It reports false when the path is too long.
func (s *Sockaddr) SetPath(path string) bool {
	if len(path) > PathLimit(path) {
		return false
	}
	b := s.bytes()
	*b = [len(b)]byte{}
	n := pathOffset + copy(b[pathOffset:], path)
	if len(path) > 0 && (path[0] == '@' || path[0] == 0) {
		b[pathOffset] = 0 // abstract: exactly its bytes, no terminating NUL
	} else if len(path) > 0 && n < sunLen {
		n++ // the terminating NUL, as sockaddr_un conventionally counts it, when it fits
	}
	setHeader(b, afUnix, n)
	s.n = uint32(n)
	return true
}

// AddrPort decodes an IP address, naming a scope id through z (nil: through the system); ok is
// false for any other family. An IPv4-mapped address (from a dual-stack socket) comes back as IPv4.
func (s *Sockaddr) AddrPort(z *Zones) (ap netip.AddrPort, ok bool) {
	b := s.bytes()
	switch s.Family() {
	case afInet:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:])), true
	case afInet6:
		a := netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		if scope := binary.NativeEndian.Uint32(b[24:]); scope != 0 && a.Is6() {
			a = a.WithZone(z.Name(int(scope)))
		}
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:])), true
	}
	return netip.AddrPort{}, false
}

// Path decodes a Unix address as bytes that alias the Sockaddr: an abstract name keeps its leading
// NUL; a filesystem path loses its terminating NULs; an unnamed address is empty. ok is false for
// any other family.
func (s *Sockaddr) Path() (path []byte, ok bool) {
	if s.Family() != afUnix {
		return nil, false
	}
	b := s.bytes()
	n := min(int(s.n), len(b))
	p := b[pathOffset:n]
	if len(p) > 0 && p[0] != 0 {
		for len(p) > 0 && p[len(p)-1] == 0 {
			p = p[:len(p)-1]
		}
	}
	return p, true
}

// ptr is the address for a syscall.
func (s *Sockaddr) ptr() unsafe.Pointer { return unsafe.Pointer(&s.raw) }
