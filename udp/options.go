package udp

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"

	"github.com/aioloop/aioloop/internal/sock"
)

// Options are CreateDatagramEndpoint's parameters, one field per keyword argument of asyncio's
// create_datagram_endpoint. The zero value is asyncio's defaults.
type Options struct {
	// LocalAddr is local_addr: the address to bind, "host:port" ("[::1]:0", "127.0.0.1:9000",
	// "localhost:domain"), or for AF_UNIX a path ("/run/app.sock", or "@name" for an abstract name
	// on Linux). A socket file left at the path with no socket bound to it is removed first, as
	// asyncio does; one in use, or any other file, is left alone (EADDRINUSE).
	//
	// An empty host (":9000", ":0") is every address, as in Go's net.ListenPacket: with Family 0 a
	// dual-stack IPv6 socket on [::] that also receives IPv4 (its IPv4 peers are reported as IPv4
	// addresses, not IPv4-mapped ones), or 0.0.0.0 where the system has no IPv6; with AF_INET
	// 0.0.0.0; with AF_INET6 [::], IPv6 only. (asyncio hands the empty host to getaddrinfo, which
	// means loopback unless AI_PASSIVE is given.) With RemoteAddr it is the wildcard of the remote
	// address's family. For AF_UNIX, "" autobinds (Linux: the kernel picks an abstract name, so
	// that peers can answer); for IP, "" leaves the socket unbound until its first send.
	LocalAddr string
	// RemoteAddr is remote_addr: the socket is connected to it, Send sends there, and only its
	// datagrams are received. Same forms as LocalAddr; an empty host is the local system
	// (loopback), as Go's net dials it.
	RemoteAddr string
	// Family is family: syscall.AF_INET, syscall.AF_INET6 or syscall.AF_UNIX; 0 takes it from the
	// addresses (a path that starts with "/", "./", "../" or "@" is AF_UNIX).
	Family int
	// Flags is flags, getaddrinfo's: FlagNumericHost, FlagNumericServ. Other bits are refused.
	// (AI_PASSIVE has no use here: an empty host is already the wildcard. asyncio's proto has no
	// field either: UDP is the only protocol of a datagram socket over IP.)
	Flags int
	// ReusePort is reuse_port: SO_REUSEPORT, so that several endpoints (of the same user) can bind
	// one address and the kernel spreads datagrams among them. IP endpoints only.
	ReusePort bool
	// AllowBroadcast is allow_broadcast: SO_BROADCAST, needed to send to a broadcast address.
	AllowBroadcast bool
	// Sock is sock: an existing datagram socket to use instead of making one (an *os.File, for
	// instance os.NewFile(uintptr(fd), name), or a *net.UDPConn or *net.UnixConn). The transport
	// works on its own duplicate of the descriptor and closes that; the caller's object is left
	// open and should be closed by the caller. The duplicate shares the caller's open file, so the
	// caller's socket becomes non-blocking too, as asyncio makes it. Sock excludes the fields
	// that make or address a socket (LocalAddr, RemoteAddr, Family, Flags, ReusePort,
	// AllowBroadcast), as asyncio's sock excludes its socket modifiers; the per-socket features
	// (ReceiveInfo, ReceiveBuffer, SendBuffer, DontFragment, ICMPErrors, GRO, GSO) are set on it,
	// and so on the caller's socket too, which shares them (the IP-only ones are refused for an
	// AF_UNIX socket, naming the field, before the transport uses it).
	Sock syscall.Conn
	// ReuseAddress is reuse_address, which asyncio removed: true is always refused with
	// ErrReuseAddress.
	ReuseAddress bool
	// ReceiveInfo asks the kernel for per-datagram information (InfoDestination, InfoTOS,
	// InfoTTL, InfoTime), which a protocol with an InfoReceiver method receives with each
	// datagram. asyncio has no such option. IP endpoints on Linux only; a bad bit, AF_UNIX or
	// another system is refused before any socket is made (for Options.Sock, before the
	// transport uses it). Without it nothing changes: no control buffers are read, and nothing
	// is paid.
	ReceiveInfo Info
	// ReceiveBuffer and SendBuffer ask for socket buffers of that many bytes (SO_RCVBUF,
	// SO_SNDBUF); 0 keeps the system's default (208 KiB for receive on a stock Linux, which a
	// burst of large datagrams overflows). The kernel caps the request (net.core.rmem_max and
	// wmem_max on Linux) and doubles it for its bookkeeping: Transport.BufferSizes reports what
	// was granted. asyncio has no such option (one sets it on get_extra_info('socket')).
	ReceiveBuffer, SendBuffer int
	// DontFragment sets the Don't Fragment bit and turns path-MTU discovery on
	// (IP_MTU_DISCOVER/IPV6_MTU_DISCOVER at PMTUDISC_DO): a datagram larger than the path's MTU
	// fails with EMSGSIZE, reported to ErrorReceived, instead of leaving in fragments (what a
	// QUIC stack wants). IP endpoints on Linux only.
	DontFragment bool
	// ICMPErrors turns the socket's error queue on (IP_RECVERR, IPV6_RECVERR): ICMP errors
	// about datagrams sent from an unconnected endpoint reach ErrorReceived as *ICMPError, naming
	// the destination they concern (by default, as in asyncio, only a connected endpoint hears of
	// them, without the destination). The queue is drained before each read; an error that the
	// kernel also returns from a send or receive is reported from the queue instead, once, and
	// the send is tried again. IP endpoints on Linux only.
	ICMPErrors bool
	// GRO and GSO choose UDP segmentation offload (Linux): OffloadAuto, the default, uses each
	// where the kernel has it; OffloadOff never; OffloadOn requires it. With GRO the kernel may
	// hand over several datagrams of one flow as one buffer, which the transport splits into
	// sub-slices, calling DatagramReceived once per datagram, in order, no copy. With GSO a run
	// of equal-size datagrams to one destination (SendSegments) leaves in one send. IP endpoints;
	// Transport.Offload says what is on and why not. (asyncio has neither.)
	GRO, GSO Offload
}

