package udp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/flow"
	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

// overhead is what each queued datagram counts beyond its bytes, as asyncio 3.13 does.
const overhead = 8

// Errors of the transport's methods. A closed transport's error also matches net.ErrClosed.
var (
	// ErrNotConnected: Send on an endpoint without RemoteAddr.
	ErrNotConnected = errors.New("udp: Send on an endpoint without a remote address; use SendTo")
	// ErrDestination: SendTo a connected endpoint with another address (asyncio's ValueError), or
	// an address of the wrong family.
	ErrDestination = errors.New("udp: invalid destination")
	errClosed      = fmt.Errorf("udp: transport is closing: %w", net.ErrClosed)
)

// TruncatedError reports a datagram larger than the receive buffer: it was dropped, not delivered
// cut. Only Unix datagram sockets can carry one.
type TruncatedError struct {
	From Addr
	Max  int // the receive buffer's size
}

// Error names the sender and the buffer size.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("udp: datagram from %q larger than %d bytes dropped", e.From.String(), e.Max)
}

// Transport is a datagram endpoint (asyncio's DatagramTransport). Its methods are loop-only.
type Transport struct {
	l      *loop.Loop
	fd     int
	reg    loop.Registration
	family int
	local  Addr
	remote Addr
	proto  Protocol
	flow   flow.Control
	recv   *sock.RecvBatch
	send   *sock.SendBatch

	replies  *replies // the loop's; see replies.go
	batching bool     // delivering a received batch: SendTo stages into replies

	queue   []sock.Datagram // what the kernel refused for now; queue[head:] is pending
	head    int
	spare   [][]byte // copies' buffers, for reuse
	size    int      // WriteBufferSize
	closing bool
	lost    bool // ConnectionLost scheduled

	lastRaw  []byte // the last Unix peer's raw path, so that a steady peer costs no allocation
	lastPeer Addr

	backoff time.Duration // see OnWritable: the wait before retrying a full Unix peer
	resting bool          // write interest dropped until the backoff timer
}

// Protocol returns the protocol (asyncio's get_protocol).
func (t *Transport) Protocol() Protocol { return t.proto }

// SetProtocol switches the protocol that receives events (asyncio's set_protocol).
func (t *Transport) SetProtocol(p Protocol) {
	t.proto = p
	t.flow.SetProtocol(p)
}

// LocalAddr returns the bound address (get_extra_info('sockname')).
func (t *Transport) LocalAddr() Addr { return t.local }

// RemoteAddr returns the connected peer, or the zero Addr (get_extra_info('peername')).
func (t *Transport) RemoteAddr() Addr { return t.remote }

// IsClosing reports whether Close or Abort was called (asyncio's is_closing).
func (t *Transport) IsClosing() bool { return t.closing }

// WriteBufferSize returns the bytes queued, each datagram counting 8 more than its length
// (asyncio's get_write_buffer_size).
func (t *Transport) WriteBufferSize() int { return t.size }

// WriteBufferLimits returns the low- and high-water marks (asyncio's get_write_buffer_limits).
func (t *Transport) WriteBufferLimits() (low, high int) { return t.flow.Limits() }

// SetWriteBufferLimits sets the water marks (asyncio's set_write_buffer_limits). A negative value
// is asyncio's None: with both negative, 64 KiB and 16 KiB; with one negative, it is derived from
// the other (high = 4×low, low = high/4). high >= low >= 0 is required. A queue already above the
// new high mark pauses the protocol at once.
func (t *Transport) SetWriteBufferLimits(high, low int) error {
	if err := t.flow.SetLimits(high, low); err != nil {
		return fmt.Errorf("udp: SetWriteBufferLimits: %w", err)
	}
	t.flow.MaybePause(t.size)
	return nil
}

