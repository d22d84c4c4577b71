//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import (
	"fmt"
	"net"
	"strconv"
)

// interfaceIndex resolves an IPv6 zone: an interface name or a number.
func interfaceIndex(zone string) (int, error) {
	if n, err := strconv.Atoi(zone); err == nil {
		return n, nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return 0, fmt.Errorf("sock: zone %q: %w", zone, err)
	}
	return ifi.Index, nil
}

// zoneName names a scope id: the interface's name when it has one, else the number. Link-local
// peers only; it allocates.
func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}
