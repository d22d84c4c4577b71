//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// tlsEcho writes back what it reads, decrypted and sealed again by the transport.
type tlsEcho struct{ t *unixstream.Transport }

func (e *tlsEcho) ConnectionMade(t *unixstream.Transport) { e.t = t }
func (e *tlsEcho) DataReceived(b []byte)                  { e.t.Write(b) }
func (e *tlsEcho) EOFReceived() bool                      { return false }
func (e *tlsEcho) ConnectionLost(error)                   {}

// tlsClient says what it negotiated, sends a line, and closes once it is echoed.
type tlsClient struct {
	t    *unixstream.Transport
	done chan error
}

func (c *tlsClient) ConnectionMade(t *unixstream.Transport) {
	c.t = t
	st, _ := t.ConnectionState() // cached: no lock taken
	fmt.Printf("handshake done: %s with %s\n", tls.VersionName(st.Version), st.PeerCertificates[0].Subject.CommonName)
	t.Write([]byte("hello over TLS"))
}
func (c *tlsClient) DataReceived(b []byte) {
	fmt.Printf("echoed %q\n", b)
	c.t.Close() // close_notify, then the server's
}
func (c *tlsClient) EOFReceived() bool        { return false }
func (c *tlsClient) ConnectionLost(err error) { c.done <- err }

// A TLS echo server and client over a Unix socket (asyncio's ssl= and server_hostname=). The
// certificates are made for the example (internal/testcert); use your own. The create call waits
// for the handshake, so it runs off the loop goroutine, with the loop on its own (Start).
func Example_tls() {
	certs := testcert.Get()
	dir, err := os.MkdirTemp("", "aioloop-tls-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tls.sock")

	l, err := loop.New(loop.Options{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if _, err := l.Start(ctx); err != nil {
		panic(err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{certs.Server}}
	if _, err := unixstream.CreateUnixServer(ctx, l, func() *tlsEcho { return &tlsEcho{} }, path,
		unixstream.ServerOptions{TLS: serverTLS}); err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	_, _, err = unixstream.CreateUnixConnection(ctx, l, func() *tlsClient { return &tlsClient{done: done} }, path,
		unixstream.ConnOptions{TLS: &tls.Config{RootCAs: certs.Pool}, ServerHostname: testcert.ServerName})
	if err != nil {
		panic(err)
	}
	fmt.Println("client closed:", <-done)
	if err := l.Shutdown(ctx); err != nil {
		panic(err)
	}
	// Output:
	// handshake done: TLS 1.3 with aioloop.test
	// echoed "hello over TLS"
	// client closed: <nil>
}
