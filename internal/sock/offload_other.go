//go:build darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import "syscall"

// MaxSegments is the most datagrams one GSO send carries.
const MaxSegments = 64

// SetGRO is Linux's for now.
func SetGRO(int, bool) error { return errNoInfo }

// ProbeGSO: Linux's for now.
func ProbeGSO(int) (bool, string) { return false, "GSO is supported on Linux only for now" }

// GROSize finds nothing here.
func GROSize([]byte) int { return 0 }

// GSOFault is Linux's test hook.
var GSOFault func(fd int) syscall.Errno
