//go:build linux

package load

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/bench/wire"
	"github.com/aioloop/aioloop/internal/sock"
)

// UDPRecv is the one-way phase "udp-recv": QUIC-sized datagrams (Size bytes, default 1,200) sent
// to a bulk port (package wire) as fast as the generator can, Segments datagrams to a GSO send
// (default 32, as a QUIC stack sends; 1 sends them plain), 8 sends to a sendmmsg. What counts is
// what the server received: a count query before and after the measured window gives the number,
// and the time between their answers the window (each answer waits behind every datagram sent
// before its query). Lost is what was sent in the window and not counted: the server's socket
// buffer overflowed while it read.
type UDPRecv struct {
	Addr     string // the bulk port, "host:port"
	Size     int
	Segments int
	Span
}

// UDPBurst is the phase "udp-burst": Sockets sockets (default 4) each keep Window burst requests
// (default 2) in flight to a bulk port; the server answers each with Burst datagrams (default 32)
// of Size bytes (default 1,200) sent back-to-back to that socket. The generator reads with GRO on,
// as a QUIC client does, so a server that sends its bursts with GSO is read in coalesced buffers.
// Messages are the datagrams received; a socket that hears nothing for 20 ms with bursts in flight
// counts what is missing as lost and asks again.
type UDPBurst struct {
	Addr    string
	Sockets int
	Window  int
	Burst   int
	Size    int
	Span
}

const sendsPerCall = 8

// dialUDP makes a UDP socket connected to addr, non-blocking unless blocking.
func dialUDP(addr string, blocking bool) (int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, fmt.Errorf("load: UDP address %q: %w", addr, err)
	}
	family := unix.AF_INET
	if ap.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := sock.Socket(family, unix.SOCK_DGRAM, 0)
	if err == nil && blocking {
		err = os.NewSyscallError("fcntl", unix.SetNonblock(fd, false))
	}
	if err == nil {
		err = sock.Connect(fd, family, ap, "")
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, err
	}
	return fd, nil
}

// dialAll makes n non-blocking UDP sockets connected to addr, watched by a new epoll (socket i's
// events carry i); closeAll closes them all.
func dialAll(n int, addr string) (ep *epoll, fds []int, closeAll func(), err error) {
	if ep, err = newEpoll(); err != nil {
		return nil, nil, nil, err
	}
	closeAll = func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
		ep.close()
	}
	for i := range n {
		fd, err := dialUDP(addr, false)
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		fds = append(fds, fd)
		if err := ep.add(fd, i); err != nil {
			closeAll()
			return nil, nil, nil, err
		}
	}
	return ep, fds, closeAll, nil
}

// Run runs the phase on a locked OS thread.
func (u UDPRecv) Run() (Result, error) {
	u.Size, u.Segments = or(u.Size, 1200), or(u.Segments, 32)
	switch {
	case u.Size < 1 || u.Size > wire.MaxSize:
		return Result{}, fmt.Errorf("load: UDPRecv Size %d: want 1 to %d", u.Size, wire.MaxSize)
	case u.Segments < 1 || u.Segments > 64 || u.Segments*u.Size > 65000:
		return Result{}, fmt.Errorf("load: UDPRecv Segments %d of %d bytes: want 1 to 64, at most 65,000 bytes a send", u.Segments, u.Size)
	case u.Duration <= 0:
		return Result{}, errors.New("load: UDPRecv needs a Duration")
	}
	return locked(u.run)
}

func (u *UDPRecv) run() (Result, error) {
	fd, err := dialUDP(u.Addr, false)
	if err != nil {
		return Result{}, err
	}
	defer unix.Close(fd)
	seg := 0
	if u.Segments > 1 {
		if ok, why := sock.ProbeGSO(fd); !ok {
			return Result{}, fmt.Errorf("load: UDPRecv: no GSO here (%s): give Segments 1", why)
		}
		seg = u.Size
	}
	out := make([]sock.Datagram, sendsPerCall)
	for i := range out {
		out[i] = sock.Datagram{Data: wire.Payload(u.Size * u.Segments), Segment: seg}
	}
	sb := sock.NewSendBatch(len(out))
	var sent int64
	blast := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); {
			n, _ := sb.Send(fd, out) // a full buffer is the server's loss, counted from the counts
			sent += int64(n * u.Segments)
		}
	}
	blast(u.Warmup)
	c0, err := countQuery(fd)
	if err != nil {
		return Result{}, err
	}
	m := &meter{span: u.Span}
	m.begin(time.Now(), 0, 0)
	sent = 0
	blast(u.Duration)
	c1, err := countQuery(fd)
	if err != nil {
		return Result{}, err
	}
	got := int64(c1 - c0)
	r := m.result("udp-recv", got, got*int64(u.Size))
	r.Lost = max(0, sent-got)
	return r, nil
}

