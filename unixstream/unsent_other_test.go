//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import "net"

const canTellUnsent = false

// unsent cannot tell here: the dribbling writer only pauses.
func unsent(net.Conn) int { return 0 }
