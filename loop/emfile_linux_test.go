package loop_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
)

// Out of descriptors when a loop is made, before its poller (epoll) or between it and its wake-up
// (eventfd): New fails with an error matching EMFILE and leaves nothing open.
//
// Fault: EMFILE when a loop is made (its epoll, or its eventfd after the epoll) → New fails with an error matching EMFILE; nothing left open
func TestNewOutOfDescriptors(t *testing.T) {
	for extra := range 2 {
		before := testfd.Open(t)
		var l *loop.Loop
		var err error
		testfd.WithLimit(t, extra, func() { l, err = loop.New(loop.Options{}) })
		if err == nil {
			l.Close()
			t.Fatalf("%d descriptors allowed: New succeeded", extra)
		}
		if !errors.Is(err, syscall.EMFILE) {
			t.Fatalf("%d descriptors allowed: %v; want an error matching EMFILE", extra, err)
		}
		if after := testfd.Open(t); after != before {
			t.Fatalf("%d descriptors allowed: %d open before, %d after", extra, before, after)
		}
	}
}