// countQuery asks the bulk port for its count and waits for the answer, asking again every 20 ms
// (the query may be dropped with the flood) for up to 2 s.
func countQuery(fd int) (uint64, error) {
	q := wire.QueryRequest()
	var buf [64]byte
	for range 100 {
		if _, err := unix.Write(fd, q); err != nil && err != unix.EAGAIN && err != unix.ENOBUFS {
			return 0, fmt.Errorf("load: count query: %w", err)
		}
		deadline := time.Now().Add(20 * time.Millisecond)
		for {
			left := time.Until(deadline)
			if left <= 0 {
				break
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfd, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
				return 0, fmt.Errorf("load: count query: poll: %w", err)
			}
			n, err := unix.Read(fd, buf[:])
			if err != nil {
				continue // EAGAIN, or an ICMP error: the server is not there yet
			}
			if c, ok := wire.ParseCount(buf[:n]); ok {
				return c, nil
			}
		}
	}
	return 0, errors.New("load: the bulk port did not answer a count query in 2 s")
}

type burstSock struct {
	fd      int
	pending int // bursts in flight
	got     int // datagrams of the oldest burst received so far
	last    time.Time
}

// Run runs the phase on a locked OS thread.
func (u UDPBurst) Run() (Result, error) {
	u.Sockets, u.Window, u.Burst, u.Size = or(u.Sockets, 4), or(u.Window, 2), or(u.Burst, 32), or(u.Size, 1200)
	if err := u.Span.check(); err != nil {
		return Result{}, err
	}
	if u.Sockets < 1 || u.Sockets > 64 || u.Window < 1 {
		return Result{}, fmt.Errorf("load: UDPBurst Sockets %d, Window %d: want 1 to 64 sockets and a window of at least 1", u.Sockets, u.Window)
	}
	if _, err := wire.BurstRequest(u.Burst, u.Size); err != nil {
		return Result{}, fmt.Errorf("load: UDPBurst: %w", err)
	}
	return locked(u.run)
}

func (u *UDPBurst) run() (Result, error) {
	ep, fds, closeAll, err := dialAll(u.Sockets, u.Addr)
	if err != nil {
		return Result{}, err
	}
	defer closeAll()
	socks := make([]burstSock, u.Sockets)
	for i := range socks {
		socks[i].fd = fds[i]
		if err := sock.SetGRO(fds[i], true); err != nil {
			return Result{}, fmt.Errorf("load: UDPBurst: UDP_GRO: %w", err)
		}
	}
	req, _ := wire.BurstRequest(u.Burst, u.Size)
	rb := sock.NewRecvBatch(64, 65536)
	rb.EnableControl()
	ask := func(s *burstSock, n int, now time.Time) {
		for range n {
			if _, err := unix.Write(s.fd, req); err == nil {
				s.pending++
			}
		}
		s.last = now
	}
	now := time.Now()
	for i := range socks {
		ask(&socks[i], u.Window, now)
	}
	var got, lost int64
	m := newMeter(u.Span)
	lastScan := now
	for !m.tick(now, got, got*int64(u.Size)) {
		n, err := ep.wait(10)
		if err != nil {
			return Result{}, err
		}
		now = time.Now()
		for _, idx := range ep.ready[:n] {
			s := &socks[idx]
			for {
				k, err := rb.Recv(s.fd)
				if err != nil {
					break
				}
				for i := range k {
					data, _, _ := rb.Msg(i)
					segs := 1
					ctrl, _ := rb.Control(i)
					if size := sock.GROSize(ctrl); size > 0 && len(data) > size {
						segs = (len(data) + size - 1) / size
					}
					got += int64(segs)
					s.got += segs
				}
				done := s.got / u.Burst
				s.got -= done * u.Burst
				s.pending = max(0, s.pending-done)
				s.last = now
				ask(s, u.Window-s.pending, now)
				if k < rb.Cap() {
					break
				}
			}
		}
		if now.Sub(lastScan) >= lossTimeout/2 {
			lastScan = now
			for i := range socks {
				s := &socks[i]
				if now.Sub(s.last) >= lossTimeout {
					lost += int64(max(0, s.pending*u.Burst-s.got))
					s.pending, s.got = 0, 0
					ask(s, u.Window, now)
				}
			}
		}
	}
	r := m.result("udp-burst", got, got*int64(u.Size))
	r.Lost = lost
	return r, nil
}
