//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// A peer that never reads cannot make a writer that ignores PauseWriting hold more than the
// write buffer's cap: the write that would pass it is not buffered, the connection ends
// (ConnectionLost, once, with the *WriteBufferFullError the write returned; the exception handler
// hears of it), and at no point did the buffer hold more than the cap. Write and Writev alike.
//
// Fault: a peer that never reads, a protocol that ignores PauseWriting → the write that would pass the cap returns *WriteBufferFullError and the connection ends with it; the buffer never passed the cap
func TestWriteBufferCapEndsTheConnection(t *testing.T) {
	for _, vectored := range []bool{false, true} {
		l := newLoop(t)
		var reports []loop.Exception
		l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
		mine, peer := socketPair(t) // the peer never reads
		defer peer.Close()
		defer mine.Close()
		c := &conn{}
		tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, "",
			unixstream.ConnOptions{Sock: mine})
		if err != nil {
			t.Fatal(err)
		}
		if tr.WriteBufferMax() != unixstream.DefaultWriteBufferMax || unixstream.DefaultWriteBufferMax != 16<<20 {
			t.Fatalf("default cap %d", tr.WriteBufferMax())
		}
		tr.SetWriteBufferMax(-1)
		if tr.WriteBufferMax() != math.MaxInt {
			t.Fatalf("no cap: %d", tr.WriteBufferMax())
		}
		const limit = 1 << 20
		tr.SetWriteBufferMax(limit)
		chunk := pattern(100 << 10)
		var refused error
		most, writes := 0, 0
		var write func()
		write = func() {
			if vectored {
				refused = tr.Writev([][]byte{chunk[:30<<10], chunk[30<<10:]})
			} else {
				refused = tr.Write(chunk)
			}
			writes++
			most = max(most, tr.WriteBufferSize())
			switch {
			case refused == nil && writes < 100: // 10 MiB in all, ten times the cap
				l.CallSoon(write) // ignoring PauseWriting, as a careless protocol does
			case refused == nil:
				l.Stop() // never refused: the checks below say so
			}
		}
		c.onLost = func(*conn, error) { l.Stop() }
		l.CallSoon(write)
		run(t, l)
		var full *unixstream.WriteBufferFullError
		if !errors.Is(refused, unixstream.ErrWriteBufferFull) || !errors.As(refused, &full) || full.Max != limit || full.Size <= limit {
			t.Fatalf("vectored %v: after %d writes the refusal is %v; want a *WriteBufferFullError above %d", vectored, writes, refused, limit)
		}
		if most > limit {
			t.Fatalf("vectored %v: the buffer held %d bytes, above its cap of %d", vectored, most, limit)
		}
		if len(c.lost) != 1 || c.lost[0] != refused || c.events[len(c.events)-1] != "lost" {
			t.Fatalf("vectored %v: ConnectionLost %v (events %v); want once, last, with the write's error", vectored, c.lost, c.events)
		}
		if len(reports) != 1 || !errors.Is(reports[0].Err, unixstream.ErrWriteBufferFull) {
			t.Fatalf("vectored %v: exception handler heard %+v", vectored, reports)
		}
		if err := tr.Write(chunk); err == nil {
			t.Fatalf("vectored %v: Write after the cap ended the connection: no error", vectored)
		}
	}
}

// The same over TLS: the cap counts the plaintext a write would add (sealed records and plaintext
// waiting for a handshake alike), and the connection ends with the write's error.
//
// Fault: the same over TLS → the same, counting the plaintext a write adds
func TestWriteBufferCapEndsATLSConnection(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "tls.sock")
	const limit = 256 << 10
	var refused error // set on the loop, read after ConnectionLost
	most := 0
	srv, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(0)}, func() *rec {
		r := newRec()
		r.onMade = func(r *rec) {
			r.t.SetWriteBufferMax(limit)
			chunk := pattern(64 << 10)
			var write func()
			writes := 0
			write = func() {
				if refused = r.t.Write(chunk); refused == nil {
					most = max(most, r.t.WriteBufferSize())
					if writes++; writes == 160 { // 10 MiB, forty times the cap: never refused
						r.t.Abort()
						return
					}
					l.CallSoon(write)
				}
			}
			write()
		}
		return r
	})
	defer onLoop(t, l, func() { srv.Close(); srv.AbortClients() })
	cr := newRec()
	cr.onMade = func(r *rec) { r.t.PauseReading() } // never reads
	ct, err := tlsDial(t, l, path, 0, cr)
	if err != nil {
		t.Fatal(err)
	}
	defer onLoop(t, l, ct.Abort)
	sr := <-recs
	lost := sr.waitLost(t)
	var full *unixstream.WriteBufferFullError
	if !errors.As(lost, &full) || full.Max != limit || lost != refused {
		t.Fatalf("ConnectionLost(%v), the write returned %v; want the same *WriteBufferFullError with the cap %d", lost, refused, limit)
	}
	if most > limit {
		t.Fatalf("the buffer held %d bytes, above its cap of %d", most, limit)
	}
}

// The cap met from inside the transport's own callback: DataReceived writes past the cap, twice
// (the second write meets the closed transport), and then Close and Abort: ConnectionLost comes
// once, last, with the first write's *WriteBufferFullError, and nothing is delivered after it.
func TestWriteBufferCapFromInsideDataReceived(t *testing.T) {
	l := newLoop(t)
	mine, peer := socketPair(t) // the peer sends, and never reads
	defer peer.Close()
	defer mine.Close()
	var first, second error
	c := &conn{}
	c.onData = func(c *conn, _ []byte) {
		if len(c.lost) > 0 {
			t.Error("DataReceived after ConnectionLost")
		}
		if first != nil {
			return
		}
		c.t.SetWriteBufferMax(256 << 10)
		big := pattern(8 << 20) // more than the kernel takes and the cap together
		first = c.t.Write(big)
		second = c.t.Write(big)
		c.t.Close()
		c.t.Abort()
	}
	c.onLost = func(*conn, error) { l.CallLater(20*time.Millisecond, l.Stop) }
	if _, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, "",
		unixstream.ConnOptions{Sock: mine}); err != nil {
		t.Fatal(err)
	}
	peer.Write([]byte("go"))
	go func() { // more data while the transport dies: none of it may reach the protocol after
		for range 50 {
			if _, err := peer.Write([]byte("more")); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	run(t, l)
	if !errors.Is(first, unixstream.ErrWriteBufferFull) || second == nil {
		t.Fatalf("the writes returned %v and %v; want the cap's error, then an error", first, second)
	}
	if len(c.lost) != 1 || c.lost[0] != first || c.events[len(c.events)-1] != "lost" {
		t.Fatalf("ConnectionLost %v, events %v; want once, last, with the cap's error", c.lost, c.events)
	}
}
