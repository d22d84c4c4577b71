//go:build linux

package load

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// RTT is a ping-pong phase: one message of Size bytes at a time over one socket, each round trip
// timed. Network "udp" sends to the "host:port" Addr (a datagram not answered within a second is
// counted lost and the next is sent); "unix" connects to the stream socket at Addr.
//
// The generator waits for each reply by polling its non-blocking socket, so that its own wake-up
// (tens of microseconds on a virtual machine whose idle vCPU halts) is not part of every figure:
// the round trip is then the server's and the kernel's. Block makes it sleep in read(2) instead,
// as a typical client does.
type RTT struct {
	Network string
	Addr    string
	Size    int // default 64
	Block   bool
	Span
}

// maxSamples bounds the memory kept for percentiles; later round trips are counted, not kept.
const maxSamples = 4 << 20

// Run runs the phase on a locked OS thread.
func (p RTT) Run() (Result, error) {
	p.Size = or(p.Size, 64)
	if err := p.Span.check(); err != nil {
		return Result{}, err
	}
	var fd int
	var err error
	switch p.Network {
	case "udp":
		fd, err = dialUDP(p.Addr, true)
	case "unix":
		if fd, err = DialUnix(p.Addr); err == nil {
			err = unix.SetNonblock(fd, false)
		}
	default:
		return Result{}, fmt.Errorf("load: RTT Network %q; want udp or unix", p.Network)
	}
	if err == nil && !p.Block {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		return Result{}, err
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return Result{}, os.NewSyscallError("setsockopt", err)
	}
	return locked(func() (Result, error) { return p.run(fd) })
}

func (p *RTT) run(fd int) (Result, error) {
	msg := make([]byte, p.Size)
	buf := make([]byte, max(p.Size, 2048))
	samples := make([]time.Duration, 0, 1<<16)
	var done, lost int64
	m := newMeter(p.Span)
	for now := time.Now(); !m.tick(now, done, done*int64(p.Size)); {
		if _, err := unix.Write(fd, msg); err != nil {
			return Result{}, os.NewSyscallError("write", err)
		}
		ok, err := p.await(fd, buf)
		if err != nil {
			return Result{}, err
		}
		end := time.Now()
		if !ok {
			lost++
			now = end
			continue
		}
		if m.measuring && len(samples) < maxSamples {
			samples = append(samples, end.Sub(now))
		}
		if m.measuring {
			done++
		}
		now = end
	}
	r := m.result(p.Network+"-rtt", done, done*int64(p.Size))
	// the meter counted from the first measured round trip; done already excludes the warm-up
	r.Messages, r.Bytes, r.Lost = done, done*int64(p.Size), lost
	percentiles(&r, samples)
	return r, nil
}

// await reads one whole reply; false when a datagram was not answered in time.
func (p *RTT) await(fd int, buf []byte) (bool, error) {
	var deadline time.Time
	for got := 0; got < p.Size; {
		n, err := unix.Read(fd, buf[got:])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN) && !p.Block:
			if deadline.IsZero() {
				deadline = time.Now().Add(time.Second)
			} else if time.Now().After(deadline) {
				if p.Network == "udp" {
					return false, nil // lost: send the next
				}
				return false, errors.New("load: no reply within a second")
			}
			continue
		case errors.Is(err, unix.EAGAIN) && p.Network == "udp":
			return false, nil // SO_RCVTIMEO
		case err != nil:
			return false, os.NewSyscallError("read", err)
		case n == 0:
			return false, errors.New("load: the server closed the connection")
		}
		if p.Network == "udp" {
			return n == p.Size, nil
		}
		got += n
	}
	return true, nil
}