// getaddrinfo's flags (glibc values, as Python's socket.AI_* on Linux).
const (
	FlagNumericHost = 0x4   // AI_NUMERICHOST: the host must be a numeric address, never a name
	FlagNumericServ = 0x400 // AI_NUMERICSERV: the port must be a number, never a service name
)

const knownFlags = FlagNumericHost | FlagNumericServ

// ErrReuseAddress is returned for Options.ReuseAddress, before any socket exists.
var ErrReuseAddress = errors.New("udp: Options.ReuseAddress is not supported: SO_REUSEADDR lets " +
	"processes of other users bind the same UDP address and take a random share of its datagrams; " +
	"use Options.ReusePort (SO_REUSEPORT), which lets only sockets of the same user share an address")

// ErrPathTooLong is returned, before any socket is made, for a Unix datagram path (LocalAddr,
// RemoteAddr) longer than a Unix socket address holds (108 bytes on Linux, 103 on the BSDs and
// macOS). It is the same error as unixstream.ErrPathTooLong.
var ErrPathTooLong = sock.ErrPathTooLong

// ErrResolveOnLoop is returned when a host name would have to be resolved on the loop goroutine,
// which must never block: call CreateDatagramEndpoint from another goroutine, or give numeric
// addresses.
var ErrResolveOnLoop = errors.New("udp: host names are not resolved on the loop goroutine")

func isUnixPath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") ||
		strings.HasPrefix(s, "@")
}

// ipOnly refuses, for an AF_UNIX endpoint, the options that only IP endpoints have.
func (o *Options) ipOnly() error {
	switch {
	case o.ReusePort:
		return errors.New("udp: Options.ReusePort is for IP endpoints, not AF_UNIX")
	case o.AllowBroadcast:
		return errors.New("udp: Options.AllowBroadcast is for IP endpoints, not AF_UNIX")
	case o.ReceiveInfo != 0:
		return errors.New("udp: Options.ReceiveInfo is for IP endpoints, not AF_UNIX")
	case o.DontFragment:
		return errors.New("udp: Options.DontFragment is for IP endpoints, not AF_UNIX")
	case o.ICMPErrors:
		return errors.New("udp: Options.ICMPErrors is for IP endpoints, not AF_UNIX")
	case o.GRO == OffloadOn || o.GSO == OffloadOn:
		return errors.New("udp: Options.GRO and GSO are for IP endpoints, not AF_UNIX")
	}
	return nil
}

