//go:build linux

package unixstream_test

import (
	"context"
	"testing"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

func TestReadsDoNotAllocate(t *testing.T) {
	for name, mk := range map[string]func(ch chan struct{}) unixstream.BaseProtocol{
		"Protocol": func(ch chan struct{}) unixstream.BaseProtocol { return &leanPing{replies: ch} },
		"BufferedProtocol": func(ch chan struct{}) unixstream.BaseProtocol {
			return &leanBufPing{leanPing: leanPing{replies: ch}, buf: make([]byte, 4096)}
		},
	} {
		l, err := loop.New(loop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		path := sockPath(t, "alloc.sock")
		s, err := unixstream.CreateUnixServer(context.Background(), l, func() unixstream.BaseProtocol { return &leanEcho{} }, path, unixstream.ServerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		replies := make(chan struct{}, 1)
		cli, _, err := unixstream.CreateUnixConnection(context.Background(), l, func() unixstream.BaseProtocol { return mk(replies) }, path, unixstream.ConnOptions{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- l.Run(context.Background()) }()
		msg := make([]byte, 64)
		send := func() { cli.Write(msg) }
		trip := func() {
			l.CallSoonThreadsafe(send)
			<-replies
		}
		for range 100 {
			trip()
		}
		allocs := testing.AllocsPerRun(1000, trip)
		l.CallSoonThreadsafe(func() { cli.Close(); s.Close(); s.CloseClients(); l.CallSoon(l.Stop) })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		drain(l, func() {})
		l.Close()
		if allocs != 0 {
			t.Errorf("%s: %v allocations per echoed message (a read on each side), want 0", name, allocs)
		}
	}
}
