package unixstream

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"syscall"

	"github.com/aioloop/aioloop/internal/flow"
	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

const (
	readSize   = 64 * 1024 // the loop's shared read buffer
	readBudget = 4         // reads per readiness event
	iovecs     = 64        // buffers per writev
)

var (
	errClosed = fmt.Errorf("unixstream: transport is closing: %w", net.ErrClosed)
	// ErrEOFWritten: Write after WriteEOF.
	ErrEOFWritten = errors.New("unixstream: write after WriteEOF")
	// ErrWriteBufferFull: a write would have taken the write buffer above its cap
	// (SetWriteBufferMax), which ended the connection. The error itself is a
	// *WriteBufferFullError. The same value as udp.ErrWriteBufferFull.
	ErrWriteBufferFull = flow.ErrFull
)

// WriteBufferFullError says how full a write would have made the buffer, and its cap.
type WriteBufferFullError = flow.FullError

// DefaultWriteBufferMax is the write buffer's hard cap unless SetWriteBufferMax sets another: 16
// MiB, 256 times the default high-water mark, so that a protocol that stops at PauseWriting never
// comes near it and a single large write still fits; a server's bound is its connections times
// the cap, so one with many connections should lower it.
const DefaultWriteBufferMax = flow.DefaultMax

// loopState is what every stream transport of one loop shares; one of them runs at a time.
type loopState struct {
	rbuf   []byte
	w      *sock.Writer
	gather []byte // TLS Writev's plaintext, made on first use
}

type loopStateKey struct{}

func stateOf(l *loop.Loop) *loopState {
	return reactor.Of(l).Local(loopStateKey{}, func() any {
		return &loopState{rbuf: make([]byte, readSize), w: sock.NewWriter(iovecs)}
	}).(*loopState)
}

// Transport is a Unix stream connection (asyncio's Transport). Its methods are loop-only.
type Transport struct {
	l        *loop.Loop
	fd       int
	reg      reactor.Registration // nil until start registers
	st       *loopState
	proto    BaseProtocol
	data     Protocol         // set for a Protocol
	buffered BufferedProtocol // set for a BufferedProtocol
	flow     flow.Control
	server   *Server // the server that accepted it, if any

	local, remote string

	out      []byte // what the kernel did not take yet: out[head:]
	head     int
	reading  bool // not paused by PauseReading
	eof      bool // EOF received and the connection kept half-open
	eofAsked bool // WriteEOF called
	eofSent  bool // and the write side shut down
	closing  bool
	lost     bool           // socket closed, ConnectionLost scheduled
	gone     bool           // ConnectionLost ran, or the start failed
	lostErr  error          // what ConnectionLost gets
	member   reactor.Member // in the loop's resources, which Close and Shutdown close
	tls      *tlsState      // nil without TLS
}

func newTransport(l *loop.Loop, fd int) *Transport {
	t := &Transport{l: l, fd: fd, reading: true}
	t.flow.Init(t.reportFlowPanic)
	return t
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

// start registers the socket, makes the protocol and calls ConnectionMade; loop goroutine. On any
// failure (a panic in the factory or ConnectionMade included) the socket is closed here and the
// transport is dead (kill): a protocol that kept it cannot reach a descriptor number reused since.
func (t *Transport) start(factory func() BaseProtocol) (BaseProtocol, error) {
	if err := t.open(reactor.Readable); err != nil {
		t.kill()
		return nil, err
	}
	return t.make(factory)
}

// open learns the addresses, joins the loop's resources and registers the socket with interest in;
// loop goroutine. On failure the caller kills the transport.
func (t *Transport) open(in reactor.Interest) (err error) {
	t.st = stateOf(t.l)
	_, t.local, _ = sock.LocalAddr(t.fd)
	if _, path, ok := sock.PeerAddr(t.fd); ok {
		t.remote = path
	}
	if err = t.member.Join(t.l, (*handler)(t)); err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	if t.reg, err = reactor.Of(t.l).Register(t.fd, (*handler)(t), in); err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	return nil
}

// make runs the factory and ConnectionMade on an open transport; a failure (a panic included)
// kills it.
func (t *Transport) make(factory func() BaseProtocol) (p BaseProtocol, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("unixstream: protocol factory or ConnectionMade: %w", &loop.PanicError{Value: v, Stack: debug.Stack()})
		}
		if err != nil {
			t.kill()
		}
	}()
	p = factory()
	if p == nil {
		return nil, errors.New("unixstream: protocol factory returned nil")
	}
	if err := t.SetProtocol(p); err != nil {
		return nil, err
	}
	p.ConnectionMade(t)
	return p, nil
}

