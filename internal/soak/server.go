package soak

import (
	"sync/atomic"

	"github.com/aioloop/aioloop/udp"
	"github.com/aioloop/aioloop/unixstream"
)

// serverCounts is what the server side saw; its fields are updated on the loop goroutine and read
// with atomics from the checks.
type serverCounts struct {
	live        atomic.Int64 // stream connections between ConnectionMade and ConnectionLost
	made, lost  atomic.Int64
	lostTwice   atomic.Int64 // ConnectionLost for a connection already lost: must stay 0
	afterLost   atomic.Int64 // a callback after ConnectionLost: must stay 0
	datagrams   atomic.Int64
	streamBytes atomic.Int64
}

// udpEcho sends every datagram back.
type udpEcho struct {
	c *serverCounts
	t *udp.Transport
}

func (e *udpEcho) ConnectionMade(t *udp.Transport) { e.t = t }
func (e *udpEcho) DatagramReceived(data []byte, from udp.Addr) {
	e.t.SendTo(data, from)
	e.c.datagrams.Add(1)
}
func (e *udpEcho) ErrorReceived(error)  {}
func (e *udpEcho) ConnectionLost(error) {}

// streamEcho writes back what it reads and stops reading while its writes are paused (asyncio's
// flow control), so that a peer that does not read holds the server's buffer at the high-water
// mark, not more.
type streamEcho struct {
	c    *serverCounts
	t    *unixstream.Transport
	gone bool
}

func (e *streamEcho) ConnectionMade(t *unixstream.Transport) {
	e.t = t
	e.c.made.Add(1)
	e.c.live.Add(1)
}
func (e *streamEcho) DataReceived(b []byte) {
	if e.gone {
		e.c.afterLost.Add(1)
		return
	}
	e.t.Write(b)
	e.c.streamBytes.Add(int64(len(b)))
}
func (e *streamEcho) EOFReceived() bool {
	if e.gone {
		e.c.afterLost.Add(1)
	}
	return false // close once the echo is written, as asyncio does for False
}
func (e *streamEcho) ConnectionLost(error) {
	if e.gone {
		e.c.lostTwice.Add(1)
		return
	}
	e.gone = true
	e.c.lost.Add(1)
	e.c.live.Add(-1)
}
func (e *streamEcho) PauseWriting()  { e.t.PauseReading() }
func (e *streamEcho) ResumeWriting() { e.t.ResumeReading() }
