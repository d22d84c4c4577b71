//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/aioloop/aioloop/internal/testpeer"
)

func python3(t *testing.T) string { return testpeer.Python3(t) }

// Python's asyncio client (create_unix_connection) sends 8 MiB to our echo server and checks the
// echo by SHA-256.
func TestPythonClientAgainstOurServer(t *testing.T) {
	py := python3(t)
	l := newLoop(t)
	path := sockPath(t, "py.sock")
	server(t, l, path, echoer)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var out []byte
	var err error
	go func() {
		out, err = exec.CommandContext(ctx, py, "testdata/asyncio_unix.py", "client", path, "8388608").CombinedOutput()
		l.CallSoonThreadsafe(l.Stop)
	}()
	run(t, l)
	if err != nil || !bytes.Contains(out, []byte("echoed 8388608 of 8388608 checksum ok")) {
		t.Fatalf("python client: %v\n%s", err, out)
	}
}

// Our client sends 8 MiB to Python's asyncio server (create_unix_server), half-closes, and checks
// the echo by SHA-256.
func TestOurClientAgainstPythonServer(t *testing.T) {
	py := python3(t)
	path := sockPath(t, "pysrv.sock")
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	cmd := exec.CommandContext(ctx, py, "testdata/asyncio_unix.py", "server", path)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "listening\n" {
		t.Fatalf("python server said %q", line)
	}

	echoChecked(t, newLoop(t), path, 8<<20, 9)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python server: %v", err)
	}
}
