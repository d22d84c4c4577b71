package udp

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/flow"
	"github.com/aioloop/aioloop/internal/reactor"
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
	// ErrWriteBufferFull: a datagram would have taken the queue above its cap
	// (SetWriteBufferMax) and was dropped. The error itself is a *WriteBufferFullError. The same
	// value as unixstream.ErrWriteBufferFull.
	ErrWriteBufferFull = flow.ErrFull
	errClosed          = fmt.Errorf("udp: transport is closing: %w", net.ErrClosed)
)

// WriteBufferFullError says how full a send would have made the queue, and its cap.
type WriteBufferFullError = flow.FullError

// DefaultWriteBufferMax is the queue's hard cap unless SetWriteBufferMax sets another: 16 MiB,
// 256 times the default high-water mark, so that a protocol that stops at PauseWriting never
// comes near it.
const DefaultWriteBufferMax = flow.DefaultMax

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
//
// Its states, in order: open; closing (Close or Abort called: no more DatagramReceived, the queue
// drains after Close); lost (the socket is closed and ConnectionLost is scheduled); gone
// (ConnectionLost has run: no protocol method is called again). A transport whose creation failed
// is lost and gone at once.
type Transport struct {
	l         *loop.Loop
	fd        int
	reg       reactor.Registration // nil until start registers
	family    int
	v6only    bool                       // an IPv6 socket that cannot send to IPv4 (IPV6_V6ONLY on): SendTo refuses IPv4 destinations
	one       *[1]sock.Datagram          // the loop's scratch slot for sendNow
	info      InfoReceiver               // the protocol, when it takes per-datagram information; checked once
	rinfo     *RecvInfo                  // the loop's: what the info receiver is handed
	sinfo     *sock.RecvInfo             // the loop's: what the control messages are parsed into
	recvInfo  Info                       // Options.ReceiveInfo
	errq      *sock.ErrQueue             // the loop's error-queue reader, when Options.ICMPErrors
	qerr      *sock.QueuedError          // the loop's: what it reads into
	wantErrq  bool                       // Options.ICMPErrors, until start
	off       OffloadState               // GRO and GSO: on, and why not
	segOff    int                        // the offset of the next GRO segment to deliver in the batch's current slot
	delivered int                        // datagrams delivered from the batch, GRO segments counted one each
	noGSO     map[sock.Sockaddr]struct{} // destinations where GSO failed: plain sends there for good
	local     Addr
	remote    Addr          // the connected peer (peername)
	dest      Addr          // where Send goes: remote, or RemoteAddr of an unconnected broadcast endpoint
	destSA    sock.Sockaddr // dest encoded, when the socket is not connected to it
	proto     Protocol
	flow      flow.Control
	recv      *sock.RecvBatch
	send      *sock.SendBatch

	replies  *replies    // the loop's; see replies.go
	zones    *sock.Zones // the loop's IPv6 zone names
	batching bool        // delivering a received batch: SendTo stages into replies

	reading bool      // not paused by PauseReading
	held    []pending // datagrams read before a PauseReading took effect; see read.go

	queue   []sock.Datagram // what the kernel refused for now; queue[head:] is pending
	head    int
	spare   [][]byte // copies' buffers, for reuse
	size    int      // WriteBufferSize
	closing bool
	lost    bool           // socket closed, ConnectionLost scheduled
	gone    bool           // ConnectionLost ran (or the creation failed): the protocol hears nothing more
	lostErr error          // what ConnectionLost gets
	member  reactor.Member // in the loop's resources, which Close and Shutdown close

	errs  []error // send errors waiting for the end of a batch or a flush; see errors.go
	inErr bool    // ErrorReceived is running

	lastRaw  []byte // the last Unix peer's raw path, so that a steady peer costs no allocation
	lastPeer Addr

	backoff time.Duration // see onWritable: the wait before retrying a full Unix peer
	resting bool          // write interest dropped until the backoff timer
}

// handler is the Transport as the loop's fd handler, so that OnReadable and OnWritable are not
// part of the Transport's public methods.
type handler Transport

func (h *handler) OnReadable()       { (*Transport)(h).onReadable() }
func (h *handler) OnWritable()       { (*Transport)(h).onWritable() }
func (h *handler) OnPanic(err error) { (*Transport)(h).abort(err) } // a bug in this package, not the protocol's
func (h *handler) Owner() any        { return (*Transport)(h) }     // what exception reports name

// The handler is also the transport as one of the loop's resources (internal/reactor), which
// Loop.Shutdown and Loop.Close close.
func (h *handler) Shutdown()          { (*Transport)(h).Close() }
func (h *handler) Abort(err error)    { (*Transport)(h).abort(err) }
func (h *handler) CloseNow(err error) { (*Transport)(h).closeNow(err) }

// Protocol returns the protocol (asyncio's get_protocol).
func (t *Transport) Protocol() Protocol { return t.proto }

