//go:build darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

import (
	"net/netip"
	"syscall"
)

// QueuedError is Linux's error-queue entry; nothing fills it elsewhere.
type QueuedError struct {
	Dest     Sockaddr
	Errno    syscall.Errno
	Origin   uint8
	Type     uint8
	Code     uint8
	Info     uint32
	Offender netip.Addr
}

// SetRecvErr is Linux's for now.
func SetRecvErr(int, int) error { return errNoInfo }

// ErrQueue is Linux's for now.
type ErrQueue struct{}

// NewErrQueue makes a reader that finds nothing.
func NewErrQueue() *ErrQueue { return new(ErrQueue) }

// Recv finds nothing.
func (*ErrQueue) Recv(int, *QueuedError) (bool, error) { return false, errNoInfo }

// RecvErrOn: no error queue here.
func RecvErrOn(int, int) bool { return false }
