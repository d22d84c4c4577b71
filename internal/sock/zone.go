//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Zones caches the interface names and indices that IPv6 zones (link-local scopes) name, so that a
// datagram from a link-local peer costs a map lookup instead of a netlink dump (net.InterfaceByIndex
// lists every interface). One per loop: only the loop goroutine touches it, without a lock. Go's net
// keeps such a cache for the process, refreshed when older than a minute; this one refreshes on
// the same schedule, and on a miss at most once a second, so that a peer naming an index that no
// interface has cannot make every datagram dump the interfaces. A nil *Zones looks up every time.
type Zones struct {
	names   map[int]string
	indices map[string]int
	fetched time.Time
	lookups int // refreshes made, for the tests
}

const (
	zonesMaxAge   = time.Minute
	zonesMissWait = time.Second
)

// Lookups returns how many times z listed the interfaces.
func (z *Zones) Lookups() int { return z.lookups }

// refresh lists the interfaces again if the cache is older than age.
func (z *Zones) refresh(age time.Duration) {
	now := time.Now()
	if z.names != nil && now.Sub(z.fetched) < age {
		return
	}
	z.fetched = now
	z.lookups++
	ifs, err := net.Interfaces()
	if err != nil {
		return // keep what we had; the caller falls back to the number
	}
	z.names = make(map[int]string, len(ifs))
	z.indices = make(map[string]int, len(ifs))
	for _, ifi := range ifs {
		z.names[ifi.Index] = ifi.Name
		z.indices[ifi.Name] = ifi.Index
	}
}

// Name names a scope id: the interface's name when it has one, else the number.
func (z *Zones) Name(index int) string {
	if z == nil {
		if ifi, err := net.InterfaceByIndex(index); err == nil {
			return ifi.Name
		}
		return strconv.Itoa(index)
	}
	z.refresh(zonesMaxAge)
	if name, ok := z.names[index]; ok {
		return name
	}
	z.refresh(zonesMissWait)
	if name, ok := z.names[index]; ok {
		return name
	}
	return strconv.Itoa(index)
}

// Index resolves a zone: an interface name or a number.
func (z *Zones) Index(zone string) (int, error) {
	if n, err := strconv.Atoi(zone); err == nil {
		return n, nil
	}
	if z == nil {
		ifi, err := net.InterfaceByName(zone)
		if err != nil {
			return 0, fmt.Errorf("sock: zone %q: %w", zone, err)
		}
		return ifi.Index, nil
	}
	z.refresh(zonesMaxAge)
	if i, ok := z.indices[zone]; ok {
		return i, nil
	}
	z.refresh(zonesMissWait)
	if i, ok := z.indices[zone]; ok {
		return i, nil
	}
	return 0, fmt.Errorf("sock: zone %q: no such interface", zone)
}
