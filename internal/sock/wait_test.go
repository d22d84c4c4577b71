//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/sock"
)

// A spent timeout (zero or negative: a deadline already past) checks once and reports ETIMEDOUT;
// it never waits for ever. The read end of a pipe never becomes writable, as a connect that never
// finishes.
func TestWaitConnectedWithASpentTimeout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	raw, _ := r.SyscallConn()
	for _, timeout := range []time.Duration{-time.Second, 0, time.Microsecond} {
		done := make(chan error, 1)
		go raw.Control(func(fd uintptr) { done <- sock.WaitConnected(int(fd), timeout) })
		select {
		case err := <-done:
			if !errors.Is(err, unix.ETIMEDOUT) {
				t.Fatalf("timeout %v: %v; want ETIMEDOUT", timeout, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timeout %v: WaitConnected waits for ever", timeout)
		}
	}
}
