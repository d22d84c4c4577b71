package udp

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/aioloop/aioloop/internal/sock"
)

// ICMPError is an error that a node on the path reported about a datagram this endpoint sent,
// read from the socket's error queue (Options.ICMPErrors): it names the destination it concerns,
// which an unconnected endpoint needs to know whom it is about. It matches its errno with
// errors.Is: syscall.ECONNREFUSED for a port unreachable, EHOSTUNREACH or ENETUNREACH, EMSGSIZE for
// "fragmentation needed" (MTU then holds the path MTU the node gave).
type ICMPError struct {
	Dest     Addr       // the destination of the datagram that drew the error
	Reporter netip.Addr // the node that reported it; the zero Addr when the kernel does not say
	Err      error      // the errno
	Type     uint8      // the ICMP (or, for an IPv6 destination, ICMPv6) type
	Code     uint8      // and code
	MTU      int        // the path MTU, with EMSGSIZE; 0 otherwise
}

func (e *ICMPError) Error() string {
	s := fmt.Sprintf("udp: datagram to %v: %v (ICMP type %d code %d", e.Dest, e.Err, e.Type, e.Code)
	if e.Reporter.IsValid() {
		s += fmt.Sprintf(" from %v", e.Reporter)
	}
	if e.MTU > 0 {
		s += fmt.Sprintf(", MTU %d", e.MTU)
	}
	return s + ")"
}

// Unwrap returns the errno.
func (e *ICMPError) Unwrap() error { return e.Err }

// errQueueBudget bounds one drain of the error queue: the kernel bounds the queue by the receive
// buffer, and the loop must get on with other work.
const errQueueBudget = 64

// drainErrQueue reports what the socket's error queue holds, up to errQueueBudget entries, and
// returns how many it found. Reading the queue also clears the pending error that the next send
// or receive would otherwise return once, whatever peer it concerned. Each report goes through
// sendFailed's path: after a batch when delivering one, in the next iteration from inside
// ErrorReceived.
func (t *Transport) drainErrQueue() int {
	n := 0
	for ; n < errQueueBudget && !t.lost; n++ {
		q := t.qerr
		ok, _ := t.errq.Recv(t.fd, q)
		if !ok {
			break
		}
		e := &ICMPError{Dest: t.peer(&q.Dest), Reporter: q.Offender, Err: q.Errno, Type: q.Type, Code: q.Code}
		if q.Errno == syscall.EMSGSIZE {
			e.MTU = int(q.Info)
		}
		t.sendFailed(e)
	}
	return n
}

// queuedErrorMet: with the error queue on, an error returned by a send or a receive may be another
// datagram's ICMP error, pending on the socket; draining the queue reports it (with its
// destination) and says so, and the caller tries its own call once more.
func (t *Transport) queuedErrorMet(err error) bool {
	return t.errq != nil && !sock.Temporary(err) && t.drainErrQueue() > 0
}
