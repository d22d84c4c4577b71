//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock_test

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/internal/testfd"
)

// A drained or full socket answers "not now" on every loop iteration: that answer must not
// allocate (it did, as an *os.SyscallError, once per drained read), and is still Temporary.
// Other errors keep their *os.SyscallError with the call's name.
func TestNotNowDoesNotAllocate(t *testing.T) {
	a, _ := testfd.Socketpair(t) // nothing is written to a
	b, _ := testfd.Socketpair(t) // b's peer never reads
	for _, fd := range []int{a, b} {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	udp, err := sock.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close(udp)
	buf := make([]byte, 64)
	rb := sock.NewRecvBatch(4, 64)
	calls := map[string]func() error{
		"read":  func() error { _, err := sock.Read(a, buf); return err },
		"recv":  func() error { _, err := rb.Recv(udp); return err },
		"write": func() error { _, err := sock.Write(b, buf); return err },
	}
	for sock.Temporary(calls["write"]()) == false { // fill b's send buffer
	}
	for name, call := range calls {
		if err := call(); !sock.Temporary(err) {
			t.Fatalf("%s: %v, want EAGAIN", name, err)
		}
		if n := testing.AllocsPerRun(100, func() { call() }); n != 0 {
			t.Errorf("%s: %v allocations per EAGAIN", name, n)
		}
	}
	_, err = sock.Read(-1, buf)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "read" || !errors.Is(err, unix.EBADF) {
		t.Fatalf("read(-1): %#v", err)
	}
}
