//go:build linux || windows

package udp_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// echoPair makes an echo server and a client connected to it on a running loop, and returns a
// function that does one round trip: send from the loop goroutine, wait for the reply.
func echoPair(t testing.TB, srvOpts udp.Options, cliOpts func(srv udp.Addr) udp.Options) (trip func(), stop func()) {
	l, err := loop.New(loop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &echoProto{} }, srvOpts)
	if err != nil {
		t.Fatal(err)
	}
	ping := &pingProto{replies: make(chan struct{}, 1)}
	cli, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return ping }, cliOpts(srv.LocalAddr()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	msg := make([]byte, 64)
	send := func() { cli.Send(msg) } // one func value, made once
	trip = func() {
		l.CallSoonThreadsafe(send)
		<-ping.replies
	}
	stop = func() {
		l.CallSoonThreadsafe(func() { cli.Close(); srv.Close(); l.CallSoon(l.Stop) })
		if err := <-done; err != nil {
			t.Error(err)
		}
		l.Close()
	}
	return trip, stop
}

func TestEchoRoundTripDoesNotAllocate(t *testing.T) {
	type pair struct {
		srv udp.Options
		cli func(udp.Addr) udp.Options
	}
	setups := map[string]pair{
		"ipv4": {udp.Options{LocalAddr: "127.0.0.1:0"}, func(a udp.Addr) udp.Options { return udp.Options{RemoteAddr: a.String()} }},
		"ipv6": {udp.Options{LocalAddr: "[::1]:0"}, func(a udp.Addr) udp.Options { return udp.Options{RemoteAddr: a.String()} }},
	}
	if runtime.GOOS != "windows" { // no Unix datagram sockets there
		dir := t.TempDir()
		setups["unix"] = pair{udp.Options{LocalAddr: filepath.Join(dir, "echo.sock")}, func(a udp.Addr) udp.Options { return udp.Options{RemoteAddr: a.Path()} }}
	}
	for name, setup := range setups {
		trip, stop := echoPair(t, setup.srv, setup.cli)
		for range 100 { // warm up: queues and caches reach their working size
			trip()
		}
		allocs := testing.AllocsPerRun(1000, trip)
		stop()
		if allocs != 0 {
			t.Errorf("%s: %v allocations per echoed datagram, want 0", name, allocs)
		}
	}
}
