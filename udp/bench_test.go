//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// BenchmarkEcho measures a UDP echo server on loopback: aioloop (one loop) against the standard
// library (one goroutine on net.UDPConn with ReadFromUDPAddrPort/WriteToUDPAddrPort), in the same
// run and driven by the same client: a connected net.UDPConn keeping a window of 64-byte datagrams
// in flight. One op is one datagram echoed; allocs/op counts the server's allocations too.
func BenchmarkEcho(b *testing.B) {
	b.Run("aioloop", func(b *testing.B) { benchEcho(b, loop.Options{}) })
	b.Run("aioloop-spin10us", func(b *testing.B) { benchEcho(b, loop.Options{PollSpin: 10 * time.Microsecond}) })
	b.Run("std", func(b *testing.B) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if v, ok := testfd.Wine(); ok && err != nil {
			b.Skipf("the standard library's UDP fails under Wine %s: %v", v, err)
		}
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				c.WriteToUDPAddrPort(buf[:n], from)
			}
		})
		drive(b, c.LocalAddr().String())
		c.Close()
		wg.Wait()
	})
}

// benchEcho is the aioloop side of BenchmarkEcho.
func benchEcho(b *testing.B, opts loop.Options) {
	l, err := loop.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &echoProto{} },
		udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	drive(b, srv.LocalAddr().String())
	l.CallSoonThreadsafe(func() { srv.Close(); l.CallSoon(l.Stop) })
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	// How deep the receive batches ran: datagrams per readiness event dispatched (recvmmsg on
	// Linux; on Windows a loop of recvfrom calls until WSAEWOULDBLOCK, one extra call per event).
	if ev := l.Stats().Events; ev > 0 {
		b.ReportMetric(float64(b.N)/float64(ev), "datagrams/event")
	}
}

// driver is the benchmark's client socket: a connected net.UDPConn on Unix, a blocking Winsock
// socket on Windows (where the standard library's UDP fails under Wine).
type driver interface {
	Write(p []byte) (int, error)
	// ReadTimeout reads one datagram, or fails with os.ErrDeadlineExceeded after d.
	ReadTimeout(p []byte, d time.Duration) (int, error)
	Close() error
}

// drive echoes b.N datagrams through the server at addr, window datagrams in flight, and reports
// datagrams per second. A datagram lost on the way is replaced after a second and counted.
func drive(b *testing.B, addr string) {
	const window = 32
	c, err := dialDriver(addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 64)
	buf := make([]byte, 128)
	lost := 0
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	inflight := 0
	for sent := 0; sent < min(window, b.N); sent++ {
		c.Write(msg)
		inflight++
	}
	sent := inflight
	for got := 0; got < b.N; {
		if _, err := c.ReadTimeout(buf, time.Second); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				b.Fatal(err)
			}
			lost += inflight
			inflight = 0
		} else {
			got++
			inflight--
		}
		for inflight < window && sent < b.N {
			c.Write(msg)
			sent++
			inflight++
		}
		if inflight == 0 && got < b.N { // everything in flight was lost: send what remains
			sent = got
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "datagrams/s")
	b.ReportMetric(float64(lost), "lost")
}
