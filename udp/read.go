package udp

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"syscall"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

// pending is a datagram read from the socket but not yet delivered: PauseReading came mid-batch.
type pending struct {
	data      []byte // a copy
	from      Addr
	truncated bool
	info      *RecvInfo // a copy, for an InfoReceiver
}

// IsReading reports whether the transport delivers datagrams: not paused and not closing
// (asyncio's is_reading).
func (t *Transport) IsReading() bool { return t.reading && !t.closing }

// PauseReading stops DatagramReceived until ResumeReading (asyncio's pause_reading): the socket is
// no longer read, so datagrams wait in the kernel's receive buffer and, once it is full, the kernel
// drops new ones. Called from DatagramReceived, it takes effect at once: the rest of the batch
// already read is kept (copied) and delivered first after ResumeReading. Idempotent. Loop-only.
func (t *Transport) PauseReading() {
	if t.closing || !t.reading {
		return
	}
	t.reading = false
	t.setInterest()
}

// ResumeReading delivers again after PauseReading (asyncio's resume_reading): what was held is
// delivered in the next loop iteration, in order, then the socket is read again. Idempotent.
// Loop-only.
func (t *Transport) ResumeReading() {
	if t.closing || t.reading {
		return
	}
	t.reading = true
	if len(t.held) > 0 {
		t.l.CallSoon(t.deliverHeld)
		return
	}
	t.setInterest()
}

// onReadable reads datagrams in batches and delivers them.
func (t *Transport) onReadable() {
	if t.errq != nil {
		t.drainErrQueue() // first: a queue left full keeps EPOLLERR up, and the loop would spin
	}
	for budget := recvBudget; budget > 0 && t.reading && !t.closing && len(t.held) == 0; {
		n, err := t.recv.Recv(t.fd)
		if err != nil {
			if sock.Temporary(err) {
				return
			}
			if !t.queuedErrorMet(err) { // else reported from the queue, with its destination
				t.callErrorReceived(err)
			}
			budget--
			continue
		}
		t.batching = true
		t.segOff, t.delivered = 0, 0
		i := 0
		for i < n && t.reading && !t.closing {
			i = t.deliver(i, n)
		}
		if i < n && !t.closing {
			t.hold(i, n) // paused mid-batch
		}
		t.batching = false
		if len(t.replies.msgs) > 0 {
			t.flushReplies()
		}
		t.afterSending()
		if n < t.recv.Cap() {
			return // drained
		}
		budget -= max(n, t.delivered) // GRO segments count one each
	}
}

// deliver hands datagrams [i, n) of the batch to the protocol until one panics, the transport
// closes or reading pauses, and returns the index of the next one. A panic is reported and the
// endpoint stays open (asyncio's _read_ready lets it reach the loop's exception handler): one bad
// datagram does not take a server down. One deferred recover for the whole batch.
func (t *Transport) deliver(i, n int) (next int) {
	defer func() {
		if v := recover(); v != nil {
			t.reportPanic("DatagramReceived", v)
		}
	}()
	for next = i; next < n && t.reading && !t.closing; {
		data, from, truncated := t.recv.Msg(next)
		seg := 0
		if t.off.GRO && !truncated {
			seg = t.segments(next)
		}
		if seg > 0 && len(data) > seg {
			t.deliverSegments(next, data, seg, from)
			if t.segOff >= len(data) {
				t.segOff = 0
				next++
			}
			continue
		}
		slot := next
		next++
		t.delivered++
		switch {
		case truncated:
			t.callErrorReceived(&TruncatedError{From: t.peer(from), Max: bufSize})
		case t.info != nil:
			t.deliverInfo(slot, data, t.peer(from))
		default:
			t.proto.DatagramReceived(data, t.peer(from))
		}
	}
	return next
}

