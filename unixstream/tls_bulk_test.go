//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"hash"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// bulk sends total bytes of a seeded stream as fast as flow control lets it while it receives the
// peer's, hashing both ways; it closes once both are done.
type bulk struct {
	t             *unixstream.Transport
	rng           *rand.ChaCha8
	chunk         []byte
	left, got     int
	total         int
	paused        bool
	pauses        int
	sent, recv    hash.Hash
	lost          error
	done          chan struct{}
	buf           []byte // a BufferedProtocol's buffer, when buffered
	unexpectedEOF bool
}

func newBulk(total int, seed byte) *bulk {
	return &bulk{rng: rand.NewChaCha8([32]byte{seed}), chunk: make([]byte, 100_000), left: total, total: total,
		sent: sha256.New(), recv: sha256.New(), done: make(chan struct{})}
}

func (b *bulk) ConnectionMade(t *unixstream.Transport) { b.t = t; b.pump() }

func (b *bulk) pump() {
	for b.left > 0 && !b.paused {
		n := min(len(b.chunk), b.left)
		b.rng.Read(b.chunk[:n])
		b.sent.Write(b.chunk[:n])
		b.left -= n
		b.t.Write(b.chunk[:n])
	}
	b.maybeClose()
}

func (b *bulk) maybeClose() {
	if b.left == 0 && b.got == b.total {
		b.t.Close()
	}
}

func (b *bulk) DataReceived(p []byte) { b.recv.Write(p); b.got += len(p); b.maybeClose() }
func (b *bulk) EOFReceived() bool {
	if b.got != b.total {
		b.unexpectedEOF = true
	}
	return false
}
func (b *bulk) ConnectionLost(err error) { b.lost = err; close(b.done) }
func (b *bulk) PauseWriting()            { b.paused = true; b.pauses++ }
func (b *bulk) ResumeWriting()           { b.paused = false; b.pump() }

type bufBulk struct{ *bulk }

func (b bufBulk) GetBuffer(int) []byte { return b.buf }
func (b bufBulk) BufferUpdated(n int)  { b.DataReceived(b.buf[:n]) }

// Test64MiBEachWayTLS: 64 MiB each way at once between an aioloop TLS client and server, through
// Protocol and through BufferedProtocol, as fast as flow control allows, checked by SHA-256.
func Test64MiBEachWayTLS(t *testing.T) {
	total := 64 << 20
	if testing.Short() {
		total = 8 << 20
	}
	for _, buffered := range []bool{false, true} {
		name := "Protocol"
		if buffered {
			name = "BufferedProtocol"
		}
		t.Run(name, func(t *testing.T) {
			l := newLoop(t)
			startLoop(t, l)
			path := sockPath(t, "bulk.sock")
			srvs := make(chan *bulk, 1)
			wrap := func(b *bulk) unixstream.BaseProtocol {
				if buffered {
					b.buf = make([]byte, 7000) // not a record's size: records straddle buffers
					return bufBulk{b}
				}
				return b
			}
			_, err := unixstream.CreateUnixServer(t.Context(), l, func() unixstream.BaseProtocol {
				b := newBulk(total, 2)
				srvs <- b
				return wrap(b)
			}, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(tls.VersionTLS13)})
			if err != nil {
				t.Fatal(err)
			}
			cl := newBulk(total, 1)
			_, _, err = unixstream.CreateUnixConnection(t.Context(), l, func() unixstream.BaseProtocol { return wrap(cl) }, path,
				unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(0), ServerHostname: testcert.ServerName})
			if err != nil {
				t.Fatal(err)
			}
			srv := <-srvs
			for _, b := range []*bulk{cl, srv} {
				select {
				case <-b.done:
				case <-time.After(guard):
					t.Fatal("bulk transfer did not end")
				}
			}
			onLoop(t, l, func() {
				if cl.lost != nil || srv.lost != nil || cl.unexpectedEOF || srv.unexpectedEOF {
					t.Errorf("lost %v / %v, early EOF %v / %v", cl.lost, srv.lost, cl.unexpectedEOF, srv.unexpectedEOF)
				}
				if cl.got != total || srv.got != total || !bytes.Equal(cl.recv.Sum(nil), srv.sent.Sum(nil)) || !bytes.Equal(srv.recv.Sum(nil), cl.sent.Sum(nil)) {
					t.Errorf("received %d and %d of %d; checksums %v %v", cl.got, srv.got, total,
						bytes.Equal(cl.recv.Sum(nil), srv.sent.Sum(nil)), bytes.Equal(srv.recv.Sum(nil), cl.sent.Sum(nil)))
				}
				if cl.pauses == 0 || srv.pauses == 0 {
					t.Errorf("flow control never paused: %d, %d", cl.pauses, srv.pauses)
				}
			})
		})
	}
}
