package sock

import (
	"errors"
	"syscall"
)

// RawConn is the syscall.RawConn a transport hands out (asyncio's get_extra_info('socket')):
// Control runs f with the descriptor while it is open; Read and Write are refused, since the loop
// owns the socket's readiness.
type RawConn struct {
	fd     *int  // the transport's descriptor field: negative once closed
	closed error // what Control returns after close
}

// NewRawConn makes a RawConn over a transport's descriptor field.
func NewRawConn(fd *int, closed error) syscall.RawConn { return RawConn{fd, closed} }

var errRawIO = errors.New("RawConn Read and Write are not supported: the loop owns the socket's readiness")

// Control runs f with the descriptor, or returns the closed error.
func (c RawConn) Control(f func(fd uintptr)) error {
	if *c.fd < 0 {
		return c.closed
	}
	f(uintptr(*c.fd))
	return nil
}

// Read is refused.
func (RawConn) Read(func(fd uintptr) bool) error { return errRawIO }

// Write is refused.
func (RawConn) Write(func(fd uintptr) bool) error { return errRawIO }
