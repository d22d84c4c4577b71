package loop_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
)

func TestLockOSThread(t *testing.T) {
	l := newLoop(t, loop.Options{LockOSThread: true})
	tid := -1
	moved := 0
	n := 0
	var tick func()
	tick = func() {
		if id := unix.Gettid(); tid == -1 {
			tid = id
		} else if id != tid {
			moved++
		}
		runtime.Gosched() // give the scheduler every chance to move an unlocked goroutine
		if n++; n < 200 {
			l.CallLater(0, tick)
		} else {
			l.Stop()
		}
	}
	l.CallSoon(tick)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 { // churn: other goroutines that block in syscalls and move between threads
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
	}
	run(t, l)
	close(stop)
	wg.Wait()
	if moved != 0 {
		t.Fatalf("loop goroutine changed OS thread %d times with LockOSThread", moved)
	}
}
