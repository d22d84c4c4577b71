//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"testing"

	"github.com/aioloop/aioloop/internal/testpeer"
)

// Python's asyncio client (create_unix_connection) sends 8 MiB to our echo server and checks the
// echo by SHA-256.
func TestPythonClientAgainstOurServer(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "py.sock")
	server(t, l, path, echoer)
	out, err := testpeer.PythonClient(t, l, guard, "testdata/asyncio_unix.py", "client", path, "8388608")
	if err != nil || !bytes.Contains(out, []byte("echoed 8388608 of 8388608 checksum ok")) {
		t.Fatalf("python client: %v\n%s", err, out)
	}
}

// Our client sends 8 MiB to Python's asyncio server (create_unix_server), half-closes, and checks
// the echo by SHA-256.
func TestOurClientAgainstPythonServer(t *testing.T) {
	path := sockPath(t, "pysrv.sock")
	line, wait := testpeer.PythonServer(t, guard, "testdata/asyncio_unix.py", "server", path)
	if line != "listening" {
		t.Fatalf("python server said %q", line)
	}
	echoChecked(t, newLoop(t), path, 8<<20, 9)
	if err := wait(); err != nil {
		t.Fatalf("python server: %v", err)
	}
}
