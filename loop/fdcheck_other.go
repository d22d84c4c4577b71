//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package loop

func fdClosed(int) bool { return false }
