package udp_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// The offload benchmarks: 1,200-byte (QUIC-sized) datagrams on loopback, aioloop against Go's net
// in the same run, in datagrams per second. Loopback is an upper bound for GSO and GRO: nothing on
// the way does per-datagram work (real NICs are reported to give 1.3x to 2.4x; see README).

const (
	quicSize = 1200
	runLen   = 50 // datagrams per GSO send: 60,000 bytes, within one UDP send's 65,507
)

// gsoBlaster sends GSO runs of runLen datagrams to addr from its own goroutine until stop is set: a
// sender fast enough that the receiver is what is measured.
func gsoBlaster(b *testing.B, to netip.AddrPort, stop *atomic.Bool) (wait func()) {
	fd, err := sock.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	var d [8]sock.Datagram // eight GSO runs per sendmmsg
	run := make([]byte, runLen*quicSize)
	for i := range d {
		d[i].Data = run
		d[i].Segment = quicSize
		d[i].To.SetAddrPort(to, syscall.AF_INET, nil)
	}
	batch := sock.NewSendBatch(len(d))
	var wg sync.WaitGroup
	wg.Go(func() {
		defer sock.Close(fd)
		for !stop.Load() {
			if _, err := batch.Send(fd, d[:]); err != nil && !sock.Temporary(err) {
				panic(err) // a receiver would wait for ever
			}
		}
	})
	return wg.Wait
}

// BenchmarkGROReceive: a receiver of GSO bursts. aioloop with GRO (one receive per burst, split
// into datagrams for DatagramReceived) against Go's net (ReadFromUDPAddrPort, one datagram per
// call; the kernel segments the burst for a socket without GRO). One op is one datagram received.
func BenchmarkGROReceive(b *testing.B) {
	b.Run("aioloop-gro", func(b *testing.B) { benchAioloopReceive(b, udp.OffloadAuto) })
	b.Run("aioloop-nogro", func(b *testing.B) { benchAioloopReceive(b, udp.OffloadOff) })
	b.Run("std", func(b *testing.B) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		c.SetReadBuffer(4 << 20)
		var stop atomic.Bool
		wait := gsoBlaster(b, c.LocalAddr().(*net.UDPAddr).AddrPort(), &stop)
		buf := make([]byte, 65536)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "datagrams/s")
		b.StopTimer()
		stop.Store(true)
		wait()
	})
}

type counter struct {
	n, want int
	l       *loop.Loop
}

func (c *counter) ConnectionMade(*udp.Transport) {}
func (c *counter) DatagramReceived([]byte, udp.Addr) {
	if c.n++; c.n == c.want {
		c.l.Stop()
	}
}
func (c *counter) ErrorReceived(error)  {}
func (c *counter) ConnectionLost(error) {}

func benchAioloopReceive(b *testing.B, gro udp.Offload) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c := &counter{want: b.N, l: l}
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return c },
		udp.Options{LocalAddr: "127.0.0.1:0", GRO: gro, ReceiveBuffer: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	var stop atomic.Bool
	wait := gsoBlaster(b, srv.LocalAddr().AddrPort(), &stop)
	runMeasured(b, l)
	stop.Store(true)
	wait()
	if gro == udp.OffloadAuto && srv.Offload().GROBuffers == 0 {
		b.Fatal("no GRO buffer received")
	}
}

// BenchmarkGSOSend: a sender of 1,200-byte datagrams to one peer. aioloop with SendSegments (50
// datagrams per GSO send) against Go's net (WriteToUDPAddrPort, one datagram per call). The peer
// is a bound socket that never reads: the kernel drops what it cannot queue, and the sending side
// is what is measured. One op is one datagram sent.
func BenchmarkGSOSend(b *testing.B) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	to := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	b.Run("aioloop-gso", func(b *testing.B) { benchAioloopSend(b, to, udp.OffloadAuto) })
	b.Run("aioloop-nogso", func(b *testing.B) { benchAioloopSend(b, to, udp.OffloadOff) })
	b.Run("std", func(b *testing.B) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		msg := make([]byte, quicSize)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			if _, err := c.WriteToUDPAddrPort(msg, to); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "datagrams/s")
	})
}

func benchAioloopSend(b *testing.B, to netip.AddrPort, gso udp.Offload) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	cli, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &echoProto{} },
		udp.Options{LocalAddr: "127.0.0.1:0", GSO: gso})
	if err != nil {
		b.Fatal(err)
	}
	run := make([]byte, runLen*quicSize)
	dest := udp.AddrFromAddrPort(to)
	sent := 0
	var burst func()
	burst = func() { // 16 runs a callback, so that the loop turns between them
		for range 16 {
			if sent >= b.N {
				l.Stop()
				return
			}
			k := min(runLen, b.N-sent)
			if err := cli.SendSegments(run[:k*quicSize], quicSize, dest); err != nil {
				b.Error(err)
				l.Stop()
				return
			}
			sent += k
		}
		l.CallSoon(burst)
	}
	l.CallSoon(burst)
	runMeasured(b, l)
	if q := cli.WriteBufferSize(); q != 0 {
		b.Logf("%d bytes still queued", q)
	}
}

// runMeasured runs l as the benchmark's timed part, reporting b.N datagrams a second and the
// allocations, and stops the timer when l stops.
func runMeasured(b *testing.B, l *loop.Loop) {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := l.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "datagrams/s")
	b.StopTimer()
}
