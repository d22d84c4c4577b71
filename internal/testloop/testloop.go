// Package testloop makes and runs loops for aioloop's tests: each loop is closed when its test
// ends, and each Run has a deadline, so that a loop that never stops fails its test instead of
// hanging the suite.
package testloop

import (
	"context"
	"testing"
	"time"

	"github.com/aioloop/aioloop/loop"
)

// New makes a loop that is closed when the test ends; a failed Close fails the test.
func New(t testing.TB, opts loop.Options) *loop.Loop {
	t.Helper()
	l, err := loop.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// Run runs l until it stops, and fails the test if it ran into the deadline or failed.
func Run(t testing.TB, l *loop.Loop, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
