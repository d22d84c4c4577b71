package sock

import "encoding/binary"

// abstractNames: Linux has the abstract socket namespace.
const abstractNames = true

// On Linux sockaddr starts with a uint16 family in host order.
func setHeader(b *[112]byte, family, _ int) { binary.NativeEndian.PutUint16(b[0:], uint16(family)) }

func family(b *[112]byte) int { return int(binary.NativeEndian.Uint16(b[0:])) }
