//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop_test

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
)

// Each benchmark runs aioloop ("aioloop") and the standard library's nearest equivalent ("std") as
// sub-benchmarks of one run, so that benchstat can set them side by side.

// CallSoon: schedule on the loop goroutine and run, 256 callbacks per iteration. The std peer is a
// slice of funcs run in order: the floor for any queue of callbacks.
func BenchmarkCallSoon(b *testing.B) {
	n := 0
	fn := func() { n++ }
	b.Run("aioloop", func(b *testing.B) {
		l := newLoop(b, loop.Options{})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.CallSoon(fn)
			if i++; i%256 == 0 {
				l.RunOnce()
			}
		}
		l.RunOnce()
	})
	b.Run("std", func(b *testing.B) {
		q := make([]func(), 0, 256)
		b.ReportAllocs()
		for b.Loop() {
			if q = append(q, fn); len(q) == 256 {
				for _, f := range q {
					f()
				}
				q = q[:0]
			}
		}
	})
}

// CallSoonThreadsafe: another goroutine hands callbacks to a running loop. The std peer hands them
// to a worker goroutine over a buffered channel.
func BenchmarkCallSoonThreadsafe(b *testing.B) {
	fn := func() {}
	b.Run("aioloop", func(b *testing.B) {
		l := newLoop(b, loop.Options{})
		done := make(chan error)
		go func() { done <- l.Run(context.Background()) }()
		b.ReportAllocs()
		for b.Loop() {
			l.CallSoonThreadsafe(fn)
		}
		l.CallSoonThreadsafe(l.Stop)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
	b.Run("std", func(b *testing.B) {
		ch := make(chan func(), 1024)
		var wg sync.WaitGroup
		wg.Go(func() {
			for f := range ch {
				f()
			}
		})
		b.ReportAllocs()
		for b.Loop() {
			ch <- fn
		}
		close(ch)
		wg.Wait()
	})
}

// Timer schedule plus fire, 256 due timers per iteration. The std peer is time.AfterFunc, whose
// callbacks run on goroutines of their own.
func BenchmarkTimerFire(b *testing.B) {
	b.Run("aioloop", func(b *testing.B) {
		l := newLoop(b, loop.Options{})
		fired := 0
		fn := func() { fired++ }
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.CallLater(0, fn)
			if i++; i%256 == 0 {
				l.RunOnce()
			}
		}
		l.RunOnce()
	})
	b.Run("std", func(b *testing.B) {
		var wg sync.WaitGroup
		fn := func() { wg.Done() }
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			wg.Add(1)
			time.AfterFunc(0, fn)
			if i++; i%256 == 0 {
				wg.Wait()
			}
		}
		wg.Wait()
	})
}

// Timer schedule plus cancel before it fires (time-outs that rarely expire). std: AfterFunc + Stop.
func BenchmarkTimerCancel(b *testing.B) {
	fn := func() {}
	b.Run("aioloop", func(b *testing.B) {
		l := newLoop(b, loop.Options{})
		b.ReportAllocs()
		for b.Loop() {
			h := l.CallLater(time.Hour, fn)
			h.Cancel()
		}
	})
	b.Run("std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.AfterFunc(time.Hour, fn).Stop()
		}
	})
}

// echoPeer echoes every byte it reads on fd until EOF, from a thread of its own making blocking
// reads and writes, as a peer process would: the same peer for both sides of the round-trip
// benchmark, and one that shares no scheduler tricks with either (a peer on Go's netpoller would
// let the std side run both ends of the ping-pong on one thread).
func echoPeer(b *testing.B, fd int) (wait func()) {
	peer, err := unix.Dup(fd)
	if err != nil {
		b.Fatal(err)
	}
	unix.SetNonblock(peer, false)
	var wg sync.WaitGroup
	wg.Go(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer unix.Close(peer)
		var buf [512]byte
		for {
			n, err := unix.Read(peer, buf[:])
			if n <= 0 || err != nil {
				return
			}
			if _, err := unix.Write(peer, buf[:n]); err != nil {
				return
			}
		}
	})
	return wg.Wait
}

// One readiness round trip through a socketpair: write a byte to an echo peer and wait for it to
// come back. aioloop waits with AddReader on a running loop; std waits in net.Conn.Read on a
// goroutine parked in Go's own netpoller. PollSpin variants show what spinning before sleeping buys.
func BenchmarkReadinessRoundTrip(b *testing.B) {
	b.Run("aioloop", func(b *testing.B) { benchRoundTrip(b, loop.Options{}) })
	b.Run("aioloop-spin10us", func(b *testing.B) { benchRoundTrip(b, loop.Options{PollSpin: 10 * time.Microsecond}) })
	b.Run("std", func(b *testing.B) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		f := os.NewFile(uintptr(fds[0]), "a")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		wait := echoPeer(b, fds[1])
		unix.Close(fds[1])
		one := []byte{1}
		var buf [1]byte
		b.ReportAllocs()
		for b.Loop() {
			c.Write(one)
			io.ReadFull(c, buf[:])
		}
		b.StopTimer()
		c.(*net.UnixConn).CloseWrite()
		wait()
	})
}

func benchRoundTrip(b *testing.B, opts loop.Options) {
	l := newLoop(b, opts)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	a := fds[0]
	defer unix.Close(a)
	unix.SetNonblock(a, true)
	wait := echoPeer(b, fds[1])
	unix.Close(fds[1])
	one := []byte{1}
	var buf [1]byte
	trips := 0
	b.ReportAllocs()
	b.ResetTimer()
	l.AddReader(a, func() {
		if n, _ := unix.Read(a, buf[:]); n != 1 {
			return
		}
		if trips++; trips >= b.N {
			l.RemoveReader(a)
			l.Stop()
			return
		}
		unix.Write(a, one)
	})
	l.CallSoon(func() { unix.Write(a, one) })
	run(b, l)
	b.StopTimer()
	unix.Shutdown(a, unix.SHUT_WR)
	wait()
}
