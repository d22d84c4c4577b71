//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop_test

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
)

// New, Run and Stop: the loop runs callbacks on the goroutine that calls Run until one stops it.
func Example() {
	l, err := loop.New(loop.Options{Name: "example"})
	if err != nil {
		panic(err)
	}
	defer l.Close()

	l.CallSoon(func() {
		fmt.Println("hello from the loop")
		l.CallSoon(func() {
			fmt.Println("scheduled by a callback, run in the next batch")
			l.Stop()
		})
	})
	if err := l.Run(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println("stopped")
	// Output:
	// hello from the loop
	// scheduled by a callback, run in the next batch
	// stopped
}

// CallLater runs callbacks in deadline order; a cancelled timer never runs.
func ExampleLoop_CallLater() {
	l, _ := loop.New(loop.Options{})
	defer l.Close()

	l.CallLater(30*time.Millisecond, func() { fmt.Println("30 ms"); l.Stop() })
	l.CallLater(10*time.Millisecond, func() { fmt.Println("10 ms") })
	h := l.CallLater(20*time.Millisecond, func() { fmt.Println("never") })
	fmt.Println("cancelled:", h.Cancel())

	l.Run(context.Background())
	// Output:
	// cancelled: true
	// 10 ms
	// 30 ms
}

// AddReader watches a raw file descriptor: here one end of a socketpair.
func ExampleLoop_AddReader() {
	l, _ := loop.New(loop.Options{})
	defer l.Close()
	fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	unix.SetNonblock(fds[0], true) // the loop's descriptors never block

	l.AddReader(fds[0], func() {
		buf := make([]byte, 64)
		n, _ := unix.Read(fds[0], buf)
		fmt.Printf("read %q\n", buf[:n])
		l.RemoveReader(fds[0])
		l.Stop()
	})
	l.CallSoon(func() { unix.Write(fds[1], []byte("ping")) })
	l.Run(context.Background())
	// Output: read "ping"
}
