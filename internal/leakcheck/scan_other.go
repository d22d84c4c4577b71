//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package leakcheck

// scanFDs finds nothing: Windows has no descriptor numbers to scan, and its handle count moves with
// the runtime's own threads, so only the goroutine check runs there.
func scanFDs() map[string]string { return nil }
