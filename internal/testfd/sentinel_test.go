//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package testfd

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// The sentinel sees an end closed behind its back, and one replaced by another file at the same
// number; left alone, it passes and closes both ends.
func TestSentinel(t *testing.T) {
	s, err := newSentinel()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.check(); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	if s, err = newSentinel(); err != nil {
		t.Fatal(err)
	}
	unix.Close(s.fds[0]) // a second close by somebody else
	if err := s.check(); err == nil {
		t.Fatal("a closed end went unseen")
	}
	if s, err = newSentinel(); err != nil {
		t.Fatal(err)
	}
	unix.Close(s.fds[1])
	var p [2]int
	unix.Pipe(p[:]) // takes the freed number (the lowest free)
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := s.check(); err == nil {
		t.Fatal("a replaced end went unseen")
	}
}
