// Package wsa gives Winsock's errors the POSIX names the rest of aioloop tests for, and binds the
// few Windows calls that golang.org/x/sys/windows lacks. Windows only.
//
// A Winsock call fails with a windows.Errno such as WSAEWOULDBLOCK (10035); Go's syscall package
// on Windows defines EAGAIN, ECONNRESET and the rest as different, invented numbers, so a
// transport that asks errors.Is(err, syscall.EAGAIN) would never match. Translate wraps the first
// in an *Error that matches both: errors.Is accepts either name, errors.As to a syscall.Errno
// yields the POSIX one, and the message is Windows' own.
package wsa

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// Error is a Winsock error with its POSIX counterpart.
type Error struct {
	Win   windows.Errno // what the call returned
	Posix syscall.Errno // the name the portable code tests for
}

func (e *Error) Error() string { return e.Win.Error() }

// Is matches the POSIX errno and the Windows one.
func (e *Error) Is(target error) bool {
	t, ok := target.(syscall.Errno)
	return ok && (t == e.Posix || t == e.Win)
}

// As yields the POSIX errno to a *syscall.Errno target.
func (e *Error) As(target any) bool {
	if p, ok := target.(*syscall.Errno); ok {
		*p = e.Posix
		return true
	}
	return false
}

// Timeout reports whether the error is a timeout (net.Error's method).
func (e *Error) Timeout() bool { return e.Posix == syscall.ETIMEDOUT }

// Temporary reports whether trying again may succeed.
func (e *Error) Temporary() bool { return e.Posix == syscall.EAGAIN || e.Posix == syscall.EINTR }

// The Winsock errors with a POSIX name; the rest pass through unchanged. Allocated once, so that a
// would-block on the hot path costs nothing.
var table = map[windows.Errno]*Error{}

func init() {
	for _, p := range []struct {
		win   windows.Errno
		posix syscall.Errno
	}{
		{windows.WSAEWOULDBLOCK, syscall.EAGAIN},
		{windows.WSAEINTR, syscall.EINTR},
		{windows.WSAEBADF, syscall.EBADF},
		{windows.WSAENOTSOCK, syscall.EBADF},
		{windows.WSAEINVAL, syscall.EINVAL},
		{windows.WSAEMFILE, syscall.EMFILE},
		{windows.WSAEMSGSIZE, syscall.EMSGSIZE},
		{windows.WSAEADDRINUSE, syscall.EADDRINUSE},
		{windows.WSAEADDRNOTAVAIL, syscall.EADDRNOTAVAIL},
		{windows.WSAEAFNOSUPPORT, syscall.EAFNOSUPPORT},
		{windows.WSAEINPROGRESS, syscall.EINPROGRESS},
		{windows.WSAEALREADY, syscall.EALREADY},
		{windows.WSAENETDOWN, syscall.ENETDOWN},
		{windows.WSAENETUNREACH, syscall.ENETUNREACH},
		{windows.WSAENETRESET, syscall.ENETRESET},
		{windows.WSAECONNABORTED, syscall.ECONNABORTED},
		{windows.WSAECONNRESET, syscall.ECONNRESET},
		{windows.WSAENOBUFS, syscall.ENOBUFS},
		{windows.WSAEISCONN, syscall.EISCONN},
		{windows.WSAENOTCONN, syscall.ENOTCONN},
		{windows.WSAESHUTDOWN, syscall.EPIPE},
		{windows.WSAETIMEDOUT, syscall.ETIMEDOUT},
		{windows.WSAECONNREFUSED, syscall.ECONNREFUSED},
		{windows.WSAEHOSTUNREACH, syscall.EHOSTUNREACH},
		{windows.WSAEACCES, syscall.EACCES},
		{windows.WSAEOPNOTSUPP, syscall.EOPNOTSUPP},
		{windows.WSAEPROTONOSUPPORT, syscall.EPROTONOSUPPORT},
		{windows.WSAEFAULT, syscall.EFAULT},
		{windows.ERROR_NOT_FOUND, syscall.ENOENT},
	} {
		table[p.win] = &Error{p.win, p.posix}
	}
}

// Translate returns err with its POSIX name attached when it is a Winsock error that has one.
func Translate(err error) error {
	var e windows.Errno
	if errors.As(err, &e) {
		if w, ok := table[e]; ok {
			return w
		}
	}
	return err
}

// Errno is Translate for a raw error number (0 is nil).
func Errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	if w, ok := table[windows.Errno(e)]; ok {
		return w
	}
	return e
}
