package sock

import "encoding/binary"

// fullSunPath: Linux takes an address that fills sun_path: an abstract name, and a filesystem path
// without its terminating NUL (unix_mkname_bsd terminates it in a larger buffer).
const fullSunPath = true

// On Linux sockaddr starts with a uint16 family in host order.
func setHeader(b *[112]byte, family, _ int) { binary.NativeEndian.PutUint16(b[0:], uint16(family)) }

func family(b *[112]byte) int { return int(binary.NativeEndian.Uint16(b[0:])) }
