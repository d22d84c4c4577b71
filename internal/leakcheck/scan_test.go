//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package leakcheck

import (
	"os"
	"strconv"
	"testing"
)

// The scan that the BSDs use finds what /proc/self/fd shows on Linux: a new pipe's two ends.
func TestScanFindsNewDescriptors(t *testing.T) {
	before := scanFDs()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	after := scanFDs()
	for _, f := range []*os.File{r, w} {
		name := strconv.Itoa(int(f.Fd()))
		if _, ok := before[name]; ok {
			t.Fatalf("fd %s open before the pipe", name)
		}
		if after[name] != "pipe" {
			t.Fatalf("fd %s: %q, want pipe", name, after[name])
		}
	}
	r.Close()
	w.Close()
	if n := len(scanFDs()); n != len(before) {
		t.Fatalf("%d open after closing the pipe, %d before", n, len(before))
	}
}
