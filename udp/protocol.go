package udp

import "github.com/aioloop/aioloop/internal/flow"

// Protocol receives a datagram transport's events (asyncio's DatagramProtocol). Every method runs
// on the loop goroutine. ConnectionMade is called once, first; ConnectionLost once, last.
type Protocol interface {
	// ConnectionMade is called when the endpoint is ready, before CreateDatagramEndpoint returns.
	ConnectionMade(t *Transport)
	// DatagramReceived is called for each datagram. data is borrowed from the loop's receive
	// buffers: valid until the method returns; copy what you keep. from is a value.
	DatagramReceived(data []byte, from Addr)
	// ErrorReceived is called with an OS error from a send or a receive (an ICMP error on a
	// connected endpoint, for instance). The transport stays open. It is never called from inside
	// another ErrorReceived of the same transport.
	ErrorReceived(err error)
	// ConnectionLost is called once the transport is closed, after every other method: nil after
	// Close or Abort.
	ConnectionLost(err error)
}

// FlowControl is the optional part of a Protocol that hears about the write queue (asyncio's
// pause_writing and resume_writing): PauseWriting when the queue goes above the high-water mark,
// ResumeWriting when it drains to the low-water mark or below. It is checked once, when the
// transport is made or the protocol set. Both run on the loop goroutine; a panic in either is
// recovered and reported.
type FlowControl interface {
	// PauseWriting: the queue went above the high-water mark; stop sending until ResumeWriting.
	PauseWriting()
	// ResumeWriting: the queue drained to the low-water mark or below.
	ResumeWriting()
}

// A FlowControl is what the shared flow-control code calls.
var _ flow.Protocol = FlowControl(nil)
