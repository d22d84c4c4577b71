// Package leakcheck is the TestMain of every aioloop package: it runs the tests, then fails the
// package if a goroutine (goleak) or a file descriptor outlived them.
package leakcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

// Main runs m and exits with its code, or with 1 when goroutines or file descriptors leaked.
// Call it as the whole body of TestMain.
func Main(m *testing.M, opts ...goleak.Option) {
	// Go's runtime opens its own poller descriptors on first use; open them before counting.
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
	before := openFDs()
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "leakcheck: goroutines outlived the tests: %v\n", err)
			code = 1
		}
		after := openFDs()
		var leaked []string
		for fd, target := range after {
			if _, ok := before[fd]; !ok {
				leaked = append(leaked, fd+" -> "+target)
			}
		}
		if len(leaked) > 0 {
			slices.Sort(leaked)
			fmt.Fprintf(os.Stderr, "leakcheck: %d file descriptors outlived the tests: %v\n", len(leaked), leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// Descriptors returns this process's open descriptors, as the leak check sees them: number to
// target or kind. Nil on Windows.
func Descriptors() map[string]string { return openFDs() }

// openFDs maps each open descriptor number to what it refers to: on Linux the targets of
// /proc/self/fd; elsewhere every number that fcntl finds open, with its kind (scanFDs: the BSDs'
// /dev/fd holds device nodes, not links, and without fdescfs only 0 to 2).
func openFDs() map[string]string {
	if runtime.GOOS != "linux" {
		return scanFDs()
	}
	dir := "/proc/self/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return scanFDs()
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		fds[e.Name()] = target
	}
	return fds
}
