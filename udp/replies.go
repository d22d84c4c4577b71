package udp

import "github.com/aioloop/aioloop/internal/sock"

// replies gathers what a transport sends while it delivers a batch of received datagrams, so that
// the answers to a recvmmsg batch leave in one sendmmsg instead of one sendto each. It belongs to
// the loop (one transport delivers at a time) and is empty between batches: onReadable flushes it
// after each batch, and Close before it closes. The bytes are copied into arena, so a protocol may
// reuse its buffer as soon as SendTo returns.
type replies struct {
	msgs  []sock.Datagram
	offs  []int  // where each of msgs' bytes start in arena
	arena []byte // msgs' bytes, back to back
	used  int
	runs  []sock.Datagram // msgs with GSO runs merged, for one flush
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
	r.offs = append(r.offs, r.used)
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
	if t.off.GSO && len(msgs) > 1 {
		msgs = t.mergeRuns()
	}
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
		if m := &msgs[0]; m.Segment > 0 && gsoFailure(err) {
			t.noGSOFor(&m.To)
			msgs = splitRun(msgs) // the same datagrams again, one send each
			continue
		}
		if sock.Temporary(err) {
			for i := range msgs {
				if err := t.flow.Check("udp", t.size, len(msgs[i].Data)+overhead); err != nil {
					t.errs = append(t.errs, err) // accepted, and dropped: ErrorReceived says so
					continue
				}
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
	clear(r.runs)
	r.msgs, r.offs, r.runs, r.used = r.msgs[:0], r.offs[:0], r.runs[:0], 0
}

// mergeRuns merges the staged replies that can leave as one GSO send: consecutive datagrams to one
// destination with the same information, all of one size but a last that may be shorter (what
// answering a burst of one peer gives). Their bytes are already back to back in the arena.
func (t *Transport) mergeRuns() []sock.Datagram {
	r := t.replies
	msgs := r.msgs
	for i := 0; i < len(msgs); {
		first := &msgs[i]
		size := len(first.Data)
		j := i + 1
		if size > 0 && !t.gsoFailed(&first.To) {
			total := size
			for j < len(msgs) && j-i < sock.MaxSegments && msgs[j].To == first.To && msgs[j].Info == first.Info &&
				len(msgs[j].Data) > 0 && len(msgs[j].Data) <= size && total+len(msgs[j].Data) <= maxUDPPayload {
				total += len(msgs[j].Data)
				j++
				if len(msgs[j-1].Data) < size {
					break // a shorter datagram ends a run
				}
			}
		}
		if j-i < 2 {
			r.runs = append(r.runs, *first)
			i++
			continue
		}
		end := r.offs[j-1] + len(msgs[j-1].Data)
		r.runs = append(r.runs, sock.Datagram{Data: r.arena[r.offs[i]:end:end], To: first.To, Info: first.Info, Segment: size})
		i = j
	}
	return r.runs
}

// maxUDPPayload is the most one UDP send carries over IPv4 (IPv6 takes 20 bytes more).
const maxUDPPayload = 65507

// splitRun replaces the GSO run at the head of msgs by its datagrams.
func splitRun(msgs []sock.Datagram) []sock.Datagram {
	d := msgs[0]
	var out []sock.Datagram
	for off := 0; off < len(d.Data); off += d.Segment {
		out = append(out, sock.Datagram{Data: d.Data[off:min(off+d.Segment, len(d.Data))], To: d.To, Info: d.Info})
	}
	return append(out, msgs[1:]...)
}
