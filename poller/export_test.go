//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package poller

// WakeWrites counts the wake-ups Wake actually wrote, so that a test can see the coalescing.
func (p *Poller) WakeWrites() uint64 { return p.wakes.Load() }
