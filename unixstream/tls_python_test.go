//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testpeer"
	"github.com/aioloop/aioloop/unixstream"
)

// certDir writes the test certificates into a temporary directory for peers that read files.
func certDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := testcert.Get().WriteFiles(d); err != nil {
		t.Fatal(err)
	}
	return d
}

// Python's asyncio client (create_unix_connection with ssl= and server_hostname=) sends 8 MiB to
// our TLS echo server, checks the echo by SHA-256 and closes; our side ends with
// ConnectionLost(nil).
func TestPythonTLSClientAgainstOurServer(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "pytls.sock")
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(0)}, func() *rec {
		r := newRec()
		r.onData = func(r *rec, b []byte) { r.t.Write(b); r.mu.Lock(); r.data = r.data[:0]; r.mu.Unlock() }
		return r
	})
	out, err := testpeer.PythonClient(t, l, guard, "testdata/asyncio_tls.py", "client", certDir(t), path, "8388608")
	if err != nil || !bytes.Contains(out, []byte("TLSv1.3 echoed 8388608 of 8388608 checksum ok")) {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	srv := <-recs
	drain(l, func() {}) // the server's ConnectionLost, if it has not run yet
	if err := srv.waitLost(t); err != nil {
		t.Fatalf("server ConnectionLost(%v)", err)
	}
}

// Our TLS client sends 8 MiB to Python's asyncio server (create_unix_server with ssl=), checks the
// echo by SHA-256, and closes: close_notify answered by Python's, ConnectionLost(nil), and the
// Python server sees a clean end.
func TestOurTLSClientAgainstPythonServer(t *testing.T) {
	path := sockPath(t, "pytlssrv.sock")
	line, wait := testpeer.PythonServer(t, guard, "testdata/asyncio_tls.py", "server", certDir(t), path)
	if line != "listening" {
		t.Fatalf("python server said %q", line)
	}
	l := newLoop(t)
	startLoop(t, l)
	const total = 8 << 20
	cl := newBulk(total, 5)
	cl.chunk = make([]byte, 65536)
	_, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *bulk { return cl }, path,
		unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(0), ServerHostname: testcert.ServerName})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-cl.done:
	case <-time.After(guard):
		t.Fatal("no ConnectionLost")
	}
	onLoop(t, l, func() {
		if cl.lost != nil || cl.got != total || !bytes.Equal(cl.recv.Sum(nil), cl.sent.Sum(nil)) {
			t.Errorf("ConnectionLost(%v), echoed %d of %d, checksum equal %v", cl.lost, cl.got, total, bytes.Equal(cl.recv.Sum(nil), cl.sent.Sum(nil)))
		}
	})
	if err := wait(); err != nil {
		t.Fatalf("python server: %v", err)
	}
}
