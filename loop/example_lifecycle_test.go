//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aioloop/aioloop/loop"
)

// Start runs the loop on a goroutine of its own; Do and DoValue reach loop-owned state from any
// other goroutine; Shutdown stops and closes the loop once everything on it has closed.
func ExampleLoop_Start() {
	l, _ := loop.New(loop.Options{Name: "background"})
	done, err := l.Start(context.Background())
	if err != nil {
		panic(err)
	}

	ticks := 0 // loop-owned: only functions the loop runs touch it
	var tick func()
	tick = func() { ticks++; l.CallLater(time.Millisecond, tick) }
	l.Do(context.Background(), func() { tick() })

	time.Sleep(20 * time.Millisecond)
	n, _ := loop.DoValue(context.Background(), l, func() int { return ticks })
	fmt.Println("ticked:", n > 0)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println("shutdown:", l.Shutdown(ctx))
	fmt.Println("run returned:", <-done, "closed:", l.IsClosed())
	// Output:
	// ticked: true
	// shutdown: <nil>
	// run returned: <nil> closed: true
}

// Monitoring: the exception handler sees every recovered panic (and, in debug mode, every slow
// callback); Stats counts the loop's work and can be read from any goroutine, for a metrics
// exporter for instance.
func ExampleLoop_SetExceptionHandler() {
	l, _ := loop.New(loop.Options{})
	defer l.Close()
	l.SetExceptionHandler(func(e loop.Exception) {
		fmt.Printf("exception: panic %q in %s\n", e.Panic, e.Callback)
	})
	l.CallSoon(func() { panic("a bug in one callback") })
	l.CallSoon(func() { fmt.Println("the next callback still runs") })
	l.CallLater(time.Millisecond, l.Stop)
	l.Run(context.Background())

	s := l.Stats()
	fmt.Printf("callbacks %d, timers fired %d, panics %d, exceptions %d\n", s.Callbacks, s.TimersFired, s.Panics, s.Exceptions)
	// Output:
	// exception: panic "a bug in one callback" in github.com/aioloop/aioloop/loop_test.ExampleLoop_SetExceptionHandler.func2
	// the next callback still runs
	// callbacks 3, timers fired 1, panics 1, exceptions 1
}
