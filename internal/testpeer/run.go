package testpeer

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
)

// PythonClient runs python3 with args as a client of a server on l: it runs l (testloop.Run, under
// deadline) until the program exits, which stops l, and returns the program's combined output and
// exit error. The program is killed at the deadline.
func PythonClient(t testing.TB, l *loop.Loop, deadline time.Duration, args ...string) ([]byte, error) {
	t.Helper()
	py := Python3(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var out []byte
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err = exec.CommandContext(ctx, py, args...).CombinedOutput()
		l.CallSoonThreadsafe(l.Stop)
	}()
	testloop.Run(t, l, deadline)
	<-done
	return out, err
}

// PythonServer starts python3 with args as a server, waits for the first line it prints on
// standard output (where it says where it listens) and returns that line, without its newline, and
// a function that waits for the program's exit. The rest of its output is read and dropped; its
// standard error is the test's. It is killed at the deadline, and when the test ends.
func PythonServer(t testing.TB, deadline time.Duration, args ...string) (first string, wait func() error) {
	t.Helper()
	py := Python3(t)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	cmd := exec.CommandContext(ctx, py, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	var werr error
	wait = func() error { once.Do(func() { werr = cmd.Wait() }); return werr }
	t.Cleanup(func() { cancel(); wait() })
	lines := bufio.NewScanner(stdout)
	lines.Scan()
	first = lines.Text()
	go func() {
		for lines.Scan() { // drain the server's log so that it never blocks on a full pipe
		}
	}()
	return first, wait
}
