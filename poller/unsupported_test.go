//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package poller_test

import (
	"errors"
	"testing"

	"github.com/aioloop/aioloop/poller"
)

func TestNewUnsupported(t *testing.T) {
	if _, err := poller.New(); !errors.Is(err, poller.ErrUnsupported) {
		t.Fatalf("New: got %v, want ErrUnsupported", err)
	}
}
