//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aioloop/aioloop/unixstream"
)

// 1,000 connections on one loop: made from other goroutines while the loop runs, each echoes its
// own message, and the server sees them all.
func TestThousandConnections(t *testing.T) {
	const n = 1000
	l := newLoop(t)
	path := sockPath(t, "many.sock")
	accepted := 0
	s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol { accepted++; return echoer() }, path,
		unixstream.ServerOptions{Backlog: 128})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	var mu sync.Mutex
	var trs []*unixstream.Transport
	echoed := 0 // loop goroutine only
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				msg := fmt.Sprintf("connection %d", i)
				c := &conn{}
				c.onData = func(c *conn, _ []byte) {
					if string(c.data) == msg {
						if echoed++; echoed == n {
							l.Stop()
						}
					}
				}
				tr, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return c }, path, unixstream.ConnOptions{})
				if err != nil {
					t.Error(err)
					l.CallSoonThreadsafe(l.Stop)
					return
				}
				mu.Lock()
				trs = append(trs, tr)
				mu.Unlock()
				l.CallSoonThreadsafe(func() { tr.Write([]byte(msg)) })
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if echoed != n || accepted != n {
		t.Fatalf("echoed %d, accepted %d; want %d", echoed, accepted, n)
	}
	if st := l.Stats(); st.Registrations != 2*n+1 {
		t.Fatalf("%d registrations; want %d connections each side and the listener", st.Registrations, 2*n+1)
	}
	// Close every client and the server, then run the loop until the server's side of each
	// connection has seen EOF and gone: WaitClosed, from another goroutine, stops it.
	for _, tr := range trs {
		tr.Close()
	}
	s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	var waitErr error
	go func() {
		waitErr = s.WaitClosed(ctx)
		l.CallSoonThreadsafe(l.Stop)
	}()
	run(t, l)
	if waitErr != nil {
		t.Fatalf("WaitClosed: %v", waitErr)
	}
}