// check refuses bad options and bad combinations, naming the field, before any socket or lookup.
// It returns the family when the options already fix it (0 when the addresses must tell).
func (o *Options) check() (family int, err error) {
	if o.ReuseAddress {
		return 0, ErrReuseAddress
	}
	if o.Sock != nil {
		var set []string
		for _, f := range []struct {
			name string
			on   bool
		}{
			{"LocalAddr", o.LocalAddr != ""}, {"RemoteAddr", o.RemoteAddr != ""}, {"Family", o.Family != 0},
			{"Flags", o.Flags != 0}, {"ReusePort", o.ReusePort}, {"AllowBroadcast", o.AllowBroadcast},
		} {
			if f.on {
				set = append(set, f.name)
			}
		}
		if len(set) > 0 {
			return 0, fmt.Errorf("udp: Options.Sock excludes Options.%s: the socket is already made", strings.Join(set, ", Options."))
		}
	}
	switch {
	case o.ReceiveInfo&^infoAll != 0:
		return 0, fmt.Errorf("udp: Options.ReceiveInfo has unknown bits %#x; known: InfoDestination, InfoTOS, InfoTTL, InfoTime", uint8(o.ReceiveInfo&^infoAll))
	case o.ReceiveInfo != 0 && runtime.GOOS != "linux":
		return 0, fmt.Errorf("udp: Options.ReceiveInfo is supported on Linux only for now, not %s", runtime.GOOS)
	case o.GRO > OffloadOn || o.GSO > OffloadOn:
		return 0, fmt.Errorf("udp: Options.GRO %d or GSO %d is not OffloadAuto, OffloadOff or OffloadOn", o.GRO, o.GSO)
	case (o.GRO == OffloadOn || o.GSO == OffloadOn) && runtime.GOOS != "linux":
		return 0, fmt.Errorf("udp: Options.GRO and GSO are supported on Linux only for now, not %s", runtime.GOOS)
	case o.ICMPErrors && runtime.GOOS != "linux":
		return 0, fmt.Errorf("udp: Options.ICMPErrors is supported on Linux only for now, not %s", runtime.GOOS)
	case o.DontFragment && runtime.GOOS != "linux":
		return 0, fmt.Errorf("udp: Options.DontFragment is supported on Linux only for now, not %s", runtime.GOOS)
	case o.ReceiveBuffer < 0:
		return 0, fmt.Errorf("udp: Options.ReceiveBuffer is %d; want > 0, or 0 for the system's default", o.ReceiveBuffer)
	case o.SendBuffer < 0:
		return 0, fmt.Errorf("udp: Options.SendBuffer is %d; want > 0, or 0 for the system's default", o.SendBuffer)
	case o.Sock != nil:
		return 0, nil // the socket tells its family (adopt)
	}
	if o.Flags&^knownFlags != 0 {
		return 0, fmt.Errorf("udp: Options.Flags has unknown bits %#x; known: FlagNumericHost, FlagNumericServ", o.Flags&^knownFlags)
	}
	family = o.Family
	switch family {
	case 0:
		if isUnixPath(o.LocalAddr) || isUnixPath(o.RemoteAddr) {
			family = syscall.AF_UNIX
		}
	case syscall.AF_INET, syscall.AF_INET6, syscall.AF_UNIX:
	default:
		return 0, fmt.Errorf("udp: Options.Family %d is not AF_INET, AF_INET6 or AF_UNIX", o.Family)
	}
	if family == syscall.AF_UNIX {
		if err := o.ipOnly(); err != nil {
			return 0, err
		}
		for _, a := range []struct{ name, path string }{{"LocalAddr", o.LocalAddr}, {"RemoteAddr", o.RemoteAddr}} {
			if len(a.path) > sock.PathLimit(a.path) {
				return 0, fmt.Errorf("udp: Options.%s is %d bytes; a Unix socket path of its kind holds at most %d: %w",
					a.name, len(a.path), sock.PathLimit(a.path), ErrPathTooLong)
			}
			if a.path != "" && !isUnixPath(a.path) && strings.Contains(a.path, ":") && o.Family == 0 {
				return 0, fmt.Errorf("udp: Options.%s %q mixes a Unix path with an IP address", a.name, a.path)
			}
		}
		return family, nil
	}
	for _, a := range []struct{ name, addr string }{{"LocalAddr", o.LocalAddr}, {"RemoteAddr", o.RemoteAddr}} {
		if isUnixPath(a.addr) {
			return 0, fmt.Errorf("udp: Options.%s %q is a Unix path but Options.Family is not AF_UNIX", a.name, a.addr)
		}
	}
	if o.LocalAddr == "" && o.RemoteAddr == "" && family == 0 {
		return 0, errors.New("udp: Options.Family is needed when neither LocalAddr nor RemoteAddr is given")
	}
	return family, nil
}
