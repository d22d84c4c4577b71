//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testpeer"
	"github.com/aioloop/aioloop/unixstream"
)

// opensslProc is openssl s_client or s_server, driven through its standard input (lines, and its
// one-letter commands: k and K send a TLS 1.3 KeyUpdate, K asking for one back) and read through
// its output.
type opensslProc struct {
	t     *testing.T
	in    io.WriteCloser
	lines chan string
	seen  []string
	done  chan error
}

func openssl(t *testing.T, args ...string) *opensslProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	cmd := exec.CommandContext(ctx, testpeer.OpenSSL(t), args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &opensslProc{t: t, in: in, lines: make(chan string, 1024), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { in.Close(); cancel(); <-p.done })
	return p
}

// expect reads output until a line contains s.
func (p *opensslProc) expect(s string) {
	p.t.Helper()
	deadline := time.After(guard)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("openssl exited before saying %q; it said:\n%s", s, strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, line)
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			p.t.Fatalf("openssl did not say %q; it said:\n%s", s, strings.Join(p.seen, "\n"))
		}
	}
}

func (p *opensslProc) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, s); err != nil {
		p.t.Fatal(err)
	}
}

// opensslVersions are the TLS versions the openssl tests run, with the flag that pins each.
var opensslVersions = []struct {
	v    uint16
	flag string
}{{tls.VersionTLS12, "-tls1_2"}, {tls.VersionTLS13, "-tls1_3"}}

// TestOpenSSLClientAgainstOurServer: openssl s_client -unix verifies our server's certificate and
// echoes through it; with TLS 1.3 it sends KeyUpdates, one asking for ours back, and the echo after
// them proves both directions rekeyed. Its close ends our side with ConnectionLost(nil).
func TestOpenSSLClientAgainstOurServer(t *testing.T) {
	dir := certDir(t)
	for _, ov := range opensslVersions {
		t.Run(tls.VersionName(ov.v), func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "ossl.sock")
			_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(0)}, nil) // echoes
			p := openssl(t, "s_client", "-unix", path, "-servername", testcert.ServerName, "-CAfile", filepath.Join(dir, "ca.pem"),
				"-verify_return_error", "-brief", ov.flag)
			p.expect("Verification: OK")
			p.send("hello\n")
			p.expect("hello")
			if ov.v == tls.VersionTLS13 {
				// One command per read of s_client's input: it takes a whole read as the command.
				p.send("k\n")
				p.expect("KEYUPDATE")
				p.send("K\n")
				p.expect("KEYUPDATE")
				p.send("after-update\n")
				p.expect("after-update")
			}
			srv := <-recs
			var st tls.ConnectionState
			onLoop(t, l, func() { st, _ = srv.t.ConnectionState() })
			if st.Version != ov.v {
				t.Fatalf("version %x", st.Version)
			}
			p.in.Close() // s_client closes on end of input
			if err := srv.waitLost(t); err != nil {
				t.Fatalf("ConnectionLost(%v)", err)
			}
		})
	}
}

// TestOurClientAgainstOpenSSLServer: our client verifies openssl s_server -unix's certificate and
// exchanges lines with it both ways; with TLS 1.3 the server's NewSessionTickets arrive after the
// handshake, and its KeyUpdate (asking for ours back) is answered: what each side writes after it
// still arrives. Our Close sends close_notify, s_server answers with its own, and ConnectionLost
// gets nil.
func TestOurClientAgainstOpenSSLServer(t *testing.T) {
	dir := certDir(t)
	for _, ov := range opensslVersions {
		t.Run(tls.VersionName(ov.v), func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := shortPath(t)
			p := openssl(t, "s_server", "-unix", path, "-cert", filepath.Join(dir, "server.pem"), "-key", filepath.Join(dir, "server.key"),
				"-naccept", "1", ov.flag)
			p.expect("ACCEPT")
			c := newRec()
			cc := testcert.Get().ClientConfig(ov.v)
			cc.ClientSessionCache = tls.NewLRUClientSessionCache(4) // TLS 1.3 tickets are stored from the loop
			tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *rec { return c }, path,
				unixstream.ConnOptions{TLS: cc, ServerHostname: testcert.ServerName})
			if err != nil {
				t.Fatal(err)
			}
			onLoop(t, l, func() { tr.Write([]byte("hello from aioloop\n")) })
			p.expect("hello from aioloop")
			want := "from openssl\n"
			p.send(want)
			c.waitData(t, len(want))
			if ov.v == tls.VersionTLS13 {
				p.send("K\n")
				p.expect("SSL_do_handshake -> 1") // what s_server says of its KeyUpdate
				p.send("after update\n")
				want += "after update\n"
				c.waitData(t, len(want))
				onLoop(t, l, func() { tr.Write([]byte("reply after update\n")) })
				p.expect("reply after update")
			}
			if got := string(c.waitData(t, len(want))); got != want {
				t.Fatalf("got %q", got)
			}
			onLoop(t, l, tr.Close)
			if err := c.waitLost(t); err != nil {
				t.Fatalf("ConnectionLost(%v)", err)
			}
			p.expect("CONNECTION CLOSED")
		})
	}
}

// shortPath is a socket path short enough for openssl s_server -unix, which fails (OpenSSL 3.0:
// "ACCEPTunknown:error", nothing bound) on paths beyond about 32 bytes, as t.TempDir's are.
func shortPath(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "ao")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "s")
}
