//go:build linux || windows

package poller_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/poller"
)

// epoll and the Windows poller refuse what kqueue silently accepts: a second Add, and Modify of an
// unregistered fd.
func TestEpollStrictRegistration(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	if err := p.Modify(a, 1, poller.Readable); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Modify unregistered = %v, want ENOENT", err)
	}
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(a, 1, poller.Readable); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("second Add = %v, want EEXIST", err)
	}
}
