//go:build darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import "errors"

// ControlSpace is the size of each slot's control buffer (unused here: per-datagram information
// is Linux's for now).
const ControlSpace = 0

// SetRecvInfo is not supported here.
func SetRecvInfo(fd, family, what int) error { return errNoInfo }

// ParseRecvInfo reports nothing here.
func ParseRecvInfo(b []byte, info *RecvInfo) { *info = RecvInfo{TTL: -1} }

var errNoInfo = errors.New("sock: supported on Linux only for now")