// kill ends a transport whose start failed: no ConnectionLost (the creation's error says why), the
// descriptor closed and forgotten, the server's count of connections let go.
func (t *Transport) kill() {
	t.closing = true
	if t.lost {
		return // the protocol closed it in ConnectionMade: ConnectionLost is already scheduled
	}
	t.lost, t.gone = true, true
	t.out, t.head = nil, 0
	if t.tls != nil {
		t.tls.stop(errHandshakeClosed)
	}
	t.untrack()
	if t.reg != nil {
		t.reg.Unregister()
	}
	if t.fd >= 0 {
		sock.Close(t.fd)
		t.fd = -1
	}
	if t.server != nil {
		t.server.detach(t)
	}
}

// Protocol returns the protocol (asyncio's get_protocol).
func (t *Transport) Protocol() BaseProtocol { return t.proto }

// SetProtocol switches the protocol (asyncio's set_protocol). It must implement Protocol or
// BufferedProtocol.
func (t *Transport) SetProtocol(p BaseProtocol) error {
	data, isData := p.(Protocol)
	buffered, isBuffered := p.(BufferedProtocol)
	if !isData && !isBuffered {
		return fmt.Errorf("unixstream: protocol %T implements neither DataReceived nor GetBuffer and BufferUpdated", p)
	}
	t.proto, t.data, t.buffered = p, nil, nil
	if isBuffered {
		t.buffered = buffered // asyncio prefers the buffered interface when both are there
	} else {
		t.data = data
	}
	t.flow.SetProtocol(p)
	return nil
}

// LocalAddr is the socket's path ("" when unnamed, "@name" when abstract).
func (t *Transport) LocalAddr() string { return t.local }

// RemoteAddr is the peer's path ("" when unnamed, as a client that did not bind is).
func (t *Transport) RemoteAddr() string { return t.remote }

// PeerCredentials returns the peer process's ids as of connect time (SO_PEERCRED on Linux,
// LOCAL_PEERCRED on darwin and freebsd; beyond asyncio), so a server can decide who may talk to it.
func (t *Transport) PeerCredentials() (Credentials, error) {
	if t.fd < 0 {
		return Credentials{}, errClosed
	}
	c, err := sock.PeerCredentials(t.fd)
	return Credentials{PID: c.PID, UID: c.UID, GID: c.GID}, err
}

// Credentials are a peer's process, user and group ids (PID is 0 where the system does not say).
type Credentials struct {
	PID int    // the peer's process id; 0 where the system does not say (the BSDs, macOS)
	UID uint32 // its effective user id
	GID uint32 // its effective group id
}

// IsClosing reports whether Close or Abort was called or the connection was lost (is_closing).
func (t *Transport) IsClosing() bool { return t.closing }

// IsReading reports whether the transport reads: not paused and not closing (is_reading).
func (t *Transport) IsReading() bool { return t.reading && !t.closing }

// PauseReading stops reading until ResumeReading (pause_reading). Idempotent.
func (t *Transport) PauseReading() {
	if t.closing || !t.reading {
		return
	}
	t.reading = false
	t.setInterest()
}

// ResumeReading reads again after PauseReading (resume_reading). Idempotent.
func (t *Transport) ResumeReading() {
	if t.closing || t.reading {
		return
	}
	t.reading = true
	t.setInterest()
	if t.tls != nil && !t.tls.handshaking {
		t.queueDrain() // crypto/tls may hold decrypted bytes that epoll cannot see
	}
}

// setInterest watches for reading while reading is wanted, and for writing while data waits.
func (t *Transport) setInterest() {
	if t.lost {
		return
	}
	var in reactor.Interest
	if t.reading && !t.closing && !t.eof {
		in |= reactor.Readable
	}
	if t.head < len(t.out) {
		in |= reactor.Writable
	}
	if ts := t.tls; ts != nil {
		switch {
		case ts.handshaking && ts.flushFirst:
			in &= reactor.Writable // StartTLS: the plaintext goes out, nothing is read
		case ts.handshaking:
			in = 0 // the handshake goroutine does the socket's I/O
		case ts.shutdown && !ts.peerDone:
			in |= reactor.Readable // waiting for the peer's close_notify
		}
	}
	t.reg.SetInterest(in)
}

// WriteBufferSize returns the bytes waiting to be written (get_write_buffer_size). With TLS it
// counts the records waiting, and plaintext written during a StartTLS handshake, as asyncio counts
// both.
func (t *Transport) WriteBufferSize() int {
	n := len(t.out) - t.head
	if t.tls != nil {
		n += len(t.tls.pending)
	}
	return n
}

