package unixstream_test

import (
	"errors"

	"golang.org/x/sys/windows"
)

// noUnixSockets says why the tests cannot run: only when the system refuses AF_UNIX stream
// sockets outright (WSAEAFNOSUPPORT: Wine, Windows before 10 1803), so that any other failure on
// Windows fails the tests.
func noUnixSockets() string {
	s, err := windows.Socket(windows.AF_UNIX, windows.SOCK_STREAM, 0)
	if errors.Is(err, windows.WSAEAFNOSUPPORT) {
		return "this system has no AF_UNIX sockets (WSAEAFNOSUPPORT)"
	}
	if err == nil {
		windows.Closesocket(s)
	}
	return ""
}
