package testfd

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

// WithLimit runs fn with RLIMIT_NOFILE lowered so that exactly extra more descriptors can be
// opened (the limit caps descriptor numbers, so it is set where the free numbers below it are
// extra), and restores it after. Linux only (the BSDs type the limit otherwise); the caller must not run in parallel.
func WithLimit(t testing.TB, extra int, fn func()) {
	t.Helper()
	open := map[int]bool{}
	for name := range leakcheck.Descriptors() {
		if fd, err := strconv.Atoi(name); err == nil {
			open[fd] = true
		}
	}
	limit, free := 0, 0
	for free < extra || open[limit] {
		if !open[limit] {
			free++
		}
		limit++
	}
	for open[limit] { // the numbers from limit up must not matter: none open there
		limit++
	}
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := unix.Rlimit{Cur: uint64(limit), Max: old.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
	fn()
}
