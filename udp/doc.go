// Package udp is asyncio's loop.create_datagram_endpoint on aioloop's loop: datagram transports
// for UDP over IPv4 and IPv6 and for Unix datagram sockets, calling a DatagramProtocol, with no
// net.Conn and no allocation per datagram.
//
// # Threading
//
// CreateDatagramEndpoint may be called from any goroutine: name resolution and the socket's set-up
// run on the caller (never on the loop goroutine), and the registration, the protocol factory and
// ConnectionMade run on the loop goroutine before it returns. Everything else (the Transport's
// methods and every Protocol method) belongs to the loop goroutine, as in package loop's contract:
// from another goroutine, reach a transport through loop.Loop.Do or CallSoonThreadsafe.
//
// # Lifecycle
//
// CreateDatagramEndpoint takes a context for what blocks its caller (name lookups, the wait for
// the loop). An endpoint belongs to its loop until its ConnectionLost has run: loop.Loop.Shutdown
// closes it gracefully (what is queued is sent first), and loop.Loop.Close closes it at once,
// running ConnectionLost with an error that matches net.ErrClosed.
//
// # Receiving
//
// A readiness event reads datagrams in batches (recvmmsg on Linux, 64 at a time, as deep as a C
// epoll server's) into buffers that the loop owns and shares among all its datagram transports,
// and hands each to DatagramReceived. The data is borrowed: it is valid until DatagramReceived
// returns, and a protocol that keeps it must copy it. One event delivers at most 64 datagrams (GRO
// segments count one each), so one busy socket cannot starve the others.
//
// Each receive buffer holds 65,536 bytes, so every UDP datagram (at most 65,507 bytes over IPv4,
// 65,527 over IPv6) arrives whole. Memory per loop is bounded by construction and made once, on
// the loop's first datagram endpoint: 64 receive buffers (4 MiB of address space, of which the
// kernel touches only the pages datagrams reach: 256 KiB while datagrams fit a page, all of it
// under a GRO flood) and a 64 KiB arena for staged replies (below).
// A Unix datagram larger than a buffer is not delivered cut: it is reported to ErrorReceived as a
// *TruncatedError.
//
// PauseReading stops DatagramReceived at once, even in the middle of a batch: what was already
// read is copied aside and delivered first after ResumeReading.
//
// # Sending
//
// SendTo and Send try the syscall at once. Only what the kernel refuses for now (EAGAIN) is copied
// into the transport's queue, which is drained with sendmmsg when the socket is writable. The one
// exception is a reply: called from the transport's own DatagramReceived, SendTo copies the
// datagram aside, and the answers leave in sendmmsg calls of up to 64 datagrams or 64 KiB: the
// last one as soon as the batch is delivered, an earlier one whenever the staging fills (an echo
// server makes two syscalls per batch of up to 64 datagrams instead of one per datagram plus
// one). Replies keep their SendTo order, also behind datagrams queued on EAGAIN. As in asyncio,
// other OS errors on send or receive go to ErrorReceived and the transport stays open (an ICMP
// port unreachable on a connected endpoint arrives there as ECONNREFUSED); the errors of staged
// replies and of the queue's drain are reported once that send path is done, so ErrorReceived
// never runs while the transport walks its datagrams.
//
// Flow control is asyncio's: each queued datagram counts its length plus 8 bytes; strictly above the
// high-water mark (64 KiB by default) the protocol's PauseWriting is called, and at or below the
// low-water mark (16 KiB) ResumeWriting. Beyond asyncio, the queue has a hard cap (16 MiB unless
// SetWriteBufferMax says otherwise): a datagram that would pass it is dropped and the send returns
// (or a staged reply's ErrorReceived gets) a *WriteBufferFullError, the endpoint staying open, so
// that a protocol that ignores PauseWriting cannot make a destination that never reads grow the
// process without bound.
//
// # Errors in the protocol
//
// A panic in DatagramReceived, ErrorReceived, PauseWriting or ResumeWriting is recovered and handed
// to the loop's exception handler with the transport and protocol named, and the endpoint stays
// open, as asyncio leaves a datagram transport open when datagram_received raises: one malformed
// datagram must not take a UDP server down. The rest of the batch is still delivered. A panic in
// the factory or in ConnectionMade fails CreateDatagramEndpoint instead.
//
// # Beyond asyncio (Linux)
//
// UDP segmentation offload, on where the kernel has it (Options.GRO, Options.GSO;
// Transport.Offload): a GRO buffer is split into sub-slices, one DatagramReceived each, in order,
// each counted against the read budget; SendSegments sends a run of equal-size datagrams in one
// send, and staged replies to one peer of one size are merged into one; a failing GSO send falls
// back to single datagrams for that destination, losing nothing. Per-datagram information:
// Options.ReceiveInfo with an InfoReceiver protocol (destination, interface, TOS/ECN, TTL, kernel
// time, in the loop's memory), SendToInfo (source address, TOS). Options.ICMPErrors brings ICMP
// errors to unconnected endpoints as *ICMPError naming the destination. Options.ReceiveBuffer,
// SendBuffer and DontFragment; Transport.BufferSizes and Drops. Each costs nothing unused.
//
// Memory: a loop's datagram transports share one receive batch of 64 buffers of 64 KiB (a GRO
// buffer needs 64 KiB: the kernel silently cuts one that does not fit), a 64 KiB staging arena
// for replies, 6 KiB of send control buffers and, once any endpoint asks for information or GRO
// (on by default), 16 KiB of receive control buffers: about 4.1 MiB of address space per loop,
// whatever the number of endpoints; resident, what datagrams have reached. Each transport keeps
// up to 16 buffers of datagrams it had to queue, for reuse.
//
// # Platforms
//
// Linux is tested. Windows is tested under Wine (not Windows): a batch there is a loop of recvfrom
// calls until WSAEWOULDBLOCK (Windows has no recvmmsg), sends are single sendto calls, Unix
// datagram sockets and ReusePort do not exist (the option is refused), and an ICMP error reaches a
// connected endpoint only (SIO_UDP_CONNRESET is off until Connect, so that one dead peer cannot
// fail an unconnected server's reads). The BSDs and macOS build (one datagram per recvmsg and
// sendto, compile-checked only); an IPv6 socket there may be IPv6-only (OpenBSD, DragonFly), and
// SendTo then refuses an IPv4 destination with ErrDestination.
package udp
