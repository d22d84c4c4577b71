//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package loop_test

import (
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/loop"
)

// A descriptor closed before RemoveReader, while a duplicate keeps its file open, keeps firing in
// epoll; debug mode reports it, once.
func TestDebugReportsAStaleRegistration(t *testing.T) {
	l := newLoop(t, loop.Options{Debug: true})
	got := exceptions(l)
	a, b := socketpair(t)
	dup, err := syscall.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if err := l.AddReader(a, func() { calls++ }); err != nil {
		t.Fatal(err)
	}
	syscall.Close(a) // wrong: before RemoveReader
	syscall.Write(b, []byte("x"))
	for range 20 {
		if err := l.RunOnce(); err != nil {
			t.Fatal(err)
		}
	}
	if len(*got) != 1 || !strings.Contains((*got)[0].Message, "closed before") {
		t.Fatalf("reports %+v; want one about the fd closed before RemoveReader", *got)
	}
	l.RemoveReader(a)
	syscall.Close(dup) // the file's last descriptor: epoll lets go of it
	l.RunOnce()
}
