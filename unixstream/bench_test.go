//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// Each benchmark runs the aioloop server and the standard library's (net.UnixListener, a goroutine
// per connection) in the same run, against the same client: a thread of its own doing blocking
// reads and writes, as a peer process would.

// serveStd serves path with handle on a goroutine per connection, until the returned stop.
func serveStd(b *testing.B, path string, handle func(net.Conn)) (stop func()) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c); c.Close() })
		}
	})
	return func() { ln.Close(); wg.Wait() }
}

// serveLoop serves path with an aioloop server on a running loop, until the returned stop.
func serveLoop(b *testing.B, path string, mk func() unixstream.BaseProtocol) (stop func()) {
	return serveLoopOpts(b, path, unixstream.ServerOptions{}, mk)
}

// serveLoopOpts is serveLoop with options.
func serveLoopOpts(b *testing.B, path string, opts unixstream.ServerOptions, mk func() unixstream.BaseProtocol) (stop func()) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, mk, path, opts)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	return func() {
		s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		s.WaitClosed(ctx)
		l.CallSoonThreadsafe(l.Stop)
		<-done
		l.Close()
	}
}

// dial connects a blocking client socket for a locked thread.
func dial(b *testing.B, path string) int {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		b.Fatal(err)
	}
	return fd
}

// Small-message round trips: 64 bytes written, 64 bytes echoed back.
func BenchmarkRoundTrip64(b *testing.B) {
	trips := func(b *testing.B, path string) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fd := dial(b, path)
		defer unix.Close(fd)
		msg, buf := make([]byte, 64), make([]byte, 64)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			unix.Write(fd, msg)
			for got := 0; got < 64; {
				n, err := unix.Read(fd, buf[got:])
				if n <= 0 || err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/roundtrip")
	}
	b.Run("aioloop", func(b *testing.B) {
		path := sockPath(b, "rt.sock")
		stop := serveLoop(b, path, func() unixstream.BaseProtocol { return &leanEcho{} })
		trips(b, path)
		b.StopTimer()
		stop()
	})
	b.Run("std", func(b *testing.B) {
		path := sockPath(b, "rt.sock")
		stop := serveStd(b, path, func(c net.Conn) {
			buf := make([]byte, 64*1024)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				c.Write(buf[:n])
			}
		})
		trips(b, path)
		b.StopTimer()
		stop()
	})
}

// sink counts what it reads and signals each full MiB.
type sink struct {
	leanEcho
	n   int
	mib chan struct{}
}

func (s *sink) DataReceived(b []byte) {
	for s.n += len(b); s.n >= 1<<20; s.n -= 1 << 20 {
		s.mib <- struct{}{}
	}
}

// Bulk throughput into the server: the client writes 4 KiB at a time; one op is one MiB read by
// the server.
func BenchmarkBulk4K(b *testing.B) {
	pump := func(b *testing.B, path string, mib chan struct{}) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		fd := dial(b, path)
		defer unix.Close(fd)
		chunk := make([]byte, 4096)
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		b.ResetTimer()
		go func() {
			for range b.N * 256 {
				if _, err := unix.Write(fd, chunk); err != nil {
					return
				}
			}
		}()
		for range b.N {
			<-mib
		}
	}
	b.Run("aioloop", func(b *testing.B) {
		path := sockPath(b, "bulk.sock")
		mib := make(chan struct{}, 1024)
		stop := serveLoop(b, path, func() unixstream.BaseProtocol { return &sink{mib: mib} })
		pump(b, path, mib)
		b.StopTimer()
		stop()
	})
	b.Run("std", func(b *testing.B) {
		path := sockPath(b, "bulk.sock")
		mib := make(chan struct{}, 1024)
		stop := serveStd(b, path, stdSink(mib))
		pump(b, path, mib)
		b.StopTimer()
		stop()
	})
}

// stdSink reads a connection on its goroutine, signalling each full MiB (sink's std twin).
func stdSink(mib chan struct{}) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 64*1024)
		n := 0
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			for n += k; n >= 1<<20; n -= 1 << 20 {
				mib <- struct{}{}
			}
		}
	}
}
