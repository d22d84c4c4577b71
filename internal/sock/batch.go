//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

// Datagram is one outgoing datagram: its bytes and, for an unconnected socket, where it goes
// (To.Len() == 0 sends to the connected peer).
type Datagram struct {
	Data []byte
	To   Sockaddr
}

// RecvBatch is a set of receive buffers, each able to hold the largest datagram size it was made
// with, and their source addresses. One per loop: the loop runs one handler at a time.
type RecvBatch struct {
	bufs  []byte // n buffers of size bytes, back to back
	size  int
	names []Sockaddr
	lens  []int
	trunc []bool
	sys   recvSys // the per-OS headers
}

// NewRecvBatch makes n buffers of size bytes each.
func NewRecvBatch(n, size int) *RecvBatch {
	b := &RecvBatch{
		bufs: make([]byte, n*size), size: size,
		names: make([]Sockaddr, n), lens: make([]int, n), trunc: make([]bool, n),
	}
	b.sys.init(b)
	return b
}

// Cap is how many datagrams one Recv can return.
func (b *RecvBatch) Cap() int { return len(b.names) }

// Msg returns the i-th datagram of the last Recv: its bytes (aliasing the batch: valid until the
// next Recv), its source, and whether the kernel cut it to fit the buffer.
func (b *RecvBatch) Msg(i int) (data []byte, from *Sockaddr, truncated bool) {
	off := i * b.size
	return b.bufs[off : off+b.lens[i]], &b.names[i], b.trunc[i]
}

// Recv reads up to Cap datagrams from the non-blocking fd and returns how many. When none is
// waiting it returns 0 and EAGAIN; a pending socket error (an ICMP error on a connected socket)
// comes back as the error of the call, as recvmsg reports it.
func (b *RecvBatch) Recv(fd int) (int, error) { return b.sys.recv(b, fd) }