// SendTo sends one datagram to the address to, or, on a connected endpoint, to its peer (to may
// then be the zero Addr or the peer). A zero-length datagram is sent. The data is not kept: what
// the kernel refuses for now is copied into the queue. An OS error goes to ErrorReceived, as in
// asyncio, and SendTo returns nil; it returns an error only for a closing transport (matching
// net.ErrClosed) or a bad destination. asyncio's sendto.
//
// Called while this transport delivers a received batch (from its DatagramReceived, or from
// ErrorReceived for a truncated datagram of the batch), SendTo does not make a syscall at once:
// the datagram is copied aside and the replies to one batch leave together in one sendmmsg when
// the batch has been delivered, before the loop does anything else. An OS error for such a
// datagram reaches ErrorReceived then.
func (t *Transport) SendTo(data []byte, to Addr) error {
	if t.closing {
		return errClosed
	}
	var sa sock.Sockaddr
	switch {
	case t.remote.IsValid():
		if to.IsValid() && to != t.remote {
			return fmt.Errorf("%w: %q on an endpoint connected to %q", ErrDestination, to.String(), t.remote.String())
		}
	case !to.IsValid():
		return fmt.Errorf("%w: no address on an unconnected endpoint", ErrDestination)
	case t.family == syscall.AF_UNIX:
		if !to.unix || !sa.SetPath(to.path) {
			return fmt.Errorf("%w: %q for a Unix datagram endpoint", ErrDestination, to.String())
		}
	default:
		if to.unix || !sa.SetAddrPort(to.ap, t.family) {
			return fmt.Errorf("%w: %q for this endpoint's address family", ErrDestination, to.String())
		}
	}
	if t.head == len(t.queue) {
		if t.batching && t.stage(data, &sa) {
			return nil
		}
		err := sock.SendTo(t.fd, data, &sa)
		if err == nil {
			return nil
		}
		if !sock.Temporary(err) {
			t.proto.ErrorReceived(err)
			return nil
		}
	}
	t.enqueue(data, &sa)
	return nil
}

// Send sends one datagram to the connected peer (asyncio's sendto(data) on an endpoint made with
// remote_addr).
func (t *Transport) Send(data []byte) error {
	if !t.closing && !t.remote.IsValid() {
		return ErrNotConnected
	}
	return t.SendTo(data, Addr{})
}

// enqueue copies a datagram the kernel refused into the queue and watches for writability.
func (t *Transport) enqueue(data []byte, to *sock.Sockaddr) {
	var buf []byte
	if n := len(t.spare); n > 0 && cap(t.spare[n-1]) >= len(data) {
		buf, t.spare = t.spare[n-1][:len(data)], t.spare[:n-1]
	} else {
		buf = make([]byte, len(data))
	}
	copy(buf, data)
	t.queue = append(t.queue, sock.Datagram{Data: buf, To: *to})
	t.size += len(data) + overhead
	t.setInterest()
	t.flow.MaybePause(t.size)
}

// setInterest watches for reading unless closing, and for writing while the queue holds data
// (unless resting: see OnWritable).
func (t *Transport) setInterest() {
	if t.lost {
		return
	}
	var in loop.Interest
	if !t.closing {
		in |= loop.Readable
	}
	if t.head < len(t.queue) && !t.resting {
		in |= loop.Writable
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
			t.OnWritable()
		}
	})
}

// reportFlowPanic reports a panic in PauseWriting or ResumeWriting, as asyncio reports an
// exception from pause_writing.
func (t *Transport) reportFlowPanic(method string, v any) {
	t.l.CallExceptionHandler(loop.Exception{
		Message: "udp: protocol." + method + "() failed", Err: &loop.PanicError{Value: v},
		Panic: v, Transport: t, Protocol: t.proto,
	})
}

// OnReadable reads datagrams in batches and delivers them; loop.Handler. Not for users.
func (t *Transport) OnReadable() {
	for budget := recvBudget; budget > 0 && !t.closing; {
		n, err := t.recv.Recv(t.fd)
		if err != nil {
			if sock.Temporary(err) {
				return
			}
			t.proto.ErrorReceived(err)
			budget--
			continue
		}
		t.batching = true
		for i := 0; i < n && !t.closing; i++ {
			data, from, truncated := t.recv.Msg(i)
			if truncated {
				t.proto.ErrorReceived(&TruncatedError{From: t.peer(from), Max: bufSize})
			} else {
				t.proto.DatagramReceived(data, t.peer(from))
			}
		}
		t.batching = false
		if len(t.replies.msgs) > 0 {
			t.flushReplies()
		}
		if t.closing {
			return
		}
		if n < t.recv.Cap() {
			return // drained
		}
		budget -= n
	}
}