// WriteBufferLimits returns the low- and high-water marks (get_write_buffer_limits).
func (t *Transport) WriteBufferLimits() (low, high int) { return t.flow.Limits() }

// SetWriteBufferLimits sets the water marks (set_write_buffer_limits). A negative value is
// asyncio's None: both negative give 64 KiB and 16 KiB; one negative is derived from the other
// (high = 4×low, low = high/4). high >= low >= 0 is required. The buffer is checked against the new
// high mark at once.
func (t *Transport) SetWriteBufferLimits(high, low int) error {
	if err := t.flow.SetLimits(high, low); err != nil {
		return fmt.Errorf("unixstream: SetWriteBufferLimits: %w", err)
	}
	t.flow.MaybePause(t.WriteBufferSize())
	return nil
}

// WriteBufferMax returns the write buffer's hard cap in bytes (math.MaxInt: none); beyond asyncio.
// Loop-only.
func (t *Transport) WriteBufferMax() int { return t.flow.Max() }

// SetWriteBufferMax sets the write buffer's hard cap: max bytes, 0 for the default
// (DefaultWriteBufferMax, 16 MiB), a negative max for none (asyncio's buffer, which grows while
// the protocol ignores PauseWriting). A Write or Writev that would take the buffer above it is not
// buffered: the connection ends at once, its buffer dropped, the exception handler hears of it,
// ConnectionLost gets a *WriteBufferFullError (matching ErrWriteBufferFull) and the write returns
// it. So a peer that never reads cannot make the transport hold more than the cap. A single write
// larger than the cap, less what the kernel takes at once, ends the connection too: raise the cap
// for such writes. The cap applies to later writes; what is buffered stays. Loop-only; beyond
// asyncio.
func (t *Transport) SetWriteBufferMax(max int) { t.flow.SetMax(max) }

// fits checks that n more bytes fit under the write buffer's cap; when not, it ends the
// connection and returns why.
func (t *Transport) fits(n int) error {
	err := t.flow.Check("unixstream", t.WriteBufferSize(), n)
	if err != nil {
		t.fatal(err)
	}
	return err
}

// reportFlowPanic reports a panic in PauseWriting or ResumeWriting, as asyncio reports an
// exception from pause_writing.
func (t *Transport) reportFlowPanic(method string, v any) {
	t.l.CallExceptionHandler(loop.Exception{
		Message: "unixstream: protocol." + method + "() failed", Err: &loop.PanicError{Value: v},
		Panic: v, Transport: t, Protocol: t.proto,
	})
}

// Write writes b (asyncio's write): at once as far as the kernel takes it, the rest copied into the
// buffer. b is not kept. A connection error ends the connection with ConnectionLost(err), and Write
// returns nil, as asyncio's does; it returns an error after Close (matching net.ErrClosed) or after
// WriteEOF.
func (t *Transport) Write(b []byte) error {
	if err := t.writable(); err != nil || len(b) == 0 {
		return err
	}
	if t.tls != nil {
		if err := t.fits(len(b)); err != nil {
			return err
		}
		t.writeTLS(b)
		return nil
	}
	if t.head == len(t.out) {
		n, err := sock.Write(t.fd, b)
		if err != nil && !sock.Temporary(err) {
			t.fatal(err)
			return nil
		}
		b = b[n:]
	}
	if err := t.fits(len(b)); err != nil {
		return err
	}
	t.buffer(b)
	return nil
}

// Writev writes the buffers in order (asyncio's writelines), with one writev when nothing is
// waiting. The buffers are not kept.
func (t *Transport) Writev(bufs [][]byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	if t.tls != nil {
		if err := t.fits(total(bufs, 0)); err != nil {
			return err
		}
		t.writevTLS(bufs)
		return nil
	}
	skip := 0 // bytes of bufs[0] already written
	if t.head == len(t.out) {
		n, err := t.st.w.Writev(t.fd, bufs)
		if err != nil && !sock.Temporary(err) {
			t.fatal(err)
			return nil
		}
		for len(bufs) > 0 && n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		skip = n
	}
	if err := t.fits(total(bufs, skip)); err != nil {
		return err
	}
	for i, b := range bufs {
		if i == 0 {
			b = b[skip:]
		}
		t.buffer(b)
	}
	return nil
}

// total is the length of bufs, less skip bytes of the first.
func total(bufs [][]byte, skip int) int {
	n := -skip
	for _, b := range bufs {
		n += len(b)
	}
	return max(n, 0)
}

