//go:build darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

// Drops is Linux's (SO_MEMINFO) for now.
func Drops(int) (uint64, error) { return 0, errNoInfo }

// SetDontFragment is Linux's for now.
func SetDontFragment(int, int) error { return errNoInfo }
