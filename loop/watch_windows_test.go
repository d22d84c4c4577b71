package loop_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/loop"
)

// On Windows only sockets can be watched: a pipe handle is refused with EBADF, and the loop goes
// on.
func TestAddReaderRefusesANonSocketOnWindows(t *testing.T) {
	l := newLoop(t, loop.Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := l.AddReader(int(r.Fd()), func() {}); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("AddReader(pipe) = %v; want EBADF", err)
	}
	if st := l.Stats(); st.Registrations != 0 {
		t.Fatalf("%d registrations after the refusal", st.Registrations)
	}
}
