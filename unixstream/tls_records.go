package unixstream

import (
	"errors"
	"io"

	"github.com/aioloop/aioloop/internal/sock"
)

// tlsChunk is how much plaintext Writev gathers into one tls.Conn.Write: one full record.
const tlsChunk = 16 * 1024

// readTLS is onReadable for a TLS transport in its records phase: it decrypts into the loop's
// buffer (or the BufferedProtocol's) until the buffer is full or the socket has no more, and
// delivers; at most readBudget buffers per event. crypto/tls may hold decrypted or read bytes that
// epoll cannot see, so when the budget is spent a drain is scheduled to go on.
func (t *Transport) readTLS() {
	ts := t.tls
	for range readBudget {
		switch {
		case ts.handshaking || t.lost:
			return
		case ts.shutdown:
			t.readVoid()
			return
		case t.closing || !t.reading:
			return
		}
		buf := t.st.rbuf
		if t.buffered != nil {
			if buf = t.buffered.GetBuffer(-1); len(buf) == 0 {
				t.fatal(errors.New("unixstream: GetBuffer returned an empty buffer"))
				return
			}
		}
		n, err := t.fill(buf)
		if n > 0 {
			if t.buffered != nil {
				t.buffered.BufferUpdated(n)
			} else {
				t.data.DataReceived(buf[:n])
			}
		}
		if err != nil {
			t.readEnded(err)
			return
		}
	}
	t.queueDrain()
}

// fill reads plaintext into buf until it is full, a read returns an error, or both the socket and
// crypto/tls are known to be empty (recordConn.drained), which it reports as errWouldBlock.
func (t *Transport) fill(buf []byte) (int, error) {
	ts := t.tls
	n := 0
	for n < len(buf) {
		before := ts.rc.reads
		m, err := ts.conn.Read(buf[n:])
		n += m
		switch {
		case err != nil:
			return n, err
		case m < len(buf[n-m:]) && ts.rc.drained(before):
			return n, errWouldBlock
		}
	}
	return n, nil
}

// readEnded handles what stopped a read: the socket drained, the peer's close_notify or EOF, or an
// error.
func (t *Transport) readEnded(err error) {
	switch {
	case err == errWouldBlock:
	case err == io.EOF:
		t.tlsEOF()
	case sock.Errno(err) != 0:
		t.fatal(err)
	default: // a TLS error: a bad record, the peer's alert. The peer's doing: not reported.
		t.flushOut() // the alert crypto/tls queued, if the socket takes it
		t.abort(err)
	}
}

// readVoid reads and discards after Close queued close_notify, until the peer's close_notify or EOF
// (asyncio's _do_read_into_void).
func (t *Transport) readVoid() {
	for range readBudget {
		if t.lost || t.tls.peerDone {
			return
		}
		_, err := t.fill(t.st.rbuf)
		switch {
		case err == nil:
			continue
		case err == errWouldBlock:
			return
		case err == io.EOF:
			t.tls.peerDone = true
			t.setInterest()
			t.maybeShutDown()
		default:
			t.abort(err)
		}
		return
	}
	t.queueDrain()
}

// tlsEOF: the peer's close_notify, or EOF at a record boundary. The protocol hears EOFReceived (its
// answer is ignored: TLS has no half-close), then the transport closes, answering with its own
// close_notify, as asyncio's SSLProtocol does.
func (t *Transport) tlsEOF() {
	t.tls.peerDone = true
	if t.closing {
		t.maybeShutDown()
		return
	}
	t.proto.EOFReceived()
	t.Close()
}

// queueDrain schedules drainTLS once.
func (t *Transport) queueDrain() {
	if t.tls.drainQueued || t.lost {
		return
	}
	t.tls.drainQueued = true
	t.l.CallSoon(t.tls.drain)
}

// drainTLS goes on reading what crypto/tls or the socket holds.
func (t *Transport) drainTLS() {
	t.tls.drainQueued = false
	if !t.lost {
		t.onReadable()
	}
}

// queueRecords appends sealed records to the write buffer (recordConn.Write). A write the
// transport makes (Write, Close) flushes after; one crypto/tls makes by itself while reading (a
// KeyUpdate answer, an alert) asks for writability.
func (t *Transport) queueRecords(b []byte) {
	if t.lost {
		return
	}
	if t.appendOut(b) && !t.tls.inWrite {
		t.setInterest()
	}
}

// writeTLS seals b and writes the records (Write), then checks the water marks.
func (t *Transport) writeTLS(b []byte) {
	t.seal(b)
	if !t.lost {
		t.flow.MaybePause(t.WriteBufferSize())
	}
}

// seal seals b into records and writes them, once, if the buffer was empty; during a StartTLS
// handshake b waits as plaintext. The caller checks the water marks after, once, so that nothing
// the protocol writes from PauseWriting comes between the parts of one Write or Writev.
func (t *Transport) seal(b []byte) {
	ts := t.tls
	if ts.handshaking {
		ts.pending = append(ts.pending, b...)
		return
	}
	wasEmpty := t.head == len(t.out)
	ts.inWrite = true
	_, err := ts.conn.Write(b)
	ts.inWrite = false
	if err != nil { // recordConn.Write never fails, and Write refuses after Close
		t.abort(err)
		return
	}
	if wasEmpty {
		t.flushOut()
	}
}

// writevTLS seals bufs gathered into records of up to tlsChunk bytes (in a buffer the loop's
// transports share, free again when seal returns, since seal calls no protocol method), so that
// many small buffers do not become many small records.
func (t *Transport) writevTLS(bufs [][]byte) {
	if t.st.gather == nil {
		t.st.gather = make([]byte, 0, tlsChunk)
	}
	g := t.st.gather[:0]
	for _, b := range bufs {
		for len(b) > 0 && !t.lost {
			if len(g) == 0 && len(b) >= tlsChunk {
				t.seal(b)
				break
			}
			k := min(len(b), tlsChunk-len(g))
			g, b = append(g, b[:k]...), b[k:]
			if len(g) == tlsChunk {
				t.seal(g)
				g = g[:0]
			}
		}
	}
	if len(g) > 0 && !t.lost {
		t.seal(g)
	}
	if !t.lost {
		t.flow.MaybePause(t.WriteBufferSize())
	}
}

// closeTLS is Close in the records phase: close_notify after what is buffered, then reading
// discards until the peer's close_notify or EOF, for at most the shutdown timeout.
func (t *Transport) closeTLS() {
	ts := t.tls
	t.closing, ts.shutdown = true, true
	ts.inWrite = true
	ts.conn.CloseWrite() // queues close_notify; it cannot fail here
	ts.inWrite = false
	t.flushOut()
	if t.lost {
		return
	}
	if !ts.peerDone {
		ts.timer = t.l.CallLater(ts.params.shutdownTimeout, t.shutdownTimedOut)
	}
	t.setInterest()
	t.maybeShutDown()
	if !t.lost && !ts.peerDone {
		t.queueDrain() // the peer's close_notify may already be inside crypto/tls
	}
}

func (t *Transport) shutdownTimedOut() {
	if !t.lost {
		t.abort(t.tls.params.shutdownErr)
	}
}

// maybeShutDown ends a closing TLS transport once close_notify went out and the peer's came in.
func (t *Transport) maybeShutDown() {
	ts := t.tls
	if ts.shutdown && ts.peerDone && !t.lost && t.head == len(t.out) {
		t.lose(nil)
	}
}
