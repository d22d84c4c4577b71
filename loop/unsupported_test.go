//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package loop_test

import (
	"errors"
	"testing"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/poller"
)

func TestNewUnsupported(t *testing.T) {
	if _, err := loop.New(loop.Options{}); !errors.Is(err, poller.ErrUnsupported) {
		t.Fatalf("New = %v; want poller.ErrUnsupported", err)
	}
}
