//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// lostLog counts ConnectionLost per protocol, from the loop goroutine or from Loop.Close's caller.
type lostLog struct {
	mu   sync.Mutex
	errs map[*conn][]error
}

func (g *lostLog) conn() *conn {
	c := &conn{}
	c.onLost = func(c *conn, err error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.errs[c] = append(g.errs[c], err)
	}
	return c
}

// The shutdown a Go user writes first: cancel the loop's context, Close the loop, Close the
// server, AbortClients. Every descriptor the loop's transports and the server owned is closed,
// and every ConnectionLost ran once, with an error matching net.ErrClosed.
func TestTheShutdownAGoUserWritesFirst(t *testing.T) {
	before := testfd.Open(t)
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := sockPath(t, "first.sock")
	g := &lostLog{errs: map[*conn][]error{}}
	var accepted []*conn
	s, err := unixstream.CreateUnixServer(context.Background(), l, func() *conn {
		c := g.conn()
		c.onData = func(c *conn, b []byte) { c.t.Write(b); c.data = c.data[:0] }
		accepted = append(accepted, c)
		return c
	}, path, unixstream.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := l.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const clients = 3
	var mine []*conn
	echoed := make(chan struct{}, clients)
	for range clients {
		c := g.conn()
		c.onData = func(c *conn, b []byte) { echoed <- struct{}{} }
		tr, p, err := unixstream.CreateUnixConnection(context.Background(), l, func() *conn { return c }, path, unixstream.ConnOptions{})
		if err != nil || p != c {
			t.Fatal(err)
		}
		l.Do(context.Background(), func() { tr.Write([]byte("ping")) })
		mine = append(mine, c)
	}
	for range clients {
		<-echoed
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.AbortClients()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := s.WaitClosed(wctx); err != nil {
		t.Fatalf("WaitClosed = %v", err)
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket file stayed: %v", err)
	}
	if len(accepted) != clients {
		t.Fatalf("%d accepted, want %d", len(accepted), clients)
	}
	for _, c := range append(accepted, mine...) {
		errs := g.errs[c]
		if len(errs) != 1 || !errors.Is(errs[0], net.ErrClosed) || !errors.Is(errs[0], loop.ErrClosed) {
			t.Fatalf("ConnectionLost calls: %v", errs)
		}
		if !c.t.IsClosing() {
			t.Fatal("a transport closed by Loop.Close is not closing")
		}
	}
}

// pairedTransport adopts one end of a socket pair; the test holds the other, raw.
func pairedTransport(t *testing.T, l *loop.Loop, c *conn) (*unixstream.Transport, net.Conn) {
	t.Helper()
	mine, peer := socketPair(t)
	defer mine.Close() // the transport works on a duplicate
	t.Cleanup(func() { peer.Close() })
	tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *conn { return c }, "", unixstream.ConnOptions{Sock: mine})
	if err != nil {
		t.Fatal(err)
	}
	return tr, peer
}

// Shutdown flushes a transport's queue to a peer that reads, then ConnectionLost(nil); with a
// peer that never reads it gives up when its context ends, aborts, and ConnectionLost gets a
// *loop.ShutdownError that says why. No descriptor stays open either way.
func TestShutdownFlushesOrAborts(t *testing.T) {
	const size = 4 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for _, reads := range []bool{true, false} {
		before := testfd.Open(t)
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var lost []error
		c := &conn{onLost: func(_ *conn, err error) { lost = append(lost, err) }}
		tr, peer := pairedTransport(t, l, c)
		if err := tr.Write(payload); err != nil {
			t.Fatal(err)
		}
		if tr.WriteBufferSize() == 0 {
			t.Fatal("the kernel took 4 MiB at once: nothing left to flush")
		}
		got := make(chan int, 1)
		if reads {
			go func() {
				n, _ := io.Copy(io.Discard, peer) // until the transport closes: EOF
				got <- int(n)
			}()
		}
		if _, err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		timeout := 10 * time.Second
		if !reads {
			timeout = 100 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err = l.Shutdown(ctx)
		cancel()
		if reads {
			if err != nil || len(lost) != 1 || lost[0] != nil {
				t.Fatalf("reading peer: Shutdown = %v, ConnectionLost %v", err, lost)
			}
			if n := <-got; n != size {
				t.Fatalf("the peer read %d bytes, want %d", n, size)
			}
		} else {
			var serr *loop.ShutdownError
			if !errors.Is(err, context.DeadlineExceeded) || len(lost) != 1 || !errors.As(lost[0], &serr) ||
				!errors.Is(lost[0], context.DeadlineExceeded) || !errors.Is(lost[0], net.ErrClosed) {
				t.Fatalf("peer that never reads: Shutdown = %v, ConnectionLost %v", err, lost)
			}
		}
		if !l.IsClosed() {
			t.Fatal("Shutdown left the loop open")
		}
		peer.Close()
		if after := testfd.Open(t); after != before {
			t.Fatalf("reads=%v: %d descriptors open before, %d after", reads, before, after)
		}
	}
}

// A create function given a done context fails with the context's error and leaves nothing open:
// no descriptor, no socket file.
func TestCreateWithACancelledContext(t *testing.T) {
	l := newLoop(t)
	path := sockPath(t, "ctx.sock")
	s := server(t, l, path, echoer)
	before := testfd.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := unixstream.CreateUnixConnection(ctx, l, echoer, path, unixstream.ConnOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUnixConnection = %v", err)
	}
	other := sockPath(t, "other.sock")
	if _, err := unixstream.CreateUnixServer(ctx, l, echoer, other, unixstream.ServerOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUnixServer = %v", err)
	}
	if _, err := os.Lstat(other); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a socket file was left: %v", err)
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
	_ = s
}

// Loop.Close runs each ConnectionLost on its caller; from there a protocol acts on its own
// connection (Write, WriteEOF, Close, Abort, twice) and on another (Write, Abort), schedules a
// callback, and tries to connect again. Each ConnectionLost runs once, nothing is reported, the
// server's WaitClosed returns and no descriptor is left.
func TestStreamActionsFromConnectionLostDuringLoopClose(t *testing.T) {
	before := testfd.Open(t)
	for round := range 10 {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var reports []loop.Exception
		l.SetExceptionHandler(func(e loop.Exception) { reports = append(reports, e) })
		path := sockPath(t, fmt.Sprintf("acts%d.sock", round))
		var all []*conn
		s, err := unixstream.CreateUnixServer(context.Background(), l, func() *conn { c := &conn{}; all = append(all, c); return c },
			path, unixstream.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			c := &conn{}
			if _, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() *conn { return c }, path, unixstream.ConnOptions{}); err != nil {
				t.Fatal(err)
			}
			all = append(all, c)
		}
		l.CallLater(20*time.Millisecond, l.Stop) // let the server accept both
		run(t, l)
		var lateErrs []error
		for i, c := range all {
			c.onLost = func(c *conn, _ error) {
				other := all[(i+1)%len(all)].t
				for range 2 {
					if err := c.t.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
						t.Errorf("round %d: Write from its own ConnectionLost = %v", round, err)
					}
					c.t.WriteEOF()
					c.t.Close()
					c.t.Abort()
					other.Write([]byte("y"))
					other.Abort()
				}
				l.CallSoon(func() { t.Error("a callback scheduled during Close ran") })
				_, _, lateErr := unixstream.CreateUnixConnection(context.Background(), l, never, path, unixstream.ConnOptions{})
				lateErrs = append(lateErrs, lateErr)
			}
		}
		if round%2 == 1 {
			all[0].t.Close() // one already lost, its ConnectionLost scheduled
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 {
			t.Fatalf("round %d: %d connections, want 4", round, len(all))
		}
		for i, c := range all {
			if len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
				t.Fatalf("round %d: connection %d: ConnectionLost %v, events %v", round, i, c.lost, c.events)
			}
		}
		for _, err := range lateErrs {
			if err == nil {
				t.Fatalf("round %d: a connection made from ConnectionLost during Close", round)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		err = s.WaitClosed(ctx)
		cancel()
		if err != nil || len(reports) != 0 {
			t.Fatalf("round %d: WaitClosed = %v, reports %+v", round, err, reports)
		}
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}
