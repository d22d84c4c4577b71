package sock

import (
	"encoding/binary"

	"golang.org/x/sys/windows"
)

// The system's address constants, for the OS-neutral Sockaddr code (ws2def.h, ws2ipdef.h,
// afunix.h).
const (
	afInet      = windows.AF_INET
	afInet6     = windows.AF_INET6
	afUnix      = windows.AF_UNIX
	sizeofInet4 = 16
	sizeofInet6 = 28
	sunPathLen  = 108
)

// rawSockaddrAny is SOCKADDR_STORAGE's size and alignment, large enough for every family.
type rawSockaddrAny struct {
	_ [16]uint64
}

// fullSunPath: Windows wants a NUL-terminated path that fits sun_path with it.
const fullSunPath = false

// On Windows sockaddr starts with a uint16 family in host order, as on Linux.
func setHeader(b *[128]byte, family, _ int) { binary.NativeEndian.PutUint16(b[0:], uint16(family)) }

func family(b *[128]byte) int { return int(binary.NativeEndian.Uint16(b[0:])) }
