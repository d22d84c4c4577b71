package unixstream_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/unixstream"
)

// TLS is refused on Windows, by option validation, before any socket is made, with an error that
// names the option.
func TestWithoutUnixSocketsTLSIsRefusedOnWindows(t *testing.T) {
	l := newLoop(t)
	before := testfd.Open(t)
	cfg := &tls.Config{ServerName: "aioloop.test", Certificates: []tls.Certificate{{}}}
	_, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *conn { return &conn{} }, `C:\no\such.sock`,
		unixstream.ConnOptions{TLS: cfg})
	if err == nil || !strings.Contains(err.Error(), "ConnOptions.TLS is not supported on Windows") {
		t.Fatalf("CreateUnixConnection with TLS = %v", err)
	}
	_, err = unixstream.CreateUnixServer(context.Background(), l, func() *conn { return &conn{} }, `C:\no\such.sock`,
		unixstream.ServerOptions{TLS: cfg})
	if err == nil || !strings.Contains(err.Error(), "ServerOptions.TLS is not supported on Windows") {
		t.Fatalf("CreateUnixServer with TLS = %v", err)
	}
	if after := testfd.Open(t); after > before {
		t.Fatalf("%d handles before, %d after", before, after)
	}
}
