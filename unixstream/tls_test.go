//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"crypto/tls"
	"errors"
	"slices"
	"testing"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// TestTLSEcho: an aioloop client and an aioloop server, TLS 1.2 and 1.3: the handshake, the
// negotiated state on both sides, an echo, and Close's close_notify answered by the peer's.
func TestTLSEcho(t *testing.T) {
	for _, v := range versions {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "tls.sock")
			_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(v)}, nil)
			c := newRec()
			tr, err := tlsDial(t, l, path, v, c)
			if err != nil {
				t.Fatal(err)
			}
			srv := <-recs
			var st tls.ConnectionState
			var ok, canEOF bool
			var eofErr error
			onLoop(t, l, func() {
				st, ok = tr.ConnectionState()
				canEOF = tr.CanWriteEOF()
				eofErr = tr.WriteEOF()
				tr.Write([]byte("hello, "))
				tr.Writev([][]byte{[]byte("wor"), nil, []byte("ld")})
			})
			if !ok || st.Version != v || st.ServerName != testcert.ServerName || len(st.PeerCertificates) == 0 || canEOF || !errors.Is(eofErr, unixstream.ErrNoHalfClose) {
				t.Fatalf("state ok %v version %x name %q peer certs %d, CanWriteEOF %v, WriteEOF %v", ok, st.Version, st.ServerName, len(st.PeerCertificates), canEOF, eofErr)
			}
			if got := string(c.waitData(t, 12)); got != "hello, world" {
				t.Fatalf("echo %q", got)
			}
			onLoop(t, l, func() { st, ok = srv.t.ConnectionState() })
			if !ok || st.Version != v || st.ServerName != testcert.ServerName {
				t.Fatalf("server state ok %v version %x name %q", ok, st.Version, st.ServerName)
			}
			onLoop(t, l, tr.Close)
			if err := c.waitLost(t); err != nil {
				t.Fatalf("client ConnectionLost(%v)", err)
			}
			if err := srv.waitLost(t); err != nil {
				t.Fatalf("server ConnectionLost(%v)", err)
			}
			if ev := srv.eventList(); !slices.Equal(ev, []string{"made", "eof", "lost"}) {
				t.Fatalf("server events %v", ev)
			}
			if ev := c.eventList(); !slices.Equal(ev, []string{"made", "lost"}) {
				t.Fatalf("client events %v", ev)
			}
		})
	}
}