// deliverSegments delivers the GRO buffer of slot from t.segOff on, one datagram per segment of
// seg bytes (the last possibly shorter), until it is done, reading pauses or the transport
// closes. The source and information are decoded once for the buffer: one flow, one source.
func (t *Transport) deliverSegments(slot int, data []byte, seg int, from *sock.Sockaddr) {
	if t.segOff == 0 {
		t.off.GROBuffers++
	}
	peer := t.peer(from)
	var ri RecvInfo
	if t.info != nil {
		ctrl, cut := t.recv.Control(slot)
		t.fillInfo(ctrl, cut)
		ri = *t.rinfo
	}
	for t.segOff < len(data) && t.reading && !t.closing {
		piece := data[t.segOff:min(t.segOff+seg, len(data))]
		t.segOff += seg // before the call: a panic resumes at the next segment
		t.delivered++
		if t.info != nil {
			*t.rinfo = ri // what the previous call may have changed
			t.info.DatagramReceivedInfo(piece, peer, t.rinfo)
		} else {
			t.proto.DatagramReceived(piece, peer)
		}
	}
}

// hold copies datagrams [i, n) of the batch aside for ResumeReading: from slot i what its GRO
// segments not yet delivered, then every datagram (each GRO segment on its own) of the rest.
func (t *Transport) hold(i, n int) {
	for start := t.segOff; i < n; i, start = i+1, 0 {
		data, from, truncated := t.recv.Msg(i)
		var info *RecvInfo
		if t.info != nil {
			ctrl, cut := t.recv.Control(i)
			t.fillInfo(ctrl, cut)
			info = new(RecvInfo)
			*info = *t.rinfo
		}
		if seg := t.segments(i); seg > 0 && len(data) > seg && !truncated {
			for off := start; off < len(data); off += seg {
				piece := data[off:min(off+seg, len(data))]
				t.held = append(t.held, pending{data: bytes.Clone(piece), from: t.peer(from), info: info})
			}
			continue
		}
		t.held = append(t.held, pending{data: bytes.Clone(data), from: t.peer(from), truncated: truncated, info: info})
	}
	t.segOff = 0
	t.setInterest()
}

// deliverHeld delivers what hold kept, then reads the socket again.
func (t *Transport) deliverHeld() {
	for len(t.held) > 0 && t.reading && !t.closing {
		d := t.held[0]
		t.held = t.held[1:]
		t.deliverOne(d)
	}
	if len(t.held) == 0 {
		t.held = nil
		t.setInterest()
	}
}

func (t *Transport) deliverOne(d pending) {
	if d.truncated {
		t.callErrorReceived(&TruncatedError{From: d.from, Max: bufSize})
		return
	}
	defer func() {
		if v := recover(); v != nil {
			t.reportPanic("DatagramReceived", v)
		}
	}()
	if t.info != nil {
		if d.info == nil { // held before the protocol took information
			ri := RecvInfo{TTL: -1}
			d.info = &ri
		}
		t.info.DatagramReceivedInfo(d.data, d.from, d.info)
		return
	}
	t.proto.DatagramReceived(d.data, d.from)
}

// reportPanic hands a panic in a protocol method to the loop's exception handler.
func (t *Transport) reportPanic(method string, v any) {
	stack := debug.Stack()
	t.l.CallExceptionHandler(loop.Exception{
		Message: "udp: panic in protocol." + method + "()", Err: &loop.PanicError{Value: v, Stack: stack},
		Panic: v, Stack: stack, Callback: fmt.Sprintf("%T.%s", t.proto, method), Transport: t, Protocol: t.proto,
	})
}

// peer decodes a source address. IP addresses are values; a Unix path becomes a string, made once
// per change of peer. A Unix sender that never bound (unnamed) has an empty address.
func (t *Transport) peer(from *sock.Sockaddr) Addr {
	if ap, ok := from.AddrPort(t.zones); ok {
		return AddrFromAddrPort(ap)
	}
	if t.family == syscall.AF_UNIX && from.Len() == 0 {
		return UnixAddr("")
	}
	raw, ok := from.Path()
	if !ok {
		return t.remote // a connected socket may report no source
	}
	if t.lastPeer.unix && bytes.Equal(raw, t.lastRaw) {
		return t.lastPeer
	}
	t.lastRaw = append(t.lastRaw[:0], raw...)
	path := string(raw)
	if len(raw) > 0 && raw[0] == 0 {
		path = "@" + path[1:]
	}
	t.lastPeer = UnixAddr(path)
	return t.lastPeer
}
