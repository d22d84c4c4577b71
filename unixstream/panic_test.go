//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// panicker panics in the method named by where, once, and records everything.
type panicker struct {
	*conn
	where string
	buf   []byte
}

func (p *panicker) boom(m string) {
	if p.where == m {
		p.where = "" // once
		panic(m + " bug")
	}
}
func (p *panicker) DataReceived(b []byte) { p.boom("DataReceived"); p.conn.DataReceived(b) }
func (p *panicker) EOFReceived() bool     { p.boom("EOFReceived"); return p.conn.EOFReceived() }
func (p *panicker) PauseWriting()         { p.boom("PauseWriting"); p.events = append(p.events, "pause") }
func (p *panicker) ResumeWriting()        { p.boom("ResumeWriting"); p.events = append(p.events, "resume") }
func (p *panicker) ConnectionLost(err error) {
	p.conn.ConnectionLost(err)
	p.boom("ConnectionLost")
}

// bufPanicker is the buffered kind.
type bufPanicker struct{ *panicker }

func (p *bufPanicker) GetBuffer(int) []byte { p.boom("GetBuffer"); return p.buf }
func (p *bufPanicker) BufferUpdated(n int)  { p.boom("BufferUpdated"); p.conn.DataReceived(p.buf[:n]) }

// A panic in every protocol method, each driven by what calls it: the exception handler hears it
// once, naming the transport, and counts it; asyncio's outcome follows. A panic where data or EOF
// arrives (DataReceived, EOFReceived, GetBuffer, BufferUpdated) ends that connection with
// ConnectionLost(*loop.PanicError), as asyncio's _fatal_error does; one in PauseWriting or
// ResumeWriting leaves the connection working (asyncio reports and goes on), and one in
// ConnectionLost still closes the socket. The loop goes on in every case.
//
// Fault: a panic in each protocol method (DataReceived, EOFReceived, GetBuffer, BufferUpdated, PauseWriting, ResumeWriting, ConnectionLost) → reported once with the transport named; the reading ones end that connection with ConnectionLost(*loop.PanicError), the flow-control ones leave it working, ConnectionLost's still closes the socket; the loop goes on
func TestPanicInEveryProtocolMethod(t *testing.T) {
	for _, where := range []string{"DataReceived", "EOFReceived", "GetBuffer", "BufferUpdated", "PauseWriting", "ResumeWriting", "ConnectionLost"} {
		t.Run(where, func(t *testing.T) {
			l := newLoop(t)
			before := testfd.Open(t)
			var reports []loop.Exception
			l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
			mine, peer := socketPair(t)
			defer peer.Close()
			p := &panicker{conn: &conn{}, where: where, buf: make([]byte, 4096)}
			var proto unixstream.BaseProtocol = p
			if where == "GetBuffer" || where == "BufferUpdated" {
				proto = &bufPanicker{p}
			}
			tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return proto }, "",
				unixstream.ConnOptions{Sock: mine})
			mine.Close()
			if err != nil {
				t.Fatal(err)
			}
			step := func(d time.Duration) { l.CallLater(d, l.Stop); run(t, l) }
			switch where {
			case "DataReceived", "GetBuffer", "BufferUpdated":
				peer.Write([]byte("data"))
			case "EOFReceived":
				peer.(*net.UnixConn).CloseWrite()
			case "PauseWriting", "ResumeWriting":
				l.CallSoon(func() { tr.Write(make([]byte, 8<<20)) }) // the peer does not read yet: PauseWriting
				step(20 * time.Millisecond)
				go io.Copy(io.Discard, peer) // now it does: ResumeWriting once the buffer drains
				for i := 0; i < 500 && tr.WriteBufferSize() > 0; i++ {
					step(2 * time.Millisecond)
				}
			case "ConnectionLost":
				l.CallSoon(func() { tr.Close() })
			}
			step(50 * time.Millisecond)

			if len(reports) != 1 || reports[0].Transport != tr {
				t.Fatalf("reports %+v; want one naming the transport", reports)
			}
			var pe *loop.PanicError
			if !errors.As(reports[0].Err, &pe) || pe.Value != where+" bug" {
				t.Fatalf("the report's error is %v; want the panic", reports[0].Err)
			}
			if s := l.Stats(); s.Panics != 1 {
				t.Fatalf("Stats.Panics = %d", s.Panics)
			}
			switch where {
			case "PauseWriting", "ResumeWriting":
				if len(p.lost) != 0 || tr.IsClosing() {
					t.Fatalf("a panic in %s ended the connection: lost %v", where, p.lost)
				}
				if err := tr.Write([]byte("still works")); err != nil {
					t.Fatalf("Write after a panic in %s: %v", where, err)
				}
				l.CallSoon(func() { tr.Close() })
				step(20 * time.Millisecond)
			case "ConnectionLost":
				if len(p.lost) != 1 || p.lost[0] != nil {
					t.Fatalf("ConnectionLost %v", p.lost)
				}
			default:
				if len(p.lost) != 1 || !errors.As(p.lost[0], &pe) {
					t.Fatalf("ConnectionLost %v; want one *loop.PanicError", p.lost)
				}
			}
			ran := false
			l.CallSoon(func() { ran = true })
			step(0)
			if !ran {
				t.Fatal("the loop did not go on")
			}
			peer.Close()
			if after := testfd.Open(t); after != before {
				t.Fatalf("%d descriptors open before, %d after", before, after)
			}
		})
	}
}
