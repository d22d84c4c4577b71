//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sock

// fullSunPath: on the BSDs a path keeps room for its terminating NUL (and there are no abstract
// names).
const fullSunPath = false

// On the BSDs sockaddr starts with a length byte and a family byte.
func setHeader(b *[108]byte, family, length int) { b[0], b[1] = byte(length), byte(family) }

func family(b *[108]byte) int { return int(b[1]) }
