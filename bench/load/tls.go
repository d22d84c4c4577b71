//go:build linux

package load

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// TLS is a TLS phase over the Unix stream socket at Path; the generator is crypto/tls (Config:
// trusting the server's authority, naming the server). Bulk false: ping-pong, one message of Size
// bytes at a time, each round trip timed, read by polling as RTT does ("tls-rtt"). Bulk true:
// Window bytes in flight, written Chunk bytes at a time (a record each) by one goroutine while the
// locked thread reads the echo ("tls-bulk").
type TLS struct {
	Path   string
	Config *tls.Config
	Bulk   bool
	Size   int // ping-pong: default 64
	Chunk  int // bulk: default 16 KiB
	Window int // bulk: default 256 KiB
	Span
}

// Run runs the phase.
func (p TLS) Run() (Result, error) {
	p.Size, p.Chunk, p.Window = or(p.Size, 64), or(p.Chunk, 16<<10), or(p.Window, 256<<10)
	if err := p.Span.check(); err != nil {
		return Result{}, err
	}
	if p.Config == nil {
		return Result{}, errors.New("load: TLS needs a Config")
	}
	if p.Bulk {
		return locked(p.bulk)
	}
	return locked(p.rtt)
}

// pollConn is a net.Conn over a non-blocking socket whose Read polls (spins) until data comes, as
// RTT's does, so that the generator's wake-up is not part of each round trip.
type pollConn struct {
	net.Conn // never called: only the methods below are
	fd       int
}

func (c *pollConn) Read(b []byte) (int, error) {
	deadline := time.Now().Add(time.Second)
	for {
		n, err := unix.Read(c.fd, b)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			if time.Now().After(deadline) {
				return 0, errors.New("load: no reply within a second")
			}
		default:
			return 0, os.NewSyscallError("read", err)
		}
	}
}

func (c *pollConn) Write(b []byte) (int, error) {
	for n := 0; n < len(b); {
		k, err := unix.Write(c.fd, b[n:])
		switch {
		case err == nil:
			n += k
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		default:
			return n, os.NewSyscallError("write", err)
		}
	}
	return len(b), nil
}

func (c *pollConn) Close() error                     { return unix.Close(c.fd) }
func (c *pollConn) SetDeadline(time.Time) error      { return nil }
func (c *pollConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pollConn) SetWriteDeadline(time.Time) error { return nil }

func (p *TLS) rtt() (Result, error) {
	fd, err := DialUnix(p.Path)
	if err != nil {
		return Result{}, err
	}
	c := tls.Client(&pollConn{fd: fd}, p.Config)
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return Result{}, fmt.Errorf("load: TLS handshake: %w", err)
	}
	msg, buf := make([]byte, p.Size), make([]byte, p.Size)
	samples := make([]time.Duration, 0, 1<<16)
	var done int64
	m := newMeter(p.Span)
	for now := time.Now(); !m.tick(now, done, done*int64(p.Size)); {
		if _, err := c.Write(msg); err != nil {
			return Result{}, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return Result{}, err
		}
		end := time.Now()
		if m.measuring {
			if len(samples) < maxSamples {
				samples = append(samples, end.Sub(now))
			}
			done++
		}
		now = end
	}
	r := m.result("tls-rtt", done, done*int64(p.Size))
	r.Messages, r.Bytes = done, done*int64(p.Size)
	percentiles(&r, samples)
	return r, nil
}

func (p *TLS) bulk() (Result, error) {
	nc, err := net.Dial("unix", p.Path)
	if err != nil {
		return Result{}, err
	}
	c := tls.Client(nc, p.Config)
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return Result{}, fmt.Errorf("load: TLS handshake: %w", err)
	}
	var echoed atomic.Int64
	var stop atomic.Bool
	credit := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() { // the writer: Window bytes in flight at most
		chunk := make([]byte, p.Chunk)
		for sent := int64(0); !stop.Load(); sent += int64(p.Chunk) {
			for sent-echoed.Load() > int64(p.Window) && !stop.Load() {
				<-credit
			}
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	buf := make([]byte, 64<<10)
	var got int64
	m := newMeter(p.Span)
	var rerr error
	for now := time.Now(); !m.tick(now, got/int64(p.Chunk), got); now = time.Now() {
		n, err := c.Read(buf)
		if err != nil {
			rerr = err
			break
		}
		got += int64(n)
		echoed.Store(got)
		select {
		case credit <- struct{}{}:
		default:
		}
	}
	r := m.result("tls-bulk", got/int64(p.Chunk), got)
	stop.Store(true)
	select {
	case credit <- struct{}{}:
	default:
	}
	nc.Close() // ends the writer's Write, if it waits
	wg.Wait()
	return r, rerr
}
