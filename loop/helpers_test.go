//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
)

// guard bounds every Run in the tests: a loop that fails to stop fails the test instead of hanging.
const guard = 10 * time.Second

func newLoop(t testing.TB, opts loop.Options) *loop.Loop { t.Helper(); return testloop.New(t, opts) }

// run runs l until it stops and fails the test if it ran into the guard or failed.
func run(t testing.TB, l *loop.Loop) { t.Helper(); testloop.Run(t, l, guard) }

// exceptions collects what the loop reports, on the loop goroutine.
func exceptions(l *loop.Loop) *[]loop.Exception {
	var got []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { got = append(got, e) })
	return &got
}

// socketpair returns a connected non-blocking stream pair, closed when the test ends.
func socketpair(t testing.TB) (a, b int) { t.Helper(); return testfd.Socketpair(t) }
