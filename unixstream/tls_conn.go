package unixstream

import (
	"io"
	"net"
	"os"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
)

// recordConn is the net.Conn under a transport's tls.Conn, in two phases.
//
// During the handshake it is the handshake goroutine's: Read and Write go through hs, a duplicate
// of the socket on Go's own poller, so the goroutine parks instead of blocking a thread and the
// loop takes no part. Close (which crypto/tls calls when the handshake's context ends) only
// interrupts hs; the goroutine closes hs when it is done.
//
// Once the loop has the handshake's result (direct), it is the loop's: Read is one read(2) on the
// non-blocking socket, and EAGAIN is errWouldBlock, a temporary net.Error, on which crypto/tls keeps
// a partial record and returns, so that the next Read resumes it (conn.go's readRecordOrCCS; the
// tests pin it). Write appends the sealed records to the transport's write buffer and never fails.
//
// prefix holds bytes that belong to the TLS stream but were read before it began (StartTLS); Read
// returns them first, in either phase.
type recordConn struct {
	t      *Transport
	hs     *os.File // set before the handshake goroutine starts, never reassigned
	prefix []byte
	direct bool
	local  net.Addr
	remote net.Addr
}

// wouldBlock is EAGAIN as crypto/tls must see it: a net.Error that is Temporary, returned as it
// is (crypto/tls asserts the type; it does not unwrap).
type wouldBlock struct{}

func (wouldBlock) Error() string   { return "unixstream: read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var errWouldBlock net.Error = wouldBlock{}

func (c *recordConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		if len(c.prefix) == 0 {
			c.prefix = nil
		}
		return n, nil
	}
	if !c.direct {
		return c.hs.Read(b)
	}
	n, err := sock.Read(c.t.fd, b)
	switch {
	case err != nil && sock.Temporary(err):
		return 0, errWouldBlock
	case err != nil:
		return 0, err
	case n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *recordConn) Write(b []byte) (int, error) {
	if !c.direct {
		return c.hs.Write(b)
	}
	c.t.queueRecords(b)
	return len(b), nil
}

// Close interrupts the handshake goroutine's I/O; it never closes the transport's socket.
func (c *recordConn) Close() error {
	if c.hs != nil {
		c.hs.SetDeadline(time.Unix(1, 0))
	}
	return nil
}

func (c *recordConn) LocalAddr() net.Addr  { return c.local }
func (c *recordConn) RemoteAddr() net.Addr { return c.remote }

// Deadlines are the loop's business (the handshake's context, the shutdown timer): crypto/tls's
// own (closeNotify sets one) have nothing to act on, since nothing here blocks.
func (c *recordConn) SetDeadline(time.Time) error      { return nil }
func (c *recordConn) SetReadDeadline(time.Time) error  { return nil }
func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }
