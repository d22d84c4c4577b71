//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// TestTLSProtocolActsOnItsTransport: a server protocol calls Close, Abort and Write on its own TLS
// transport from its callbacks (ConnectionMade, DataReceived mid-batch, EOFReceived), twice and
// mixed: ConnectionLost runs once, with the right error; nothing is delivered after Close or
// Abort; what was written before Close reaches the peer; a write after Close is refused.
func TestTLSProtocolActsOnItsTransport(t *testing.T) {
	type step func(r *rec, tr *unixstream.Transport, res map[string]error)
	closeT := func(r *rec, tr *unixstream.Transport, _ map[string]error) { tr.Close() }
	abortT := func(r *rec, tr *unixstream.Transport, _ map[string]error) { tr.Abort() }
	write := func(s string) step {
		return func(r *rec, tr *unixstream.Transport, res map[string]error) { res["write "+s] = tr.Write([]byte(s)) }
	}
	cases := []struct {
		name     string
		made     []step
		data     []step // at the first delivery (4 bytes into a 4-byte buffer: mid-batch)
		eof      bool   // the client closes after writing; the server acts in EOFReceived with data's steps
		wantData string // what the server protocol receives
		wantLost error
		wantPeer string // what the client receives
		refused  string // a write that must be refused
	}{
		{name: "close in made", made: []step{closeT}},
		{name: "close twice and abort in made", made: []step{closeT, closeT, abortT}},
		{name: "write, close, write in made", made: []step{write("bye"), closeT, write("late")}, wantPeer: "bye", refused: "write late"},
		{name: "abort in made", made: []step{abortT}},
		{name: "abort, close in made", made: []step{abortT, closeT}},
		{name: "close mid-batch", data: []step{closeT}, wantData: "abcd"},
		{name: "abort mid-batch", data: []step{abortT, abortT}, wantData: "abcd"},
		{name: "echo and close mid-batch", data: []step{write("ABCD"), closeT, closeT}, wantData: "abcd", wantPeer: "ABCD"},
		{name: "close then abort mid-batch", data: []step{closeT, abortT}, wantData: "abcd"},
		{name: "write and close in EOFReceived", eof: true, data: []step{write("fin"), closeT, write("late")}, wantData: "abcdefghijkl", refused: "write late"}, // the client closed: it discards "fin"
		{name: "abort in EOFReceived", eof: true, data: []step{abortT}, wantData: "abcdefghijkl"},
	}
	certs := testcert.Get()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLoop(t)
			rep := reports(l)
			startLoop(t, l)
			path := sockPath(t, "sm.sock")
			res := map[string]error{}
			var srv *rec
			mk := func() *rec {
				srv = newRec()
				first := true
				srv.onMade = func(r *rec) {
					for _, s := range c.made {
						s(r, r.t, res)
					}
				}
				if !c.eof {
					srv.onData = func(r *rec, b []byte) {
						if first {
							first = false
							for _, s := range c.data {
								s(r, r.t, res)
							}
						}
					}
				}
				return srv
			}
			s, err := unixstream.CreateUnixServer(t.Context(), l, func() unixstream.BaseProtocol {
				r := mk()
				if c.eof {
					return &eofActor{bufRec: &bufRec{rec: r, buf: make([]byte, 4)}, steps: func() {
						for _, s := range c.data {
							s(r, r.t, res)
						}
					}}
				}
				return &bufRec{rec: r, buf: make([]byte, 4)}
			}, path, unixstream.ServerOptions{TLS: certs.ServerConfig(0)})
			if err != nil {
				t.Fatal(err)
			}
			_ = s
			cl := newRec()
			tr, err := tlsDial(t, l, path, 0, cl)
			if err != nil {
				t.Fatal(err)
			}
			onLoop(t, l, func() {
				tr.Write([]byte("abcd"))
				tr.Write([]byte("efgh"))
				tr.Write([]byte("ijkl"))
				if c.eof {
					tr.Close()
				}
			})
			if len(c.wantPeer) > 0 {
				if got := string(cl.waitData(t, len(c.wantPeer))); got != c.wantPeer {
					t.Fatalf("peer got %q", got)
				}
			}
			cl.waitLost(t)
			var srvLost error
			var events []string
			var data string
			onLoop(t, l, func() {}) // the server's ConnectionLost has been scheduled by now, or runs next
			srvLost = srv.waitLost(t)
			events = srv.eventList()
			srv.mu.Lock()
			data = string(srv.data)
			srv.mu.Unlock()
			if !errors.Is(srvLost, c.wantLost) {
				t.Fatalf("server ConnectionLost(%v)", srvLost)
			}
			if n := strings.Count(strings.Join(events, ","), "lost"); n != 1 || events[len(events)-1] != "lost" {
				t.Fatalf("events %v", events)
			}
			if data != c.wantData {
				t.Fatalf("server received %q; want %q", data, c.wantData)
			}
			if c.refused != "" && !errors.Is(res[c.refused], net.ErrClosed) {
				t.Fatalf("%s: %v", c.refused, res[c.refused])
			}
			for k, v := range res {
				if k != c.refused && v != nil {
					t.Fatalf("%s: %v", k, v)
				}
			}
			select {
			case e := <-rep:
				t.Fatalf("reported: %s: %v", e.Message, e.Err)
			default:
			}
		})
	}
}

