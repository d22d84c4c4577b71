package udp

import "github.com/aioloop/aioloop/internal/sock"

// replies gathers what a transport sends while it delivers a batch of received datagrams, so that
// the answers to a recvmmsg batch leave in one sendmmsg instead of one sendto each. It belongs to
// the loop (one transport delivers at a time) and is empty between batches: OnReadable flushes it
// after each batch, and Close before it closes. The bytes are copied into arena, so a protocol may
// reuse its buffer as soon as SendTo returns.
type replies struct {
	msgs  []sock.Datagram
	arena []byte // msgs' bytes, back to back
	used  int
}

// stage keeps a datagram of t's for the flush, making room by flushing when the batch is full. It
// returns false when the datagram is larger than the arena: the caller sends it alone.
func (t *Transport) stage(data []byte, to *sock.Sockaddr) bool {
	r := t.replies
	if len(data) > len(r.arena) {
		t.flushReplies()
		return false
	}
	if len(r.msgs) == cap(r.msgs) || len(data) > len(r.arena)-r.used {
		t.flushReplies()
	}
	buf := r.arena[r.used : r.used+len(data) : r.used+len(data)]
	copy(buf, data)
	r.used += len(data)
	r.msgs = append(r.msgs, sock.Datagram{Data: buf, To: *to})
	return true
}

// flushReplies sends the staged datagrams with sendmmsg. What the kernel refuses for now is queued
// as SendTo queues it; any other error goes to ErrorReceived for that datagram, and the rest are
// still sent.
func (t *Transport) flushReplies() {
	r := t.replies
	msgs := r.msgs
	for len(msgs) > 0 && !t.lost {
		n, err := t.send.Send(t.fd, msgs)
		msgs = msgs[n:]
		if err == nil {
			continue
		}
		if sock.Temporary(err) {
			for i := range msgs {
				t.enqueue(msgs[i].Data, &msgs[i].To)
			}
			break
		}
		msgs = msgs[1:]
		t.proto.ErrorReceived(err)
	}
	t.dropReplies()
}

// dropReplies empties the batch without sending it (Abort).
func (t *Transport) dropReplies() {
	r := t.replies
	clear(r.msgs)
	r.msgs, r.used = r.msgs[:0], 0
}
