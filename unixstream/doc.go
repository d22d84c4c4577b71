// Package unixstream is asyncio's loop.create_unix_connection and loop.create_unix_server on
// aioloop's loop: stream transports over Unix sockets, calling a Protocol (data_received) or a
// BufferedProtocol (get_buffer / buffer_updated), with no net.Conn and no allocation per read.
//
// # Threading
//
// CreateUnixConnection and CreateUnixServer may be called from any goroutine; the socket is made
// on the caller, and the registration, the protocol factory and ConnectionMade run on the loop
// goroutine before they return. A Server's Close, CloseClients, AbortClients and StartServing may
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
// in ConnectionLost(err).
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
// # Paths
//
// A server removes a stale socket file at its path (one no socket is bound to) and nothing else: any
// other file there is an error and stays. On Close it removes the socket file only if the inode at
// the path is still the one it bound. Abstract names ("@name", Linux) have no file.
package unixstream
