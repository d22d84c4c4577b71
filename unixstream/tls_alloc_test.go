//go:build linux

package unixstream_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
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
		for name, mk := range map[string]func(ch chan struct{}) unixstream.BaseProtocol{
			"Protocol": func(ch chan struct{}) unixstream.BaseProtocol { return &leanPing{replies: ch} },
			"BufferedProtocol": func(ch chan struct{}) unixstream.BaseProtocol {
				return &leanBufPing{leanPing: leanPing{replies: ch}, buf: make([]byte, 4096)}
			},
		} {
			l, err := loop.New(loop.Options{})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error)
			go func() { done <- l.Run(context.Background()) }()
			path := sockPath(t, "alloc.sock")
			s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol { return &leanEcho{} }, path,
				unixstream.ServerOptions{TLS: certs.ServerConfig(v)})
			if err != nil {
				t.Fatal(err)
			}
			replies := make(chan struct{}, 1)
			cli, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return mk(replies) }, path,
				unixstream.ConnOptions{TLS: certs.ClientConfig(v), ServerHostname: testcert.ServerName})
			if err != nil {
				t.Fatal(err)
			}
			msg := make([]byte, 64)
			send := func() { cli.Write(msg) }
			trip := func() {
				l.CallSoonThreadsafe(send)
				<-replies
			}
			for range 200 {
				trip()
			}
			allocs := testing.AllocsPerRun(1000, trip)
			var writes float64
			if err := l.Do(context.Background(), func() { writes = testing.AllocsPerRun(100, send) }); err != nil {
				t.Fatal(err)
			}
			l.CallSoonThreadsafe(func() { cli.Abort(); s.Close(); s.AbortClients(); l.CallSoon(l.Stop) })
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			drain(l, func() {})
			l.Close()
			if allocs > 2 {
				t.Errorf("%s, %s: %v allocations per echoed message (a write and a read on each side), want at most 2 (crypto/tls's own, one per read)", tls.VersionName(v), name, allocs)
			}
			if writes != 0 {
				t.Errorf("%s, %s: %v allocations per 64-byte Write, want 0", tls.VersionName(v), name, writes)
			}
		}
	}
}
