//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"crypto/tls"
	"io"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// The TLS benchmarks run an aioloop TLS server and the standard library's (crypto/tls over
// net.UnixListener, a goroutine per connection) in the same run, against the same client:
// crypto/tls over net.UnixConn on a thread of its own. TLS 1.3, AES-128-GCM.

// serveStdTLS serves path with crypto/tls and handle on a goroutine per connection.
func serveStdTLS(b *testing.B, path string, handle func(net.Conn)) (stop func()) {
	cfg := testcert.Get().ServerConfig(tls.VersionTLS13)
	return serveStd(b, path, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			handle(tc)
		}
		tc.Close()
	})
}

func serveLoopTLS(b *testing.B, path string, mk func() unixstream.BaseProtocol) (stop func()) {
	return serveLoopOpts(b, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(tls.VersionTLS13)}, mk)
}

// dialTLS connects the benchmarks' TLS client.
func dialTLS(b *testing.B, path string) *tls.Conn {
	nc, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	cc := testcert.Get().ClientConfig(tls.VersionTLS13)
	cc.ServerName = testcert.ServerName
	c := tls.Client(nc, cc)
	if err := c.Handshake(); err != nil {
		b.Fatal(err)
	}
	return c
}

// stdEcho echoes on a goroutine.
func stdEcho(c net.Conn) {
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// Small-message TLS round trips: 64 bytes written, 64 bytes echoed back; the 50th and 99th
// percentiles of the round trip are reported too.
func BenchmarkTLSRoundTrip64(b *testing.B) {
	trips := func(b *testing.B, path string) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c := dialTLS(b, path)
		defer c.Close()
		msg, buf := make([]byte, 64), make([]byte, 64)
		for range 100 { // warm up: tickets, buffers
			c.Write(msg)
			io.ReadFull(c, buf)
		}
		lat := make([]int64, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatal(err)
			}
			lat[i] = int64(time.Since(start))
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
	}
	b.Run("aioloop", func(b *testing.B) {
		path := sockPath(b, "rt.sock")
		stop := serveLoopTLS(b, path, func() unixstream.BaseProtocol { return &leanEcho{} })
		trips(b, path)
		stop()
	})
	b.Run("std", func(b *testing.B) {
		path := sockPath(b, "rt.sock")
		stop := serveStdTLS(b, path, stdEcho)
		trips(b, path)
		stop()
	})
}

// TLS bulk throughput into the server: the client writes 16 KiB at a time (a record each); one op
// is one MiB read and decrypted by the server.
func BenchmarkTLSBulk16K(b *testing.B) {
	pump := func(b *testing.B, path string, mib chan struct{}) {
		c := dialTLS(b, path)
		defer c.Close()
		chunk := make([]byte, 16*1024)
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			runtime.LockOSThread()
			for range b.N * 64 {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
		for range b.N {
			<-mib
		}
		b.StopTimer()
	}
	b.Run("aioloop", func(b *testing.B) {
		path := sockPath(b, "bulk.sock")
		mib := make(chan struct{}, 1024)
		stop := serveLoopTLS(b, path, func() unixstream.BaseProtocol { return &sink{mib: mib} })
		pump(b, path, mib)
		stop()
	})
	b.Run("std", func(b *testing.B) {
		path := sockPath(b, "bulk.sock")
		mib := make(chan struct{}, 1024)
		stop := serveStdTLS(b, path, stdSink(mib))
		pump(b, path, mib)
		stop()
	})
}