func (t *Transport) writable() error {
	switch {
	case t.closing:
		return errClosed
	case t.eofAsked:
		return ErrEOFWritten
	}
	return nil
}

// buffer keeps what the kernel did not take and watches for writability.
func (t *Transport) buffer(b []byte) {
	if len(b) == 0 || t.lost {
		return
	}
	if t.appendOut(b) {
		t.setInterest()
	}
	t.flow.MaybePause(t.WriteBufferSize())
}

// appendOut appends b to the write buffer and reports whether the buffer was empty before.
func (t *Transport) appendOut(b []byte) (wasEmpty bool) {
	wasEmpty = t.head == len(t.out)
	if t.head > 0 && t.head >= len(t.out)/2 { // reclaim the written front before growing
		t.out = t.out[:copy(t.out, t.out[t.head:])]
		t.head = 0
	}
	t.out = append(t.out, b...)
	return wasEmpty
}

// WriteEOF closes the writing side once the buffer is written (write_eof); the peer reads EOF and
// the transport can still read.
func (t *Transport) WriteEOF() error {
	if t.closing {
		return errClosed
	}
	if t.tls != nil {
		return ErrNoHalfClose
	}
	if t.eofAsked {
		return nil
	}
	t.eofAsked = true
	if t.head == len(t.out) {
		t.shutdownWrite()
	}
	return nil
}

// CanWriteEOF reports whether WriteEOF works (can_write_eof): true for a Unix stream socket, false
// with TLS, which has no half-close.
func (t *Transport) CanWriteEOF() bool { return t.tls == nil }

// onReadable reads and delivers data. A panic in a protocol method ends the connection with the
// *loop.PanicError after reporting it, as asyncio's _fatal_error does.
func (t *Transport) onReadable() {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			pe := &loop.PanicError{Value: v, Stack: stack}
			t.l.CallExceptionHandler(loop.Exception{
				Message: "unixstream: panic in a protocol method; the connection is aborted", Err: pe,
				Panic: v, Stack: stack, Transport: t, Protocol: t.proto,
			})
			t.abort(pe)
		}
	}()
	if t.tls != nil {
		t.readTLS()
		return
	}
	for range readBudget {
		if t.closing || !t.reading || t.eof || t.tls != nil { // StartTLS stops plaintext at once
			return
		}
		buf := t.st.rbuf
		if t.buffered != nil {
			if buf = t.buffered.GetBuffer(-1); len(buf) == 0 {
				t.fatal(errors.New("unixstream: GetBuffer returned an empty buffer"))
				return
			}
		}
		n, err := sock.Read(t.fd, buf)
		switch {
		case err != nil && sock.Temporary(err):
			return
		case err != nil:
			t.fatal(err)
			return
		case n == 0:
			t.onEOF()
			return
		}
		if t.buffered != nil {
			t.buffered.BufferUpdated(n)
		} else {
			t.data.DataReceived(buf[:n])
		}
		if n < len(buf) {
			return // drained for now
		}
	}
}

// onEOF asks the protocol whether to stay half-open (asyncio's _read_ready__on_eof).
func (t *Transport) onEOF() {
	if t.proto.EOFReceived() {
		t.eof = true
		t.setInterest()
		return
	}
	t.Close()
}

// flushOut makes one write of the buffer, if anything waits, and watches for writability while
// some is left (onWritable; with TLS also after sealing). A fatal error loses the transport.
func (t *Transport) flushOut() {
	if t.lost {
		return
	}
	if t.head < len(t.out) {
		n, err := sock.Write(t.fd, t.out[t.head:])
		if err != nil && !sock.Temporary(err) {
			t.fatal(err)
			return
		}
		t.head += n
	}
	if t.head == len(t.out) {
		t.out, t.head = t.out[:0], 0
	}
	t.setInterest()
}

// onWritable writes the buffer.
func (t *Transport) onWritable() {
	if t.flushOut(); t.lost {
		return
	}
	t.flow.MaybeResume(t.WriteBufferSize()) // the protocol may write more here
	if t.lost || t.head < len(t.out) {
		return
	}
	if t.tls != nil && t.tls.flushFirst {
		t.launchFlushed() // StartTLS waited for the plaintext to go out
		return
	}
	switch {
	case t.closing && t.tls != nil:
		t.maybeShutDown() // once the peer's close_notify is in too
	case t.closing:
		t.lose(nil)
	case t.eofAsked:
		t.shutdownWrite()
	}
}

// shutdownWrite sends the EOF that WriteEOF asked for, once.
func (t *Transport) shutdownWrite() {
	if t.eofSent {
		return
	}
	t.eofSent = true
	if err := sock.ShutdownWrite(t.fd); err != nil {
		t.fatal(err)
	}
}

