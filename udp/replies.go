package udp

import "github.com/aioloop/aioloop/internal/sock"

// replies gathers what a transport sends while it delivers a batch of received datagrams, so that
// the answers to a recvmmsg batch leave in one sendmmsg instead of one sendto each. It belongs to
// the loop (one transport delivers at a time) and is empty between batches: onReadable flushes it
// after each batch, and Close before it closes. The bytes are copied into arena, so a protocol may
// reuse its buffer as soon as SendTo returns.
type replies struct {
	msgs  []sock.Datagram
	arena []byte // msgs' bytes, back to back
	used  int
}

// stage keeps a datagram of t's for the flush, making room by flushing when the staging is full.
// It returns false when the caller must send or queue the datagram itself: it is larger than the
// arena, or the flush left datagrams in the queue, which this one must follow.
func (t *Transport) stage(data []byte, to *sock.Sockaddr, info *sock.SendInfo) bool {
	r := t.replies
	if len(r.msgs) == cap(r.msgs) || len(data) > len(r.arena)-r.used {
		t.flushReplies()
		if t.head < len(t.queue) || len(data) > len(r.arena) {
			return false
		}
	}
	buf := r.arena[r.used : r.used+len(data) : r.used+len(data)]
	copy(buf, data)
	r.used += len(data)
	r.msgs = append(r.msgs, sock.Datagram{Data: buf, To: *to, Info: *info})
	return true
}

// flushReplies sends the staged datagrams with sendmmsg and empties the staging. What the kernel
// refuses for now is queued, in order; any other error is kept for ErrorReceived (afterSending)
// and the rest are still sent. It calls no protocol method.
func (t *Transport) flushReplies() {
	r := t.replies
	msgs := r.msgs
	retried := false
	for len(msgs) > 0 {
		n, err := t.send.Send(t.fd, msgs)
		msgs = msgs[n:]
		if n > 0 {
			retried = false
		}
		if err == nil {
			continue
		}
		if !retried && t.queuedErrorMet(err) {
			retried = true // another datagram's error: reported from the queue; try this one again
			continue
		}
		if sock.Temporary(err) {
			for i := range msgs {
				t.queueCopy(msgs[i].Data, &msgs[i].To, &msgs[i].Info, msgs[i].Segment)
			}
			t.setInterest()
			break
		}
		msgs = msgs[1:]
		t.errs = append(t.errs, err)
	}
	t.dropReplies()
}

// dropReplies empties the staging without sending it (Abort).
func (t *Transport) dropReplies() {
	r := t.replies
	clear(r.msgs)
	r.msgs, r.used = r.msgs[:0], 0
}
