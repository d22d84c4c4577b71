//go:build linux

package load

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
)

// UDP is a UDP throughput phase: Sockets sockets, each connected to Addr and keeping Window
// datagrams of Size bytes in flight. Each reply is answered by a new datagram, sent in batches
// with sendmmsg; replies are read with recvmmsg. A socket that hears nothing for 20 ms while
// datagrams are in flight counts them as lost and sends a new window.
type UDP struct {
	Addr    string // the echo server, "host:port"
	Sockets int    // default 4
	Window  int    // datagrams in flight per socket, default 32
	Size    int    // payload bytes, default 64
	Span
}

const lossTimeout = 20 * time.Millisecond

type udpSock struct {
	fd       int
	inflight int
	last     time.Time
}

// Run runs the phase on a locked OS thread.
func (u UDP) Run() (Result, error) {
	u.Sockets, u.Window, u.Size = or(u.Sockets, 4), or(u.Window, 32), or(u.Size, 64)
	if err := u.Span.check(); err != nil {
		return Result{}, err
	}
	if _, err := netip.ParseAddrPort(u.Addr); err != nil { // refused before any socket
		return Result{}, fmt.Errorf("load: UDP address %q: %w", u.Addr, err)
	}
	if u.Size > 65507 {
		return Result{}, fmt.Errorf("load: UDP Size %d is more than a datagram holds", u.Size)
	}
	return locked(u.run)
}

func (u *UDP) run() (Result, error) {
	ep, fds, closeAll, err := dialAll(u.Sockets, u.Addr)
	if err != nil {
		return Result{}, err
	}
	defer closeAll()
	socks := make([]udpSock, u.Sockets)
	for i := range socks {
		socks[i].fd = fds[i]
	}
	payload := make([]byte, u.Size)
	for i := range payload {
		payload[i] = byte(i)
	}
	out := make([]sock.Datagram, u.Window)
	for i := range out {
		out[i].Data = payload
	}
	sb := sock.NewSendBatch(len(out))
	rb := sock.NewRecvBatch(64, max(u.Size, 2048))

	var got, lost int64
	send := func(s *udpSock, n int, now time.Time) {
		sent, _ := sb.Send(s.fd, out[:n]) // a refusal (ENOBUFS, ECONNREFUSED) is retried by the loss timer
		s.inflight += sent
		s.last = now
	}
	now := time.Now()
	for i := range socks {
		send(&socks[i], u.Window, now)
	}
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
					break // EAGAIN, or an ICMP error reported on the connected socket
				}
				got += int64(k)
				s.inflight = max(0, s.inflight-k)
				send(s, u.Window-s.inflight, now)
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
					lost += int64(s.inflight)
					s.inflight = 0
					send(s, u.Window, now)
				}
			}
		}
	}
	r := m.result("udp", got, got*int64(u.Size))
	r.Lost = lost
	return r, nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