// fatal ends the connection with err. Errors a peer causes (reset, EPIPE) are expected and go only
// to ConnectionLost; anything else is reported to the exception handler too, as asyncio logs it.
func (t *Transport) fatal(err error) {
	switch sock.Errno(err) {
	case syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED, syscall.ENOTCONN, syscall.ETIMEDOUT:
		if t.tls != nil && t.tls.peerDone {
			// The peer sent close_notify and closed without waiting for ours (crypto/tls's Close
			// does): a clean end, not a lost connection.
			err = nil
		}
	default:
		t.l.CallExceptionHandler(loop.Exception{
			Message: "unixstream: fatal error on transport", Err: err, Transport: t, Protocol: t.proto,
		})
	}
	t.abort(err)
}

// Close stops reading, writes what is buffered, then closes and calls ConnectionLost(nil) (close).
// With TLS, close_notify follows what is buffered, and the socket is closed once the peer answers
// with its own (or closes) or the shutdown timeout passes, which ConnectionLost then reports. Close
// during a StartTLS handshake lets it end first, so that what was written during it goes out (the
// handshake's failure is ConnectionLost's error); Close of a new connection's handshake ends it.
func (t *Transport) Close() {
	if t.closing {
		return
	}
	if t.tls != nil {
		switch {
		case t.tls.handshaking && t.proto != nil:
			// StartTLS: what was written waits for the handshake; it goes out, then close_notify.
			t.closing, t.tls.closeAfter = true, true
		case t.tls.handshaking:
			t.endHandshake(errHandshakeClosed, nil, false) // nothing made yet: nothing to flush
		default:
			t.closeTLS()
		}
		return
	}
	t.closing = true
	if t.head == len(t.out) {
		t.lose(nil)
		return
	}
	t.setInterest()
}

// Abort closes at once: the buffer is dropped, then ConnectionLost(nil) (abort).
func (t *Transport) Abort() { t.abort(nil) }

func (t *Transport) abort(err error) {
	if t.tls != nil && t.tls.handshaking {
		why := err
		if why == nil {
			why = errHandshakeAborted
		}
		t.endHandshake(why, err, false)
		return
	}
	if t.drop() {
		t.lose(err)
	}
}

// drop marks the transport closing and drops its buffer; it reports whether the socket is still
// open.
func (t *Transport) drop() bool {
	t.closing = true
	if t.lost {
		return false
	}
	t.out, t.head = nil, 0
	return true
}

// lose closes the socket and schedules ConnectionLost, once (the socket is closed before the
// callback, unlike asyncio, so that a loop stopped before it runs leaks no descriptor). A
// transport on a closed loop is already lost: Loop.Close closed it.
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
	if t.tls != nil {
		t.tls.stop(errHandshakeClosed)
	}
	t.reg.Unregister()
	sock.Close(t.fd)
	t.fd = -1
	return true
}

// connectionLost calls ConnectionLost once; the loop and the server forget the transport.
func (t *Transport) connectionLost() {
	if t.gone {
		return
	}
	t.gone = true
	t.untrack()
	defer func() {
		if v := recover(); v != nil { // reported with the transport named; the socket is closed already
			stack := debug.Stack()
			t.l.CallExceptionHandler(loop.Exception{
				Message: "unixstream: panic in protocol.ConnectionLost()", Err: &loop.PanicError{Value: v, Stack: stack},
				Panic: v, Stack: stack, Transport: t, Protocol: t.proto,
			})
		}
		if t.server != nil {
			t.server.detach(t)
		}
	}()
	t.proto.ConnectionLost(t.lostErr)
}

func (t *Transport) untrack() { t.member.Leave(t.l, (*handler)(t)) }

// closeNow closes at once and runs ConnectionLost before it returns, with err unless the transport
// was already lost: Loop.Close, which runs no more callbacks, on its caller's goroutine.
func (t *Transport) closeNow(err error) {
	if t.tls != nil && t.tls.handshaking {
		t.endHandshake(err, err, true)
		return
	}
	if t.drop() {
		t.release(err)
	}
	t.connectionLost()
}

// SyscallConn gives raw access to the socket (get_extra_info('socket')): Control runs a function
// with the descriptor; Read and Write are refused, since the loop owns readiness. Loop-only.
func (t *Transport) SyscallConn() (syscall.RawConn, error) {
	if t.fd < 0 {
		return nil, errClosed
	}
	return sock.NewRawConn(&t.fd, errClosed), nil
}
