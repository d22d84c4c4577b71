package udp

import "net/netip"

// Addr is a datagram endpoint's address, as a value: a netip.AddrPort for IPv4 and IPv6, or a Unix
// socket path. The zero Addr is no address. Decoding an IP peer's address allocates nothing.
type Addr struct {
	ap   netip.AddrPort
	path string
	unix bool
}

// AddrFromAddrPort makes an IP address.
func AddrFromAddrPort(ap netip.AddrPort) Addr { return Addr{ap: ap} }

// UnixAddr makes a Unix socket address: a filesystem path, or an abstract name written "@name"
// (Linux). The empty path is an unnamed Unix socket, such as a client that did not bind.
func UnixAddr(path string) Addr { return Addr{path: path, unix: true} }

// AddrPort returns the IP address and port; the zero AddrPort for a Unix address.
func (a Addr) AddrPort() netip.AddrPort { return a.ap }

// Path returns the Unix socket path ("@name" for an abstract name); "" for an IP address.
func (a Addr) Path() string { return a.path }

// IsUnix reports whether a is a Unix socket address (named or not).
func (a Addr) IsUnix() bool { return a.unix }

// IsValid reports whether a is an address: an IP address and port, or a Unix address.
func (a Addr) IsValid() bool { return a.unix || a.ap.IsValid() }

// String returns "ip:port", "[ip6]:port", the Unix path, or "" for the zero Addr.
func (a Addr) String() string {
	switch {
	case a.unix:
		return a.path
	case a.ap.IsValid():
		return a.ap.String()
	}
	return ""
}
