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
	hs     *os.File // set before the handshake goroutine starts; cleared on the loop once it succeeded, when crypto/tls no longer calls Close
	prefix []byte
	direct bool
	local  net.Addr
	remote net.Addr

	// The record boundaries of the incoming stream, followed over every byte handed to crypto/tls
	// from the first: a header being collected (hdr[:hdrN]), or left bytes of a record's body.
	hdr    [5]byte
	hdrN   int
	left   int
	reads  uint64 // read(2)s in the records phase
	single bool   // the last read(2) began at a record boundary, drained the socket, and brought exactly one whole record
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
		c.track(c.prefix[:n])
		c.prefix = c.prefix[n:]
		if len(c.prefix) == 0 {
			c.prefix = nil
		}
		return n, nil
	}
	if !c.direct {
		n, err := c.hs.Read(b)
		c.track(b[:n])
		return n, err
	}
	atBoundary := c.hdrN == 0 && c.left == 0
	n, err := sock.Read(c.t.fd, b)
	switch {
	case err != nil && sock.Temporary(err):
		return 0, errWouldBlock
	case err != nil:
		return 0, err
	case n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	c.reads++
	records := c.track(b[:n])
	c.single = atBoundary && records == 1 && c.hdrN == 0 && c.left == 0 && n < len(b)
	return n, nil
}

// track follows record boundaries over p, the next bytes of the stream, and returns how many
// records p completed.
func (c *recordConn) track(p []byte) (records int) {
	for len(p) > 0 {
		if c.left > 0 {
			k := min(c.left, len(p))
			c.left -= k
			p = p[k:]
			if c.left == 0 {
				records++
			}
			continue
		}
		k := copy(c.hdr[c.hdrN:], p)
		c.hdrN += k
		p = p[k:]
		if c.hdrN == len(c.hdr) {
			c.hdrN, c.left = 0, int(c.hdr[3])<<8|int(c.hdr[4])
			if c.left == 0 {
				records++
			}
		}
	}
	return records
}

// drained reports whether the socket and crypto/tls are both empty after a tls.Conn.Read that
// made exactly one read(2) (reads went from before to before+1) and returned less than it was
// asked for. crypto/tls reads only when it holds no whole record, so a read(2) that began at a
// record boundary found it holding nothing; if that read brought exactly one record and drained
// the socket, and the Read returned short (all of that record's plaintext), nothing is left
// anywhere: another Read would only meet EAGAIN, and cost crypto/tls an allocation.
func (c *recordConn) drained(before uint64) bool {
	return c.reads == before+1 && c.single
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
