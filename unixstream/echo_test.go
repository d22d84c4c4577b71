//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

func TestEcho(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "echo.sock")
	s := server(t, l, path, echoer)
	if !s.IsServing() || s.Addrs()[0] != path {
		t.Fatalf("serving %v at %v", s.IsServing(), s.Addrs())
	}
	c := &conn{}
	c.onData = func(c *conn, _ []byte) {
		if string(c.data) == "hello, world" {
			c.t.Close()
		}
	}
	c.onLost = func(*conn, error) { l.Stop() }
	tr := client(t, l, path, c)
	if tr.RemoteAddr() != path || tr.LocalAddr() != "" || !tr.IsReading() || !tr.CanWriteEOF() {
		t.Fatalf("remote %q local %q reading %v", tr.RemoteAddr(), tr.LocalAddr(), tr.IsReading())
	}
	tr.Write([]byte("hello, "))
	tr.Writev([][]byte{[]byte("wor"), nil, []byte("ld")})
	run(t, l)
	if strings.Join(c.events, ",") != "made,lost" || c.lost[0] != nil {
		t.Fatalf("events %v lost %v", c.events, c.lost)
	}
	if err := tr.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
}

// flowWriter writes total bytes of a seeded stream in chunks, as fast as flow control lets it,
// hashing what it wrote; then it calls WriteEOF.
type flowWriter struct {
	*conn
	rng     *rand.ChaCha8
	left    int
	paused  bool
	written hash.Hash
}

func (w *flowWriter) pump() {
	chunk := make([]byte, 256*1024)
	for w.left > 0 && !w.paused {
		n := min(len(chunk), w.left)
		w.rng.Read(chunk[:n])
		w.written.Write(chunk[:n])
		w.t.Write(chunk[:n])
		w.left -= n
	}
	if w.left == 0 {
		w.left = -1
		w.t.WriteEOF()
	}
}

func (w *flowWriter) PauseWriting() { w.paused = true; w.events = append(w.events, "pause") }
func (w *flowWriter) ResumeWriting() {
	w.paused = false
	w.events = append(w.events, "resume")
	w.pump()
}

// echoChecked connects a flowWriter to the echo server at path, sends total random bytes (from
// seed) as fast as flow control allows, half-closes, runs l until the connection is lost, and
// checks that every byte came back, by count and by SHA-256. It returns the writer, for its
// flow-control events and ConnectionLost calls.
func echoChecked(t *testing.T, l *loop.Loop, path string, total int, seed byte) *flowWriter {
	t.Helper()
	got := sha256.New()
	n := 0
	w := &flowWriter{conn: &conn{keepOpen: true}, rng: rand.NewChaCha8([32]byte{seed}), left: total, written: sha256.New()}
	w.onData = func(c *conn, b []byte) { got.Write(b); n += len(b); c.data = c.data[:0] }
	w.onEOF = func(c *conn) { c.t.Close() }
	w.onLost = func(*conn, error) { l.Stop() }
	client(t, l, path, w)
	l.CallSoon(w.pump)
	run(t, l)
	if n != total || !bytes.Equal(got.Sum(nil), w.written.Sum(nil)) {
		t.Fatalf("echoed %d of %d bytes; checksums equal: %v", n, total, bytes.Equal(got.Sum(nil), w.written.Sum(nil)))
	}
	return w
}

// 64 MiB each way through an echo server, written as fast as flow control allows, checked by
// SHA-256 on both ends.
func Test64MiBEachWayWithChecksum(t *testing.T) {
	const total = 64 << 20
	l := newLoop(t)
	path := sockPath(t, "bulk.sock")
	server(t, l, path, func() unixstream.BaseProtocol {
		return &conn{keepOpen: true, onData: func(c *conn, b []byte) { c.t.Write(b); c.data = c.data[:0] },
			onEOF: func(c *conn) { c.t.WriteEOF() }}
	})
	w := echoChecked(t, l, path, total, 7)
	if !strings.Contains(strings.Join(w.events, ","), "pause,resume") {
		t.Fatalf("a 64 MiB write never paused: events %v", w.events[:min(len(w.events), 10)])
	}
	if len(w.lost) != 1 || w.lost[0] != nil {
		t.Fatalf("lost %v", w.lost)
	}
}
