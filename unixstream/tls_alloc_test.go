//go:build linux

package unixstream_test

import (
	"crypto/tls"
	"testing"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// TestTLSAllocations: after the handshake, sealing and writing a 64-byte message allocates
// nothing; reading it allocates exactly what crypto/tls itself does, one 24-byte atLeastReader per
// read(2) that brings ciphertext (conn.go, readFromUntil: passed to bytes.Buffer.ReadFrom as an
// io.Reader, it escapes), which nothing outside crypto/tls can avoid. aioloop adds nothing, and
// skips the read that would only meet EAGAIN (recordConn.drained), which would cost a second one.
// So an echoed message (a write and a read on each side) costs at most 2, TLS 1.2 and 1.3,
// through Protocol and BufferedProtocol; 0 if crypto/tls stops allocating there.
func TestTLSAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under -race, whose instrumentation allocates inside crypto/tls; make allocs runs it without")
	}
	certs := testcert.Get()
	for _, v := range versions {
		for name, mk := range leanProtocols {
			allocs, writes := echoAllocs(t, unixstream.ServerOptions{TLS: certs.ServerConfig(v)},
				unixstream.ConnOptions{TLS: certs.ClientConfig(v), ServerHostname: testcert.ServerName}, mk)
			if allocs > 2 {
				t.Errorf("%s, %s: %v allocations per echoed message (a write and a read on each side), want at most 2 (crypto/tls's own, one per read)", tls.VersionName(v), name, allocs)
			}
			if writes != 0 {
				t.Errorf("%s, %s: %v allocations per 64-byte Write, want 0", tls.VersionName(v), name, writes)
			}
		}
	}
}
