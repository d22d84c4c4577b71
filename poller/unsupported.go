//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package poller

import "time"

// Poller stands in on operating systems without a backend (Windows until its IOCP backend lands):
// New fails with ErrUnsupported and every method returns it.
type Poller struct{}

// New returns ErrUnsupported.
func New() (*Poller, error) { return nil, ErrUnsupported }

// Add returns ErrUnsupported.
func (*Poller) Add(fd int, token uint64, in Interest) error { return ErrUnsupported }

// Modify returns ErrUnsupported.
func (*Poller) Modify(fd int, token uint64, in Interest) error { return ErrUnsupported }

// Delete returns ErrUnsupported.
func (*Poller) Delete(fd int) error { return ErrUnsupported }

// Wait returns ErrUnsupported.
func (*Poller) Wait(events []Event, timeout time.Duration) (int, error) { return 0, ErrUnsupported }

// Wake returns ErrUnsupported.
func (*Poller) Wake() error { return ErrUnsupported }

// Close returns nil.
func (*Poller) Close() error { return nil }
