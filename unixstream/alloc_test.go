//go:build linux

package unixstream_test

import (
	"context"
	"testing"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// leanProtocols are the client protocols the allocation tests measure with; none of their methods
// allocates.
var leanProtocols = map[string]func(replies chan struct{}) unixstream.BaseProtocol{
	"Protocol": func(ch chan struct{}) unixstream.BaseProtocol { return &leanPing{replies: ch} },
	"BufferedProtocol": func(ch chan struct{}) unixstream.BaseProtocol {
		return &leanBufPing{leanPing: leanPing{replies: ch}, buf: make([]byte, 4096)}
	},
}

// echoAllocs runs an echo server (sopts) and a client made by mk (copts) on one running loop, and
// returns the allocations per echoed 64-byte message (a write and a read on each side) and per
// Write alone, after a warm-up.
func echoAllocs(t *testing.T, sopts unixstream.ServerOptions, copts unixstream.ConnOptions, mk func(chan struct{}) unixstream.BaseProtocol) (trip, write float64) {
	t.Helper()
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	path := sockPath(t, "alloc.sock")
	s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol { return &leanEcho{} }, path, sopts)
	if err != nil {
		t.Fatal(err)
	}
	replies := make(chan struct{}, 1)
	cli, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return mk(replies) }, path, copts)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 64)
	send := func() { cli.Write(msg) }
	echo := func() {
		l.CallSoonThreadsafe(send)
		<-replies
	}
	for range 200 {
		echo()
	}
	trip = testing.AllocsPerRun(1000, echo)
	// The writes alone: their echoes come back while nobody waits for them, so a goroutine takes
	// the replies until the loop has stopped (the client protocol would block the loop otherwise).
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-replies:
			case <-stop:
				return
			}
		}
	}()
	if err := l.Do(context.Background(), func() { write = testing.AllocsPerRun(100, send) }); err != nil {
		t.Fatal(err)
	}
	l.CallSoonThreadsafe(func() { cli.Abort(); s.Close(); s.AbortClients(); l.CallSoon(l.Stop) })
	err = <-done
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	drain(l, func() {})
	l.Close()
	return trip, write
}

func TestReadsDoNotAllocate(t *testing.T) {
	for name, mk := range leanProtocols {
		trip, write := echoAllocs(t, unixstream.ServerOptions{}, unixstream.ConnOptions{}, mk)
		if trip != 0 {
			t.Errorf("%s: %v allocations per echoed message (a read on each side), want 0", name, trip)
		}
		if write != 0 {
			t.Errorf("%s: %v allocations per 64-byte Write, want 0", name, write)
		}
	}
}