// SetProtocol switches the protocol that receives events (asyncio's set_protocol).
func (t *Transport) SetProtocol(p Protocol) {
	t.proto = p
	t.info, _ = p.(InfoReceiver)
	t.flow.SetProtocol(p)
}

// LocalAddr returns the bound address (get_extra_info('sockname')).
func (t *Transport) LocalAddr() Addr { return t.local }

// RemoteAddr returns the connected peer, or the zero Addr (get_extra_info('peername')). An
// endpoint made with AllowBroadcast and RemoteAddr is not connected (as in asyncio): its
// RemoteAddr is the zero Addr, and Send still goes to Options.RemoteAddr.
func (t *Transport) RemoteAddr() Addr { return t.remote }

// IsClosing reports whether Close or Abort was called, or the creation failed (asyncio's
// is_closing).
func (t *Transport) IsClosing() bool { return t.closing }

// WriteBufferSize returns the bytes queued, each datagram counting 8 more than its length
// (asyncio's get_write_buffer_size).
func (t *Transport) WriteBufferSize() int { return t.size }

// WriteBufferLimits returns the low- and high-water marks (asyncio's get_write_buffer_limits).
func (t *Transport) WriteBufferLimits() (low, high int) { return t.flow.Limits() }

// WriteBufferMax returns the queue's hard cap in bytes (math.MaxInt: none); beyond asyncio.
// Loop-only.
func (t *Transport) WriteBufferMax() int { return t.flow.Max() }

// SetWriteBufferMax sets the queue's hard cap, counted as WriteBufferSize counts: max bytes, 0
// for the default (DefaultWriteBufferMax, 16 MiB), a negative max for none (asyncio's queue, which
// grows while the protocol ignores PauseWriting). A datagram that would take the queue above it is
// dropped and the endpoint stays open (one slow destination must not end a server's endpoint):
// SendTo, SendToInfo and SendSegments return a *WriteBufferFullError (matching
// ErrWriteBufferFull), and a staged reply that meets the cap is reported to ErrorReceived the same
// way after its batch. The cap applies to later sends; what is queued stays. Loop-only; beyond
// asyncio.
func (t *Transport) SetWriteBufferMax(max int) { t.flow.SetMax(max) }

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

// SendTo sends one datagram to the address to, or, on an endpoint made with RemoteAddr, to that
// address (to may then be the zero Addr or that address). A zero-length datagram is sent. The data
// is not kept: what the kernel refuses for now is copied into the queue. An OS error goes to
// ErrorReceived, as in asyncio, and SendTo returns nil; it returns an error only for a closing
// transport (matching net.ErrClosed), a bad destination, or a queue that the datagram would take
// above its cap (a *WriteBufferFullError: see SetWriteBufferMax). asyncio's sendto.
//
// Called while this transport delivers a received batch (from its DatagramReceived, or from
// ErrorReceived for a truncated datagram of the batch), SendTo does not make a syscall at once:
// the datagram is copied aside, and the replies leave in sendmmsg calls of up to 64 datagrams (or
// 64 KiB), the last of them when the batch has been delivered, before the loop does anything
// else. An OS error for such a datagram reaches ErrorReceived after the batch.
//
// Called from ErrorReceived, a send that fails again is reported in the next loop iteration, not
// from inside that ErrorReceived: a protocol that answers every error cannot recurse without bound.
func (t *Transport) SendTo(data []byte, to Addr) error { return t.sendTo(data, to, &noInfo) }

// noInfo is the SendInfo of a plain send: none.
var noInfo sock.SendInfo

// sendTo is SendTo with per-datagram information (SendToInfo), which travels with the datagram
// through staging and the queue.
func (t *Transport) sendTo(data []byte, to Addr, info *sock.SendInfo) error {
	if t.closing {
		return errClosed
	}
	var sa sock.Sockaddr
	if err := t.encodeDest(&sa, to); err != nil {
		return err
	}
	if t.head == len(t.queue) && t.batching && t.stage(data, &sa, info) {
		return nil
	}
	if t.head == len(t.queue) { // still empty: a staging flush may have queued what the kernel refused
		err := t.sendNow(data, &sa, info, 0)
		if err != nil && t.queuedErrorMet(err) {
			err = t.sendNow(data, &sa, info, 0) // that error was another datagram's
		}
		if err == nil {
			return nil
		}
		if !sock.Temporary(err) {
			t.sendFailed(err)
			return nil
		}
	}
	return t.enqueue(data, &sa, info, 0)
}

