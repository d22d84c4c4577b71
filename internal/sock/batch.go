//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

// Datagram is one outgoing datagram: its bytes and, for an unconnected socket, where it goes
// (To.Len() == 0 sends to the connected peer).
type Datagram struct {
	Data []byte
	To   Sockaddr
	Info SendInfo // source address and TOS for this datagram (Linux); the zero value: none
	// Segment > 0 makes Data a run of datagrams of Segment bytes each (the last may be shorter),
	// sent as one GSO send (UDP_SEGMENT; Linux, where ProbeGSO said yes).
	Segment int
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

	// Per-slot control buffers (EnableControl), ControlSpace bytes each, and what the last Recv
	// left in them.
	ctrl    []byte
	ctrlLen []int
	ctrunc  []bool
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

// EnableControl gives every slot a control buffer, so that Recv returns the per-datagram
// information a socket was asked for (SetRecvInfo; Linux only: elsewhere slots stay empty).
// Idempotent; a batch without it makes exactly the calls it made before.
func (b *RecvBatch) EnableControl() {
	if b.ctrl != nil {
		return
	}
	n := len(b.names)
	b.ctrl = make([]byte, n*ControlSpace)
	b.ctrlLen, b.ctrunc = make([]int, n), make([]bool, n)
	b.sys.enableControl(b)
}

// Control returns the i-th datagram's control messages from the last Recv (aliasing the batch:
// valid until the next Recv), and whether the kernel cut them to fit (MSG_CTRUNC).
func (b *RecvBatch) Control(i int) (ctrl []byte, truncated bool) {
	if b.ctrl == nil {
		return nil, false
	}
	off := i * ControlSpace
	return b.ctrl[off : off+b.ctrlLen[i]], b.ctrunc[i]
}