// eofActor runs steps in EOFReceived.
type eofActor struct {
	*bufRec
	steps func()
}

func (e *eofActor) EOFReceived() bool { e.rec.EOFReceived(); e.steps(); return false }

// TestTLSPanicInProtocol: a panic in DataReceived on a TLS transport is reported with the
// transport, and ConnectionLost gets the *loop.PanicError.
func TestTLSPanicInProtocol(t *testing.T) {
	l := newLoop(t)
	rep := make(chan loop.Exception, 8)
	l.SetExceptionHandler(func(e loop.Exception) { rep <- e })
	startLoop(t, l)
	path := sockPath(t, "panic.sock")
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(tls.VersionTLS13)}, func() *rec {
		r := newRec()
		r.onData = func(*rec, []byte) { panic("boom") }
		return r
	})
	cl := newRec()
	tr, err := tlsDial(t, l, path, 0, cl)
	if err != nil {
		t.Fatal(err)
	}
	onLoop(t, l, func() { tr.Write([]byte("x")) })
	srv := <-recs
	var pe *loop.PanicError
	if err := srv.waitLost(t); !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("ConnectionLost(%v)", err)
	}
	if e := <-rep; e.Transport != srv.t {
		t.Fatalf("report names %v", e.Transport)
	}
	cl.waitLost(t)
}

// pauseWriter writes more from PauseWriting.
type pauseWriter struct {
	*rec
	extra []byte
}

func (p *pauseWriter) PauseWriting() {
	if p.extra != nil {
		p.t.Write(p.extra)
		p.extra = nil
	}
}
func (p *pauseWriter) ResumeWriting() {}

// TestTLSWritevAtomicUnderPause: a Writev over TLS that crosses the high-water mark goes out whole
// before what the protocol writes from the PauseWriting it causes, as a plain transport's does.
func TestTLSWritevAtomicUnderPause(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	path := sockPath(t, "order.sock")
	_, recs := tlsServer(t, l, path, unixstream.ServerOptions{TLS: testcert.Get().ServerConfig(0)}, func() *rec { return newRec() })
	p := &pauseWriter{rec: newRec(), extra: []byte("X")}
	tr, _, err := unixstream.CreateUnixConnection(t.Context(), l, func() *pauseWriter { return p }, path,
		unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(0), ServerHostname: testcert.ServerName})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("a"), 200_000)
	onLoop(t, l, func() { tr.Writev([][]byte{big, []byte("b"), big, []byte("END")}) })
	srv := <-recs
	want := string(big) + "b" + string(big) + "END" + "X"
	if got := string(srv.waitData(t, len(want))); got != want {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		t.Fatalf("the peer got %d bytes, differing from byte %d", len(got), i)
	}
	onLoop(t, l, tr.Close)
	p.waitLost(t)
}
