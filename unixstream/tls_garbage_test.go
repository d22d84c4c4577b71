//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// A TLS peer that, after the handshake and a good record, sends a record of garbage (a valid
// header, a body that is not the cipher's): the protocol gets the good record's bytes, then
// ConnectionLost with crypto/tls's error, and nothing is reported (asyncio's ssl.SSLError is an
// OSError, which _fatal_error logs only in debug mode); the loop goes on.
//
// Fault: a TLS peer sends garbage mid-stream (a record whose body is not the cipher's) → the bytes before it are delivered, then ConnectionLost with crypto/tls's error; nothing reported, as in asyncio; the loop goes on
func TestTLSPeerSendsGarbageMidStream(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	startLoop(t, l)
	path := sockPath(t, "garbage.sock")
	stdPeer(t, path, testcert.Get().ServerConfig(tls.VersionTLS13), func(c *tls.Conn, raw *countConn) {
		c.Write([]byte("good record"))
		junk := make([]byte, 5+100)
		copy(junk, []byte{23, 3, 3, 0, 100}) // application data, TLS 1.2 on the wire, 100 bytes
		for i := 5; i < len(junk); i++ {
			junk[i] = byte(i * 31)
		}
		raw.Conn.Write(junk)
		time.Sleep(200 * time.Millisecond) // hold the connection: the garbage must end it, not a close
	})
	c := newRec()
	if _, err := tlsDial(t, l, path, tls.VersionTLS13, c); err != nil {
		t.Fatal(err)
	}
	err := c.waitLost(t)
	if err == nil || !strings.Contains(err.Error(), "tls") {
		t.Fatalf("ConnectionLost(%v); want crypto/tls's error", err)
	}
	if got := string(c.data); got != "good record" {
		t.Fatalf("the protocol got %q before the garbage", got)
	}
	var ran bool
	onLoop(t, l, func() { ran = true })
	if !ran || len(reportsOf(t, l, &reports)) != 0 {
		t.Fatalf("ran %v, reports %+v", ran, reports)
	}
}

// A TLS peer that stalls mid-record (a header announcing 1,000 bytes, then 10 of them, then
// nothing): the bytes before are delivered and the connection waits, as any stream does for a
// slow peer; Close then ends it after ShutdownTimeout, since the peer never answers close_notify.
//
// Fault: a TLS peer stalls mid-record → the bytes before it are delivered and the connection waits, nothing reported; Close ends it after ShutdownTimeout with ConnectionLost naming it
func TestTLSPeerStallsMidRecord(t *testing.T) {
	l := newLoop(t)
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
	startLoop(t, l)
	path := sockPath(t, "stall.sock")
	release := make(chan struct{})
	stdPeer(t, path, testcert.Get().ServerConfig(tls.VersionTLS13), func(c *tls.Conn, raw *countConn) {
		c.Write([]byte("before the stall"))
		raw.Conn.Write([]byte{23, 3, 3, 0x03, 0xe8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
		<-release
	})
	defer close(release)
	c := newRec()
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *rec { return c }, path,
		unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(tls.VersionTLS13), ServerHostname: testcert.ServerName,
			ShutdownTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c.waitData(t, len("before the stall"))
	time.Sleep(200 * time.Millisecond)
	if c.lostErr() != nil || len(reportsOf(t, l, &reports)) != 0 {
		t.Fatalf("a stalled peer ended the connection: %v, reports %+v", c.lostErr(), reports)
	}
	onLoop(t, l, func() { tr.Close() })
	if err := c.waitLost(t); err == nil || !strings.Contains(err.Error(), "ShutdownTimeout") {
		t.Fatalf("ConnectionLost(%v); want the shutdown timeout named", err)
	}
}

// reportsOf reads the reports on the loop, where the exception handler appends them.
func reportsOf(t *testing.T, l *loop.Loop, reports *[]loop.Exception) []loop.Exception {
	var out []loop.Exception
	onLoop(t, l, func() { out = append(out, *reports...) })
	return out
}
