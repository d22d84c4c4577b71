package unixstream_test

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// canTellUnsent: unsent works here, so the dribbling writer waits for each byte to be read.
const canTellUnsent = true

// unsent is how many bytes written to c its peer has not read yet (SIOCOUTQ; for a Unix stream
// socket, what waits in the peer's receive queue), or 0 when it cannot tell.
func unsent(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
	return n
}
