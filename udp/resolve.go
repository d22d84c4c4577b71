package udp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/aioloop/aioloop/loop"
)

// endpoint is what the options resolve to: every address a value, the family fixed.
type endpoint struct {
	family        int
	local, remote Addr
	dualStack     bool // an IPv6 wildcard that takes IPv4 too (IPV6_V6ONLY off), as Go's ":port"
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

// resolve turns the options into the endpoints to try, in order. Names are looked up here, on the
// caller's goroutine; on the loop goroutine a name is ErrResolveOnLoop.
func (o *Options) resolve(ctx context.Context, l *loop.Loop, family int) ([]endpoint, error) {
	pick := func(a netip.Addr) int {
		if family != 0 {
			return family
		}
		return familyOf(a)
	}
	if family == syscall.AF_UNIX {
		ep := endpoint{family: family, local: UnixAddr(o.LocalAddr)}
		if o.RemoteAddr != "" {
			ep.remote = UnixAddr(o.RemoteAddr)
		}
		return []endpoint{ep}, nil
	}
	var locals, remotes []netip.AddrPort
	var err error
	if o.LocalAddr != "" {
		if locals, err = o.lookup(ctx, l, "LocalAddr", o.LocalAddr, family); err != nil {
			return nil, err
		}
	}
	// An empty host with the family open: [::] dual-stack first, then 0.0.0.0.
	dual := family == 0 && strings.HasPrefix(o.LocalAddr, ":")
	if o.RemoteAddr != "" {
		if remotes, err = o.lookup(ctx, l, "RemoteAddr", o.RemoteAddr, family); err != nil {
			return nil, err
		}
	}
	var eps []endpoint
	switch {
	case len(remotes) == 0 && len(locals) == 0:
		// Family is set (check made sure): an unbound, unconnected socket.
		eps = append(eps, endpoint{family: family})
	case len(remotes) == 0:
		for i, lo := range locals {
			eps = append(eps, endpoint{family: pick(lo.Addr()), local: AddrFromAddrPort(lo), dualStack: dual && i == 0})
		}
	case len(locals) == 0:
		for _, r := range remotes {
			eps = append(eps, endpoint{family: pick(r.Addr()), remote: AddrFromAddrPort(r)})
		}
	default:
		// Every pair of a remote and a local address of one family, remote addresses first, as
		// asyncio pairs them by family.
		for _, r := range remotes {
			for _, lo := range locals {
				if familyOf(r.Addr()) == familyOf(lo.Addr()) {
					eps = append(eps, endpoint{family: pick(r.Addr()), local: AddrFromAddrPort(lo), remote: AddrFromAddrPort(r)})
				}
			}
		}
		if len(eps) == 0 {
			return nil, fmt.Errorf("udp: Options.LocalAddr %q and Options.RemoteAddr %q have no address family in common",
				o.LocalAddr, o.RemoteAddr)
		}
	}
	return eps, nil
}

// lookup resolves "host:port" to its candidates for the family (0 for either).
func (o *Options) lookup(ctx context.Context, l *loop.Loop, field, hostport string, family int) ([]netip.AddrPort, error) {
	host, service, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("udp: Options.%s: %w", field, err)
	}
	port, err := strconv.ParseUint(service, 10, 16)
	if err != nil {
		if o.Flags&FlagNumericServ != 0 {
			return nil, fmt.Errorf("udp: Options.%s: port %q is not a number (FlagNumericServ)", field, service)
		}
		if l.InLoop() {
			return nil, fmt.Errorf("udp: Options.%s: service %q: %w", field, service, ErrResolveOnLoop)
		}
		p, err := net.DefaultResolver.LookupPort(ctx, "udp", service)
		if err != nil {
			return nil, fmt.Errorf("udp: Options.%s: %w", field, err)
		}
		port = uint64(p)
	}
	var addrs []netip.Addr
	switch a, perr := netip.ParseAddr(host); {
	case host == "" && field == "LocalAddr":
		// Every address, as Go's net binds ":port": the IPv6 wildcard (dual-stack when the family
		// is open), then the IPv4 one where IPv6 is missing.
		addrs = []netip.Addr{netip.IPv6Unspecified(), netip.IPv4Unspecified()}
	case host == "":
		// The local system, as Go's net dials ":port".
		addrs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	case perr == nil:
		addrs = []netip.Addr{a}
	case o.Flags&FlagNumericHost != 0:
		return nil, fmt.Errorf("udp: Options.%s: host %q is not a numeric address (FlagNumericHost)", field, host)
	case l.InLoop():
		return nil, fmt.Errorf("udp: Options.%s: host %q: %w", field, host, ErrResolveOnLoop)
	default:
		network := map[int]string{0: "ip", syscall.AF_INET: "ip4", syscall.AF_INET6: "ip6"}[family]
		if addrs, err = net.DefaultResolver.LookupNetIP(ctx, network, host); err != nil {
			return nil, fmt.Errorf("udp: Options.%s: %w", field, err)
		}
	}
	var out []netip.AddrPort
	for _, a := range addrs {
		switch {
		case family == syscall.AF_INET6 && !a.Is4():
			// an IPv6 socket takes IPv6 addresses, IPv4-mapped ones included
		case family == syscall.AF_INET6:
			continue
		case a.Is4In6():
			a = a.Unmap()
		}
		if family == syscall.AF_INET && !a.Is4() {
			continue
		}
		out = append(out, netip.AddrPortFrom(a, uint16(port)))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("udp: Options.%s %q has no address of Options.Family %d", field, hostport, family)
	}
	return out, nil
}
