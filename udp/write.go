package udp

import (
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/sock"
)

// The send paths (staged replies, the queue's drain) never call the protocol while they walk their
// datagrams: a failed send's error is kept in t.errs and reported by afterSending once the walk is
// over, so that whatever ErrorReceived does (SendTo, Close, Abort) meets a consistent transport.

// enqueue copies a datagram the kernel refused into the queue and watches for writability, or
// returns a *WriteBufferFullError when it would take the queue above its cap.
func (t *Transport) enqueue(data []byte, to *sock.Sockaddr, info *sock.SendInfo, segment int) error {
	if err := t.flow.Check("udp", t.size, len(data)+overhead); err != nil {
		return err
	}
	t.queueCopy(data, to, info, segment)
	t.setInterest()
	t.flow.MaybePause(t.size)
	return nil
}

// queueCopy appends a copy of a datagram to the queue, and nothing else.
func (t *Transport) queueCopy(data []byte, to *sock.Sockaddr, info *sock.SendInfo, segment int) {
	var buf []byte
	if n := len(t.spare); n > 0 && cap(t.spare[n-1]) >= len(data) {
		buf, t.spare = t.spare[n-1][:len(data)], t.spare[:n-1]
	} else {
		buf = make([]byte, len(data))
	}
	copy(buf, data)
	t.queue = append(t.queue, sock.Datagram{Data: buf, To: *to, Info: *info, Segment: segment})
	t.size += len(data) + overhead
}

// setInterest watches for reading unless closing, paused or holding datagrams, and for writing
// while the queue holds data (unless resting: see onWritable).
func (t *Transport) setInterest() {
	if t.lost {
		return
	}
	var in reactor.Interest
	if !t.closing && t.reading && len(t.held) == 0 {
		in |= reactor.Readable
	}
	if t.head < len(t.queue) && !t.resting {
		in |= reactor.Writable
	}
	t.reg.SetInterest(in)
}

// rest stops watching writability for the backoff time, then tries again.
func (t *Transport) rest() {
	t.backoff = min(max(2*t.backoff, time.Millisecond), 64*time.Millisecond)
	t.resting = true
	t.setInterest()
	t.l.CallLater(t.backoff, func() {
		t.resting = false
		if !t.lost {
			t.onWritable()
		}
	})
}

// onWritable drains the queue with sendmmsg.
//
// An unconnected Unix datagram socket whose peer's queue is full gets EAGAIN while epoll keeps
// calling it writable: Linux wakes only connected senders when a peer drains (unix_dgram_poll).
// Such a transport rests instead of spinning: it stops watching writability and retries after
// 1 ms, doubling to 64 ms while the peer stays full.
func (t *Transport) onWritable() {
	if t.errq != nil {
		t.drainErrQueue()
	}
	retried := false
	for t.head < len(t.queue) {
		if d := &t.queue[t.head]; d.Segment > 0 && t.gsoFailed(&d.To) {
			t.splitHead() // queued before GSO failed for its destination
		}
		n, err := t.send.Send(t.fd, t.queue[t.head:])
		t.pop(n)
		if n > 0 {
			t.backoff, retried = 0, false
		}
		if err == nil {
			continue
		}
		if !retried && t.queuedErrorMet(err) {
			retried = true // another datagram's error: reported from the queue; try this one again
			continue
		}
		if d := &t.queue[t.head]; d.Segment > 0 && gsoFailure(err) {
			t.noGSOFor(&d.To)
			t.splitHead() // the same datagrams again, one send each
			continue
		}
		if sock.Temporary(err) {
			if n == 0 && t.family == syscall.AF_UNIX && !t.remote.IsValid() {
				t.rest()
				t.afterSending()
				return
			}
			break
		}
		t.pop(1) // that datagram cannot go: report it (after the drain) and carry on with the rest
		t.errs = append(t.errs, err)
	}
	if t.head == len(t.queue) {
		t.queue, t.head = t.queue[:0], 0
	}
	t.setInterest()
	t.afterSending()
	if t.lost {
		return // the protocol aborted from ErrorReceived
	}
	t.flow.MaybeResume(t.size)
	if t.closing && t.head == len(t.queue) {
		t.lose(nil)
	}
}

// pop drops n sent datagrams from the head of the queue, keeping their buffers for reuse.
func (t *Transport) pop(n int) {
	for i := range n {
		d := &t.queue[t.head+i]
		t.size -= len(d.Data) + overhead
		if len(t.spare) < spareBufs {
			t.spare = append(t.spare, d.Data[:0])
		}
		*d = sock.Datagram{}
	}
	t.head += n
}

// afterSending ends a send path: the protocol hears about the queue's growth, then about the
// errors the path met, in order.
func (t *Transport) afterSending() {
	if !t.lost {
		t.flow.MaybePause(t.size)
	}
	if len(t.errs) == 0 {
		return // the usual case, once per received batch
	}
	for i := 0; i < len(t.errs); i++ {
		t.callErrorReceived(t.errs[i])
	}
	clear(t.errs)
	t.errs = t.errs[:0]
}

// sendFailed reports a failed SendTo: after the batch while a batch is delivered; in the next
// iteration when SendTo was called from ErrorReceived (no recursion); at once otherwise, as
// asyncio's sendto calls error_received.
func (t *Transport) sendFailed(err error) {
	switch {
	case t.batching:
		t.errs = append(t.errs, err)
	case t.inErr:
		t.l.CallSoon(func() { t.callErrorReceived(err) })
	default:
		t.callErrorReceived(err)
	}
}

// callErrorReceived calls ErrorReceived, unless ConnectionLost has run. A panic there is reported
// and the endpoint stays open.
func (t *Transport) callErrorReceived(err error) {
	if t.gone {
		return
	}
	inErr := t.inErr
	t.inErr = true
	defer func() {
		t.inErr = inErr
		if v := recover(); v != nil {
			t.reportPanic("ErrorReceived", v)
		}
	}()
	t.proto.ErrorReceived(err)
}
