package testfd

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// Socketpair returns a connected, non-blocking TCP pair on 127.0.0.1 (Wine has no AF_UNIX, and
// Windows has no socketpair), closed when the test ends.
func Socketpair(t testing.TB) (a, b int) {
	t.Helper()
	ln, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.Closesocket(ln)
	if err := windows.Bind(ln, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(ln, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	c, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.Connect(c, sa); err != nil {
		windows.Closesocket(c)
		t.Fatal(err)
	}
	s, err := wsa.Accept(ln)
	if err != nil {
		windows.Closesocket(c)
		t.Fatal(err)
	}
	for _, h := range []windows.Handle{c, s} {
		if err := wsa.SetNonblock(h); err != nil {
			t.Fatal(err)
		}
		windows.SetsockoptInt(h, windows.IPPROTO_TCP, windows.TCP_NODELAY, 1)
	}
	t.Cleanup(func() { windows.Closesocket(c); windows.Closesocket(s) })
	return int(c), int(s)
}

// Write sends p on the socket fd.
func Write(fd int, p []byte) (int, error) { return wsa.Send(windows.Handle(fd), p) }

// Read receives into p from the socket fd.
func Read(fd int, p []byte) (int, error) { return wsa.Recv(windows.Handle(fd), p) }

// Shutdown shuts both directions of the socket fd down.
func Shutdown(fd int) error { return windows.Shutdown(windows.Handle(fd), windows.SHUT_RDWR) }

// Close closes the socket fd.
func Close(fd int) error { return windows.Closesocket(windows.Handle(fd)) }

// Socket returns a socket that the caller owns and closes with Close (a UDP socket).
func Socket(t testing.TB) int {
	t.Helper()
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		t.Fatal(err)
	}
	return int(s)
}

// Open counts this process's open handles (GetProcessHandleCount): sockets are handles, so a
// socket left open shows, though so does any other handle the runtime opens meanwhile.
func Open(t testing.TB) int {
	t.Helper()
	var n uint32
	r, _, e := procGetProcessHandleCount.Call(uintptr(windows.CurrentProcess()), uintptr(unsafe.Pointer(&n)))
	if r == 0 {
		t.Fatal(e)
	}
	return int(n)
}

var procGetProcessHandleCount = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetProcessHandleCount")

// Wine reports whether the process runs under Wine, and its version: tests skip what Wine does
// not model (AF_UNIX, ICMP reports on UDP sockets, the standard library's UDP), and only there,
// so that a failure on real Windows still shows.
func Wine() (version string, ok bool) {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return "", false
	}
	r, _, _ := proc.Call()
	// r points into ntdll's static data, not Go memory.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r))), true
}

// Sentinel is the Unix check for a descriptor closed twice; Windows handles are not handed out
// lowest-number-first, so a second close would not meet a sentinel: here it checks nothing.
func Sentinel(testing.TB) (check func()) { return func() {} }