// peer decodes a source address. IP addresses are values; a Unix path becomes a string, made once
// per change of peer.
func (t *Transport) peer(from *sock.Sockaddr) Addr {
	if ap, ok := from.AddrPort(); ok {
		return AddrFromAddrPort(ap)
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

// OnWritable drains the queue with sendmmsg; loop.Handler. Not for users.
//
// An unconnected Unix datagram socket whose peer's queue is full gets EAGAIN while epoll keeps
// calling it writable: Linux wakes only connected senders when a peer drains (unix_dgram_poll).
// Such a transport rests instead of spinning: it stops watching writability and retries after
// 1 ms, doubling to 64 ms while the peer stays full.
func (t *Transport) OnWritable() {
	for t.head < len(t.queue) {
		n, err := t.send.Send(t.fd, t.queue[t.head:])
		t.pop(n)
		if n > 0 {
			t.backoff = 0
		}
		if err != nil {
			if sock.Temporary(err) {
				if n == 0 && t.family == syscall.AF_UNIX && !t.remote.IsValid() {
					t.rest()
					return
				}
				break
			}
			t.pop(1) // that datagram cannot go: report it and carry on with the rest
			t.proto.ErrorReceived(err)
			if t.lost {
				return // the protocol aborted
			}
		}
	}
	if t.head == len(t.queue) {
		t.queue, t.head = t.queue[:0], 0
	}
	t.setInterest()
	t.flow.MaybeResume(t.size)
	if t.closing && t.head == len(t.queue) && !t.lost {
		t.lose(nil)
	}
}

// pop drops n sent datagrams from the head of the queue, keeping their buffers for reuse.
func (t *Transport) pop(n int) {
	for i := range n {
		d := &t.queue[t.head+i]
		t.size -= len(d.Data) + overhead
		if len(t.spare) < batchSize {
			t.spare = append(t.spare, d.Data[:0])
		}
		*d = sock.Datagram{}
	}
	t.head += n
}

// OnPanic closes the transport after a panic in a protocol method, as asyncio's _fatal_error:
// loop.PanicHandler. Not for users.
func (t *Transport) OnPanic(err error) { t.abort(err) }

// Close stops receiving, sends what is queued, then closes the socket and calls ConnectionLost(nil)
// (asyncio's close). A second call does nothing.
func (t *Transport) Close() {
	if t.closing {
		return
	}
	if t.batching {
		t.batching = false
		t.flushReplies() // sent by SendTo before Close: they go first
	}
	t.closing = true
	if t.head == len(t.queue) {
		t.lose(nil)
		return
	}
	t.setInterest() // stop reading; keep draining
}

// Abort closes at once: the queue is dropped, then ConnectionLost(nil) (asyncio's abort).
func (t *Transport) Abort() { t.abort(nil) }

func (t *Transport) abort(err error) {
	t.closing = true
	if t.batching {
		t.batching = false
		t.dropReplies()
	}
	if t.lost {
		return
	}
	t.size = 0
	clear(t.queue)
	t.queue, t.head = t.queue[:0], 0
	t.lose(err)
}

// lose stops watching the socket, closes it, and schedules ConnectionLost. asyncio closes the
// socket after connection_lost; closing it first means a loop stopped and closed before that
// callback runs still leaks no descriptor.
func (t *Transport) lose(err error) {
	t.lost = true
	t.reg.Unregister()
	sock.Close(t.fd)
	t.fd = -1
	t.l.CallSoon(func() { t.proto.ConnectionLost(err) })
}

// SyscallConn gives raw access to the socket (asyncio's get_extra_info('socket')): Control runs a
// function with the descriptor; Read and Write are refused, since the loop owns readiness. Do not
// close the descriptor. Loop-only.
func (t *Transport) SyscallConn() (syscall.RawConn, error) {
	if t.fd < 0 {
		return nil, errClosed
	}
	return sock.NewRawConn(&t.fd, errClosed), nil
}
