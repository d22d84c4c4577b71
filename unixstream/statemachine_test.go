//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// streamActions are what a protocol may do to its own transport from inside a callback. Each
// returns how many bytes it had Write accept.
var streamActions = map[string]func(t *unixstream.Transport) int{
	"Close":             func(t *unixstream.Transport) int { t.Close(); return 0 },
	"Close twice":       func(t *unixstream.Transport) int { t.Close(); t.Close(); return 0 },
	"Abort":             func(t *unixstream.Transport) int { t.Abort(); return 0 },
	"Abort twice":       func(t *unixstream.Transport) int { t.Abort(); t.Abort(); return 0 },
	"Close, Abort":      func(t *unixstream.Transport) int { t.Close(); t.Abort(); return 0 },
	"Abort, Close":      func(t *unixstream.Transport) int { t.Abort(); t.Close(); return 0 },
	"Write, Close":      func(t *unixstream.Transport) int { t.Write([]byte("last")); t.Close(); return 4 },
	"WriteEOF x2 Close": func(t *unixstream.Transport) int { t.WriteEOF(); t.WriteEOF(); t.Close(); return 0 },
	"Pause, Close":      func(t *unixstream.Transport) int { t.PauseReading(); t.Close(); t.ResumeReading(); return 0 },
}

// From DataReceived, EOFReceived, PauseWriting and ResumeWriting, every action ends the
// connection one way: ConnectionLost exactly once and last, no callback after it, Write refused
// with net.ErrClosed, and after Close (not Abort) every byte Write accepted reaches the peer,
// followed by EOF.
//
// Fault: every action (Close, Abort, WriteEOF, their pairs) from DataReceived, EOFReceived, PauseWriting and ResumeWriting → ConnectionLost once, last, nothing after it; Write after it refused (net.ErrClosed); after Close every accepted byte reaches the peer, then EOF
func TestEveryStreamActionFromEveryCallback(t *testing.T) {
	const bulk = 1 << 20
	for _, from := range []string{"DataReceived", "EOFReceived", "PauseWriting", "ResumeWriting"} {
		for name, act := range streamActions {
			t.Run(from+"/"+name, func(t *testing.T) {
				l := newLoop(t)
				mine, peer := socketPair(t)
				defer peer.Close()
				c := &conn{keepOpen: true}
				tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return flowConn{c} }, "",
					unixstream.ConnOptions{Sock: mine})
				mine.Close()
				if err != nil {
					t.Fatal(err)
				}
				acted, accepted := false, 0
				do := func(what string) {
					if len(c.lost) > 0 {
						t.Errorf("%s after ConnectionLost", what)
					}
					if from == what && !acted {
						acted = true
						accepted += act(tr)
					}
				}
				c.onData = func(*conn, []byte) { do("DataReceived") }
				c.onEOF = func(*conn) { do("EOFReceived") }
				c.onPause = func(*conn) { do("PauseWriting") }
				c.onResume = func(*conn) { do("ResumeWriting") }
				c.onLost = func(*conn, error) { l.CallLater(30*time.Millisecond, l.Stop) }
				// The peer reads everything until EOF, from when the flow-control cases need it.
				read := make(chan int, 1)
				startReading := func() {
					go func() {
						peer.SetReadDeadline(time.Now().Add(10 * time.Second))
						n, _ := io.Copy(io.Discard, peer)
						read <- int(n)
					}()
				}
				switch from {
				case "DataReceived":
					startReading()
					peer.Write([]byte("hello"))
				case "EOFReceived":
					startReading()
					peer.(*net.UnixConn).CloseWrite()
				case "PauseWriting", "ResumeWriting":
					tr.SetWriteBufferLimits(4096, 1024)
					l.CallSoon(func() {
						tr.Write(make([]byte, bulk)) // beyond the socket buffer: PauseWriting here
						accepted += bulk
						startReading()
					})
				}
				run(t, l)
				if !acted || len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
					t.Fatalf("acted %v, ConnectionLost %v, events %v", acted, c.lost, c.events)
				}
				if err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Write after ConnectionLost = %v", err)
				}
				var n int
				select {
				case n = <-read:
				case <-time.After(10 * time.Second):
					t.Fatal("the peer never saw the connection end")
				}
				if !strings.HasPrefix(name, "Abort") && !strings.Contains(name, "Abort") && n != accepted {
					t.Fatalf("the peer read %d bytes; Write accepted %d", n, accepted)
				}
			})
		}
	}
}

