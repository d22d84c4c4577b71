// Package wire is the format of the echo servers' bulk UDP port (echoserver -bulk-udp), which
// serves the demo's QUIC-sized phases: what the generator (package load) sends and the servers
// (package echo) answer.
//
//   - A datagram of the one byte 'Q' asks how many datagrams the port has sunk so far: the answer
//     is 8 bytes, the count, little-endian. It waits in the socket behind every datagram sent
//     before it, so the count it brings back includes them all (or their loss).
//   - 'B', then n and size as little-endian uint16s (5 bytes): answered with n datagrams of size
//     bytes, sent back-to-back to the asker (a server sending a burst to one peer).
//   - Anything else is counted (sunk) and not answered.
package wire

import (
	"encoding/binary"
	"errors"
)

const (
	query = 'Q'
	burst = 'B'
)

// Kind is what a datagram to the bulk port asks for.
type Kind int

const (
	Sink  Kind = iota // count it
	Query             // answer with the count
	Burst             // answer with a burst
)

// MaxSize is the largest burst datagram: the largest UDP payload over IPv4.
const MaxSize = 65507

var payload [MaxSize]byte

func init() {
	for i := range payload {
		payload[i] = byte(i)
	}
}

// Payload is size bytes of the shared, read-only payload that bursts and floods carry.
func Payload(size int) []byte { return payload[:size:size] }

// QueryRequest is the count query.
func QueryRequest() []byte { return []byte{query} }

// BurstRequest asks for n datagrams of size bytes.
func BurstRequest(n, size int) ([]byte, error) {
	if n < 1 || n > 0xffff || size < 1 || size > MaxSize {
		return nil, errors.New("wire: a burst is 1 to 65535 datagrams of 1 to 65507 bytes")
	}
	b := []byte{burst, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[1:], uint16(n))
	binary.LittleEndian.PutUint16(b[3:], uint16(size))
	return b, nil
}

// Parse says what datagram b asks for; for a burst, how many datagrams of what size. A burst
// request with a size of 0 or above MaxSize counts as a sink datagram.
func Parse(b []byte) (k Kind, n, size int) {
	switch {
	case len(b) == 1 && b[0] == query:
		return Query, 0, 0
	case len(b) == 5 && b[0] == burst:
		n, size = int(binary.LittleEndian.Uint16(b[1:])), int(binary.LittleEndian.Uint16(b[3:]))
		if size >= 1 && size <= MaxSize {
			return Burst, n, size
		}
	}
	return Sink, 0, 0
}

// Count encodes a count answer into b (8 bytes) and returns it.
func Count(b *[8]byte, count uint64) []byte {
	binary.LittleEndian.PutUint64(b[:], count)
	return b[:]
}

// ParseCount decodes a count answer.
func ParseCount(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}
