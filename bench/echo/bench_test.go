//go:build linux

package echo_test

import (
	"testing"
	"time"

	"github.com/aioloop/aioloop/bench/echo"
	"github.com/aioloop/aioloop/bench/load"
)

// The in-process comparisons: server and load generator share this process (and, on a small
// machine, its cores), so the figures are for benchstat between implementations, not for
// absolute claims; make demo separates them. Each iteration is one datagram, message or round
// trip; allocations are the whole process's, the generator's included (it allocates none in its
// loops).

func benchImpls(b *testing.B, fn func(b *testing.B, s echo.Server, path string)) {
	for _, impl := range echo.Impls {
		b.Run("impl="+impl, func(b *testing.B) {
			s, path := start(b, impl)
			b.ReportAllocs()
			b.ResetTimer()
			fn(b, s, path)
		})
	}
}

func span(b *testing.B) load.Span { return load.Span{Count: int64(b.N), Duration: time.Hour} }

func report(b *testing.B, r load.Result, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if r.P50 > 0 {
		b.ReportMetric(float64(r.P50.Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(r.P99.Nanoseconds()), "p99-ns")
		return
	}
	b.ReportMetric(r.PerSecond(), "msgs/s")
	b.ReportMetric(r.MBPerSecond(), "MB/s")
}

// BenchmarkUDPEcho: 4 sockets with 32 datagrams of 64 bytes in flight each.
func BenchmarkUDPEcho(b *testing.B) {
	benchImpls(b, func(b *testing.B, s echo.Server, _ string) {
		r, err := load.UDP{Addr: s.UDPAddr(), Span: span(b)}.Run()
		report(b, r, err)
	})
}

// BenchmarkUDPRoundTrip: one 64-byte datagram at a time; ns/op is the mean round trip.
func BenchmarkUDPRoundTrip(b *testing.B) {
	benchImpls(b, func(b *testing.B, s echo.Server, _ string) {
		r, err := load.RTT{Network: "udp", Addr: s.UDPAddr(), Span: span(b)}.Run()
		report(b, r, err)
	})
}

// BenchmarkUnixSmall: 16 connections with 16 messages of 64 bytes in flight each.
func BenchmarkUnixSmall(b *testing.B) {
	benchImpls(b, func(b *testing.B, _ echo.Server, path string) {
		r, err := load.Stream{Path: path, Span: span(b)}.Run()
		report(b, r, err)
	})
}

// BenchmarkUnixBulk: 16 connections with 256 KiB in flight each, in 4 KiB chunks; an iteration is
// one 4 KiB chunk echoed (b.SetBytes makes go test print MB/s).
func BenchmarkUnixBulk(b *testing.B) {
	benchImpls(b, func(b *testing.B, _ echo.Server, path string) {
		b.SetBytes(4096)
		r, err := load.Stream{Path: path, Msg: 4096, Chunk: 4096, Span: span(b)}.Run()
		report(b, r, err)
	})
}

// BenchmarkUnixRoundTrip: one 64-byte message at a time; ns/op is the mean round trip.
func BenchmarkUnixRoundTrip(b *testing.B) {
	benchImpls(b, func(b *testing.B, _ echo.Server, path string) {
		r, err := load.RTT{Network: "unix", Addr: path, Span: span(b)}.Run()
		report(b, r, err)
	})
}
