package unixstream_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// Names and options come from outside (configuration, command lines): whatever the abstract
// socket name, backlog, timeouts and handshake bound, CreateUnixServer either serves (and a
// connection to it echoes a byte) or returns an error that starts with the package's name. It
// never panics and leaves nothing open. Abstract names keep the fuzzer off the filesystem.
func FuzzServerOptions(f *testing.F) {
	f.Add("fuzz", 0, int64(0), int64(0), 0, false)
	f.Add("", -1, int64(-1), int64(0), -5, true)
	f.Add("with\x00nul", 1<<20, int64(time.Second), int64(time.Millisecond), 1, true)
	f.Add(strings.Repeat("x", 107), 1, int64(0), int64(0), 0, false)
	f.Add(strings.Repeat("y", 108), 1, int64(0), int64(0), 0, false)
	l := newLoop(f)
	startLoop(f, l)
	f.Fuzz(func(t *testing.T, name string, backlog int, handshake, shutdown int64, maxHandshakes int, withTLS bool) {
		path := "@aioloop-fuzz-" + name
		opts := unixstream.ServerOptions{Backlog: backlog, HandshakeTimeout: time.Duration(handshake),
			ShutdownTimeout: time.Duration(shutdown), MaxHandshakes: maxHandshakes}
		if withTLS {
			opts.TLS = testcert.Get().ServerConfig(0)
		}
		s, err := unixstream.CreateUnixServer(context.Background(), l, echoer, path, opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "unixstream: ") {
				t.Fatalf("error without the package's name: %v", err)
			}
			return
		}
		defer onLoop(t, l, func() { s.Close(); s.AbortClients() })
		if withTLS {
			return // the handshake's own tests cover TLS; here the options were accepted, and that is all
		}
		c, err := net.Dial("unix", "\x00"+path[1:])
		if err != nil {
			t.Fatalf("the server for %q serves nothing: %v", path, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte{7})
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 7 {
			t.Fatalf("echo: %v %v", b, err)
		}
	})
}
