//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/unixstream"
)

// pattern is n bytes that show where a cut happened.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// A server that pauses reading holds a fast writer back: the writer's buffer grows past the
// high-water mark (PauseWriting), and when reading resumes everything arrives, in order, and the
// writer hears ResumeWriting.
//
// Fault: the kernel's buffers full both ways (a reader that pauses, a writer that goes on) → PauseWriting past the high-water mark, everything delivered in order once reading resumes, then ResumeWriting
func TestPauseReadingHoldsTheWriterBack(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "pause.sock")
	var srv *conn
	server(t, l, path, func() unixstream.BaseProtocol {
		srv = &conn{onMade: func(c *conn) {
			c.t.PauseReading()
			c.t.PauseReading() // idempotent
			if c.t.IsReading() {
				t.Error("IsReading after PauseReading")
			}
		}, onEOF: func(*conn) { l.Stop() }}
		return srv
	})
	want := pattern(8 << 20)
	c := &conn{}
	c.onPause = func(c *conn) {
		if c.t.WriteBufferSize() <= 64*1024 {
			t.Errorf("PauseWriting at %d bytes buffered", c.t.WriteBufferSize())
		}
		l.CallSoon(func() {
			if len(srv.data) != 0 {
				t.Errorf("the paused server read %d bytes", len(srv.data))
			}
			srv.t.ResumeReading()
			srv.t.ResumeReading()
		})
	}
	c.onResume = func(c *conn) {
		if c.t.WriteBufferSize() > 16*1024 {
			t.Errorf("ResumeWriting at %d bytes buffered", c.t.WriteBufferSize())
		}
	}
	tr := client(t, l, path, flowConn{c})
	l.CallSoon(func() { tr.Write(want); tr.WriteEOF() })
	run(t, l)
	if !bytes.Equal(srv.data, want) {
		t.Fatalf("server read %d of %d bytes, equal prefix: %v", len(srv.data), len(want), bytes.HasPrefix(want, srv.data))
	}
	if strings.Join(c.events, ",") != "made,pause,resume" {
		t.Fatalf("client events %v", c.events)
	}
}

// Close with data buffered writes it all, then ConnectionLost(nil); Abort drops it.
func TestCloseFlushesAbortDrops(t *testing.T) {
	for _, abort := range []bool{false, true} {
		l := newLoop(t)
		path := sockPath(t, "close.sock")
		var srv *conn
		server(t, l, path, func() unixstream.BaseProtocol {
			srv = &conn{onMade: func(c *conn) { c.t.PauseReading() }, onEOF: func(*conn) { l.Stop() }}
			return srv
		})
		want := pattern(4 << 20)
		c := &conn{}
		tr := client(t, l, path, c)
		l.CallSoon(func() {
			tr.Write(want)
			buffered := tr.WriteBufferSize()
			if buffered == 0 {
				t.Error("nothing buffered: the test needs a full socket")
			}
			if abort {
				tr.Abort()
				tr.Close()
			} else {
				tr.Close()
				tr.Close()
			}
			if len(c.lost) != 0 || !tr.IsClosing() || tr.IsReading() {
				t.Error("ConnectionLost ran inside Close/Abort, or the transport does not say it is closing")
			}
			l.CallSoon(srv.t.ResumeReading)
		})
		run(t, l)
		drain(l, func() {})
		if len(c.lost) != 1 || c.lost[0] != nil {
			t.Fatalf("abort=%v: ConnectionLost %v", abort, c.lost)
		}
		if !abort && !bytes.Equal(srv.data, want) {
			t.Fatalf("Close delivered %d of %d bytes", len(srv.data), len(want))
		}
		if abort && (len(srv.data) >= len(want) || !bytes.HasPrefix(want, srv.data)) {
			t.Fatalf("Abort delivered %d of %d bytes; want a strict prefix", len(srv.data), len(want))
		}
	}
}

func TestWriteBufferLimits(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "limits.sock")
	server(t, l, path, func() unixstream.BaseProtocol {
		return &conn{onMade: func(c *conn) { c.t.PauseReading() }}
	})
	c := &conn{}
	tr := client(t, l, path, flowConn{c})
	if lo, hi := tr.WriteBufferLimits(); lo != 16<<10 || hi != 64<<10 {
		t.Fatalf("defaults %d %d", lo, hi)
	}
	if err := tr.SetWriteBufferLimits(1, 2); err == nil {
		t.Fatal("high < low accepted")
	}
	tr.SetWriteBufferLimits(-1, 1000)
	if lo, hi := tr.WriteBufferLimits(); lo != 1000 || hi != 4000 {
		t.Fatalf("derived %d %d", lo, hi)
	}
	tr.SetWriteBufferLimits(4<<20, -1)
	tr.Write(pattern(1 << 20)) // more than the socket holds; some stays buffered
	n := tr.WriteBufferSize()
	if n == 0 || n > 1<<20 || len(c.events) != 1 {
		t.Fatalf("buffered %d, events %v", n, c.events)
	}
	tr.SetWriteBufferLimits(n-1, -1) // now the buffer is above high: pause at once
	if strings.Join(c.events, ",") != "made,pause" {
		t.Fatalf("lowering high below the buffer: events %v", c.events)
	}
}
