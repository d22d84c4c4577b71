// Package unixstream is asyncio's loop.create_unix_connection and loop.create_unix_server on
// aioloop's loop: stream transports over Unix sockets, calling a Protocol (data_received) or a
// BufferedProtocol (get_buffer / buffer_updated), with no net.Conn and no allocation per read.
//
// # Threading
//
// CreateUnixConnection and CreateUnixServer may be called from any goroutine; the socket is made
// on the caller, and the registration, the protocol factory and ConnectionMade run on the loop
// goroutine before they return. CreateUnixConnection with TLS waits for the handshake, so it is
// refused on the loop goroutine (StartTLS is the form that does not block). A Server's Close, CloseClients, AbortClients and StartServing may
// be called from any goroutine too, and WaitClosed from any goroutine but the loop's. Everything
// else (the Transport's methods and every protocol method) belongs to the loop goroutine: from
// another goroutine, reach a transport through loop.Loop.Do or CallSoonThreadsafe.
//
// # Lifecycle
//
// The create functions take a context for what blocks their caller (a listener's full backlog,
// the wait for the loop). A connection or server belongs to its loop until its ConnectionLost has
// run (a server: until it is closed): loop.Loop.Shutdown closes each gracefully (a connection
// writes what it has buffered first), and loop.Loop.Close closes each at once, running
// ConnectionLost with an error that matches net.ErrClosed; a server's WaitClosed then returns.
//
// # Reading
//
// A Protocol's DataReceived gets bytes read into a 64 KiB buffer that the loop owns and shares with
// all its stream transports: borrowed, valid until DataReceived returns. A BufferedProtocol lends
// its own buffer through GetBuffer and the kernel reads straight into it. A readiness event reads at
// most four times, so that one busy connection cannot starve the others. PauseReading stops reading
// until ResumeReading, so the kernel's buffers, then the peer, are held back.
//
// # Writing
//
// Write and Writev try the syscall (write, writev) at once; only what the kernel does not take is
// copied into the transport's buffer, drained when the socket is writable. Flow control is
// asyncio's: strictly above the high-water mark (64 KiB by default) PauseWriting, at or below the
// low-water mark (16 KiB) ResumeWriting. A peer reset, EPIPE or a peer that vanishes mid-write ends
// in ConnectionLost(err). Beyond asyncio, the buffer has a hard cap (16 MiB unless
// SetWriteBufferMax says otherwise): a write that would pass it ends the connection with a
// *WriteBufferFullError (the write's result and ConnectionLost's error), so that a protocol that
// ignores PauseWriting cannot make a peer that never reads grow the process without bound.
//
// # Errors in the protocol
//
// A panic in DataReceived, GetBuffer, BufferUpdated or EOFReceived is recovered, handed to the
// loop's exception handler with the transport and protocol named, and ends the connection with
// ConnectionLost(*loop.PanicError), as asyncio's _fatal_error does for a stream. A panic in the
// factory or in ConnectionMade fails the creation (for a server: that connection, reported, and
// the server goes on): the socket is closed at once and the transport the protocol may hold is
// dead (IsClosing reports true, Write returns an error matching net.ErrClosed).
//
// # TLS
//
// ConnOptions.TLS and ServerOptions.TLS (asyncio's ssl=) put TLS on a connection, with
// crypto/tls from the standard library, unforked; Transport.StartTLS upgrades a live one in place
// (asyncio's start_tls, keeping the same *Transport). The protocol sees plaintext through the same
// Protocol and BufferedProtocol, with the same flow control (the buffer counts sealed records,
// and plaintext written during a StartTLS handshake) and the same ConnectionLost rules.
//
// The handshake runs on a goroutine of its own, over a duplicate of the socket on Go's own poller
// (an *os.File), while the transport's registration with the loop stays quiet: crypto/tls's
// handshake is not resumable (an error, even EAGAIN, becomes the handshake's result), so it cannot
// run on the loop; off the loop, certificate signing and chain verification do not hold it up
// either, which asyncio and uvloop cannot do. This differs from the design note's in-memory conn
// fed by the loop: the goroutine does its own I/O, so no bytes pass between goroutines and the
// loop is not woken during the handshake; deadlines and cancellation are the runtime poller's.
// The goroutine ends with the handshake and posts the result. From then on the same tls.Conn is
// driven on the loop goroutine, over a conn whose Read is one read(2) on the non-blocking socket
// (EAGAIN is a temporary net.Error, on which crypto/tls keeps a partial record and resumes it on
// the next Read; the tests pin that behaviour) and whose Write appends sealed records to the
// transport's buffer: no goroutine per connection and no goroutine switch per message after the
// handshake, one copy each way beyond the cipher's own work. crypto/tls can hold decrypted bytes
// that epoll cannot see, so a drain is scheduled after the read budget and on ResumeReading.
//
// asyncio's semantics, mirrored: ConnectionMade comes after the handshake (the factory runs then
// too), and a failed or timed-out handshake calls neither, failing the create call with an error
// that names the check or the limit (a server reports it to the exception handler and goes on).
// HandshakeTimeout (60 s) and ShutdownTimeout (30 s) are asyncio's defaults; ErrHandshakeTimeout
// and ErrShutdownTimeout match os.ErrDeadlineExceeded. The peer's close_notify, or EOF at a record
// boundary, is EOFReceived (its keep-open answer ignored: TLS has no half-close, so WriteEOF
// returns ErrNoHalfClose and CanWriteEOF is false), then Close. Close sends close_notify after what
// is buffered, discards what still arrives, and closes once the peer's close_notify (or EOF) is in
// or the shutdown timeout passes (ConnectionLost then gets the timeout); a peer that sends its
// close_notify and closes without waiting for ours ends cleanly. Abort sends nothing. Close or
// Abort during the handshake ends it.
//
// Refused, because it would block the loop goroutine: renegotiation (any tls.Config.Renegotiation
// but RenegotiateNever), and a TLS create call made on the loop goroutine (use StartTLS, whose done
// callback is the await). tls.Config's callbacks run on the handshake goroutine;
// ClientSessionCache.Put may run on the loop goroutine (TLS 1.3 tickets arrive after the
// handshake) and must not block. A server's handshakes in flight are bounded by
// ServerOptions.MaxHandshakes (1024). Transport.ConnectionState returns the negotiated state,
// cached when the handshake ended, without crypto/tls's locks.
//
// Allocations: a write allocates nothing; a read allocates what crypto/tls does, one 24-byte
// reader per read(2) that brings ciphertext (conn.go, readFromUntil), which nothing outside
// crypto/tls can avoid. The transport follows record boundaries over the stream so that it can
// skip the read that would only meet EAGAIN, which would cost a second one.
//
// # Paths
//
// A server removes a stale socket file at its path (one no socket is bound to) and nothing else: any
// other file there is an error and stays. On Close it removes the socket file only if the inode at
// the path is still the one it bound. Abstract names ("@name", Linux) have no file.
//
// # Platforms
//
// Linux is tested; the BSDs and macOS are compile-checked. On Windows (AF_UNIX stream sockets since
// Windows 10 1803) the package builds on the IOCP poller and Winsock, and its tests compile, but
// they have only run under Wine, which has no AF_UNIX and so skips them all: nothing here has run
// on Windows. There, peer credentials and TLS (whose handshake goroutine needs a duplicate of the
// socket on Go's own poller) return errors, and paths have no abstract names.
package unixstream
