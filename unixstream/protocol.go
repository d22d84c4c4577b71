package unixstream

import "github.com/aioloop/aioloop/internal/flow"

// BaseProtocol is what every stream protocol implements (asyncio's BaseProtocol, with
// eof_received). A protocol must also implement Protocol or BufferedProtocol. Every method runs on
// the loop goroutine; ConnectionMade is called once, first, and ConnectionLost once, last.
type BaseProtocol interface {
	// ConnectionMade is called when the connection is ready.
	ConnectionMade(t *Transport)
	// EOFReceived is called when the peer closed its side. Returning true keeps the connection
	// half-open (the transport can still write, and should be closed later); false closes it.
	EOFReceived() (keepOpen bool)
	// ConnectionLost is called once the connection is closed: nil after Close, Abort or an EOF
	// that closed it, the error otherwise (a reset peer, a recovered panic).
	ConnectionLost(err error)
}

// Protocol receives data in the loop's buffer (asyncio's Protocol).
type Protocol interface {
	BaseProtocol
	// DataReceived is called with bytes read. data is borrowed: valid until the method returns.
	DataReceived(data []byte)
}

// BufferedProtocol has the kernel read straight into its own buffer (asyncio's BufferedProtocol).
type BufferedProtocol interface {
	BaseProtocol
	// GetBuffer returns the buffer for the next read, at least one byte long. sizeHint is -1:
	// any size will do, as in asyncio.
	GetBuffer(sizeHint int) []byte
	// BufferUpdated says that n bytes were read into the start of the buffer GetBuffer returned.
	BufferUpdated(n int)
}

// FlowControl is the optional part of a protocol that hears about the write buffer (asyncio's
// pause_writing and resume_writing): PauseWriting when the buffer goes above the high-water mark,
// ResumeWriting when it drains to the low-water mark or below. It is checked once, when the
// protocol is set.
//
// Both run on the loop goroutine; a panic in either is recovered and reported. Pausing reading
// from PauseWriting (and resuming it from ResumeWriting) is how an echo or proxy protocol passes
// back-pressure to its peer.
type FlowControl interface {
	// PauseWriting: the buffer went above the high-water mark; stop writing until ResumeWriting.
	PauseWriting()
	// ResumeWriting: the buffer drained to the low-water mark or below.
	ResumeWriting()
}

// A FlowControl is what the shared flow-control code calls.
var _ flow.Protocol = FlowControl(nil)
