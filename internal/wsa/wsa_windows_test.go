package wsa_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// A Winsock error answers to its POSIX name and to its own, through os.SyscallError too.
func TestTranslatedErrorsMatchBothNames(t *testing.T) {
	for win, posix := range map[syscall.Errno]syscall.Errno{
		windows.WSAEWOULDBLOCK:  syscall.EAGAIN,
		windows.WSAECONNRESET:   syscall.ECONNRESET,
		windows.WSAENOTSOCK:     syscall.EBADF,
		windows.WSAEADDRINUSE:   syscall.EADDRINUSE,
		windows.WSAEAFNOSUPPORT: syscall.EAFNOSUPPORT,
	} {
		err := os.NewSyscallError("call", wsa.Translate(win))
		if !errors.Is(err, posix) || !errors.Is(err, win) {
			t.Errorf("%v: Is(%v) %v, Is(%v) %v", err, posix, errors.Is(err, posix), win, errors.Is(err, win))
		}
		var e syscall.Errno
		if !errors.As(err, &e) || e != posix {
			t.Errorf("%v: As gives %v, want %v", err, e, posix)
		}
	}
	if err := wsa.Translate(windows.ERROR_ACCESS_DENIED); err != windows.ERROR_ACCESS_DENIED {
		t.Errorf("an error without a POSIX name changed: %v", err)
	}
	if wsa.Errno(0) != nil {
		t.Error("Errno(0) is not nil")
	}
}

// A would-block on the hot path costs no allocation.
func TestWouldBlockDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = wsa.Errno(windows.WSAEWOULDBLOCK) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