// Every action from ConnectionMade, on a client and on an accepted connection: the connection is
// made (closing there is the protocol's choice), ConnectionLost follows once, and what Write
// accepted reaches the peer before EOF (after Close; Abort may drop it).
func TestEveryStreamActionFromConnectionMade(t *testing.T) {
	for _, side := range []string{"client", "accepted"} {
		for name, act := range streamActions {
			t.Run(side+"/"+name, func(t *testing.T) {
				l := newLoop(t)
				path := sockPath(t, "made.sock")
				accepted := 0
				c := &conn{}
				c.onMade = func(c *conn) { accepted += act(c.t) }
				c.onLost = func(*conn, error) { l.CallLater(10*time.Millisecond, l.Stop) }
				var peer net.Conn
				if side == "client" {
					ln, err := net.Listen("unix", path)
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, path, unixstream.ConnOptions{})
					if err != nil || !tr.IsClosing() {
						t.Fatalf("create = %v", err)
					}
					if peer, err = ln.Accept(); err != nil {
						t.Fatal(err)
					}
				} else {
					server(t, l, path, func() unixstream.BaseProtocol { return c })
					var err error
					if peer, err = net.Dial("unix", path); err != nil {
						t.Fatal(err)
					}
				}
				defer peer.Close()
				run(t, l)
				if len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
					t.Fatalf("ConnectionLost %v, events %v", c.lost, c.events)
				}
				peer.SetReadDeadline(time.Now().Add(5 * time.Second))
				b, err := io.ReadAll(peer)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal("the peer never saw the connection end")
				}
				if !strings.Contains(name, "Abort") && len(b) != accepted {
					t.Fatalf("the peer read %q; Write accepted %d bytes", b, accepted)
				}
			})
		}
	}
}

// CreateUnixConnection and CreateUnixServer from other goroutines while the loop stops and
// closes: each either succeeds (ConnectionMade ran, or the server listens) or fails with
// loop.ErrClosed having run nothing; nothing is left open and no socket file stays behind.
//
// Fault: Loop.Close from another goroutine while connections and servers are being created → each either succeeds or fails with loop.ErrClosed having run nothing; no descriptor or socket file left
func TestCreateRacesLoopClose(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "target.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn // the target accepts and holds each connection open until the test ends
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	var closed bool
	closeTarget := func() {
		if closed {
			return
		}
		closed = true
		ln.Close()
		<-accepting
		for _, c := range held {
			c.Close()
		}
	}
	defer closeTarget()
	before := testfd.Open(t)
	for round := range 100 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- l.Run(context.Background()) }()
		var tr *unixstream.Transport
		var s *unixstream.Server
		var cerr, serr error
		made := 0
		var lost []error
		spath := filepath.Join(dir, fmt.Sprintf("s%d.sock", round))
		var wg sync.WaitGroup
		wg.Go(func() {
			c := &conn{onMade: func(*conn) { made++ }, onLost: func(_ *conn, err error) { lost = append(lost, err) }}
			tr, _, cerr = unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, ln.Addr().String(), unixstream.ConnOptions{})
		})
		wg.Go(func() {
			s, serr = unixstream.CreateUnixServer(context.Background(), l, echoer, spath, unixstream.ServerOptions{})
		})
		time.Sleep(time.Duration(round%4) * 50 * time.Microsecond)
		l.Stop()
		<-ran
		l.Close()
		wg.Wait()
		switch {
		case cerr == nil && made == 1:
			// Made before the loop closed: Close closed it and ran its ConnectionLost.
			if !tr.IsClosing() || len(lost) != 1 || !errors.Is(lost[0], net.ErrClosed) {
				t.Fatalf("round %d: a connection open at Close: closing=%v, ConnectionLost %v", round, tr.IsClosing(), lost)
			}
			tr.Abort() // nothing more runs
		case errors.Is(cerr, loop.ErrClosed) && made == 0 && tr == nil:
		default:
			t.Fatalf("round %d: CreateUnixConnection = %v, ConnectionMade ran %d times", round, cerr, made)
		}
		switch {
		case serr == nil:
			s.Close() // after the loop's Close too
		case !errors.Is(serr, loop.ErrClosed):
			t.Fatalf("round %d: CreateUnixServer = %v", round, serr)
		}
		if _, err := os.Lstat(spath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: the server's socket file stayed (%v)", round, err)
		}
	}
	closeTarget()
	if after := testfd.Open(t); after != before-1 { // the target's listener is closed too
		t.Fatalf("%d descriptors open before, %d after", before-1, after)
	}
}
