//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sock

import "golang.org/x/sys/unix"

// The system's address constants, for the OS-neutral Sockaddr code.
const (
	afInet      = unix.AF_INET
	afInet6     = unix.AF_INET6
	afUnix      = unix.AF_UNIX
	sizeofInet4 = unix.SizeofSockaddrInet4
	sizeofInet6 = unix.SizeofSockaddrInet6
	sunPathLen  = len(unix.RawSockaddrUnix{}.Path)
)

type rawSockaddrAny = unix.RawSockaddrAny