// encodeDest checks a send's destination and encodes it into sa (left empty for a connected
// endpoint's peer).
func (t *Transport) encodeDest(sa *sock.Sockaddr, to Addr) error {
	switch {
	case t.dest.IsValid():
		if to.IsValid() && to != t.dest {
			return fmt.Errorf("%w: %q on an endpoint whose remote address is %q", ErrDestination, to.String(), t.dest.String())
		}
		if !t.remote.IsValid() {
			*sa = t.destSA
		}
	case !to.IsValid():
		return fmt.Errorf("%w: no address on an unconnected endpoint", ErrDestination)
	case t.family == syscall.AF_UNIX:
		if !to.unix || !sa.SetPath(to.path) {
			return fmt.Errorf("%w: %q for a Unix datagram endpoint", ErrDestination, to.String())
		}
	default:
		if to.unix || !sa.SetAddrPort(to.ap, t.family, t.zones) {
			return fmt.Errorf("%w: %q for this endpoint's address family", ErrDestination, to.String())
		}
		if t.v6only && to.ap.Addr().Unmap().Is4() {
			return fmt.Errorf("%w: %q is IPv4 and this endpoint's socket is IPv6 only", ErrDestination, to.String())
		}
	}
	return nil
}

// sendNow sends one datagram at once: sendto, or, with information to attach, a one-datagram
// sendmmsg through the batch, whose slots have control buffers.
func (t *Transport) sendNow(data []byte, sa *sock.Sockaddr, info *sock.SendInfo, segment int) error {
	if info.IsZero() && segment == 0 {
		return sock.SendTo(t.fd, data, sa)
	}
	one := &t.one[0]
	*one = sock.Datagram{Data: data, To: *sa, Info: *info, Segment: segment}
	_, err := t.send.Send(t.fd, t.one[:])
	*one = sock.Datagram{}
	return err
}

// Send sends one datagram to Options.RemoteAddr (asyncio's sendto(data) on an endpoint made with
// remote_addr).
func (t *Transport) Send(data []byte) error {
	if !t.closing && !t.dest.IsValid() {
		return ErrNotConnected
	}
	return t.SendTo(data, Addr{})
}

// Close stops receiving, sends what is queued (replies staged by SendTo included), then closes the
// socket and calls ConnectionLost(nil) (asyncio's close). Datagrams held by PauseReading are
// dropped. A second call does nothing.
func (t *Transport) Close() {
	if t.closing {
		return
	}
	t.closing = true
	t.held = nil
	if t.batching {
		t.flushReplies() // accepted by SendTo before Close: they go first; errors wait for the batch's end
	}
	if t.head == len(t.queue) {
		t.lose(nil)
		return
	}
	t.setInterest() // stop reading; keep draining
}

// Abort closes at once: the queue and any staged replies are dropped, then ConnectionLost(nil)
// (asyncio's abort).
func (t *Transport) Abort() { t.abort(nil) }

func (t *Transport) abort(err error) {
	if t.drop() {
		t.lose(err)
	}
}

// drop marks the transport closing and drops what it holds (held datagrams, staged replies, the
// queue); it reports whether the socket is still open.
func (t *Transport) drop() bool {
	t.closing, t.held = true, nil
	if t.batching {
		t.dropReplies()
	}
	if t.lost {
		return false
	}
	t.size = 0
	clear(t.queue)
	t.queue, t.head = t.queue[:0], 0
	return true
}

// lose closes the socket and schedules ConnectionLost, once. asyncio closes the socket after
// connection_lost; closing it first means a loop stopped before that callback runs leaks no
// descriptor.
func (t *Transport) lose(err error) {
	if t.release(err) {
		t.l.CallSoon(t.connectionLost)
	}
}

// release stops watching the socket and closes it, once, keeping err for ConnectionLost; it
// reports whether it did.
func (t *Transport) release(err error) bool {
	if t.lost {
		return false
	}
	t.lost, t.closing, t.lostErr = true, true, err
	t.reg.Unregister()
	sock.Close(t.fd)
	t.fd = -1
	return true
}

// connectionLost calls ConnectionLost once, and lets the loop forget the transport.
func (t *Transport) connectionLost() {
	if t.gone {
		return
	}
	t.gone = true
	t.untrack()
	defer func() {
		if v := recover(); v != nil { // reported with the transport named; the socket is closed already
			t.reportPanic("ConnectionLost", v)
		}
	}()
	t.proto.ConnectionLost(t.lostErr)
}

func (t *Transport) untrack() { t.member.Leave(t.l, (*handler)(t)) }

// closeNow closes at once and runs ConnectionLost before it returns, with err unless the transport
// was already lost: Loop.Close, which runs no more callbacks, on its caller's goroutine.
func (t *Transport) closeNow(err error) {
	if t.drop() {
		t.release(err)
	}
	t.connectionLost()
}

// kill ends a transport whose creation failed: no ConnectionLost (the creation's error says why),
// and its descriptor number, which may be reused at once, is forgotten.
func (t *Transport) kill() {
	t.closing = true
	if t.lost {
		return // the protocol closed it in ConnectionMade: ConnectionLost is already scheduled
	}
	t.lost, t.gone = true, true
	t.untrack()
	if t.reg != nil {
		t.reg.Unregister()
	}
	if t.fd >= 0 {
		sock.Close(t.fd)
		t.fd = -1
	}
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
