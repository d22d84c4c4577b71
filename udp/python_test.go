//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testpeer"
	"github.com/aioloop/aioloop/udp"
)

// Python's asyncio UDP echo client (the asyncio docs' example) against an aioloop echo server.
func TestPythonAsyncioClientAgainstOurServer(t *testing.T) {
	l := newLoop(t)
	srv, sr := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	echo(t, sr)
	out, err := testpeer.PythonClient(t, l, guard, "testdata/asyncio_udp.py", "client", "127.0.0.1",
		fmt.Sprint(srv.LocalAddr().AddrPort().Port()), "Hello World!")
	if err != nil {
		t.Fatalf("python client: %v\n%s", err, out)
	}
	want := "Send: Hello World!\nReceived: Hello World!\nClose the socket\nConnection closed\n"
	if string(out) != want {
		t.Fatalf("python client printed:\n%s\nwant:\n%s", out, want)
	}
	if len(sr.got) != 1 || sr.got[0].data != "Hello World!" {
		t.Fatalf("server got %+v", sr.got)
	}
}

// Python's asyncio UDP echo server (the asyncio docs' example) against an aioloop client.
func TestOurClientAgainstPythonAsyncioServer(t *testing.T) {
	line, wait := testpeer.PythonServer(t, guard, "testdata/asyncio_udp.py", "server", "127.0.0.1", "0", "3")
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "listening" {
		t.Fatalf("python server said %q", line)
	}
	addr := f[1] + ":" + f[2]

	l := newLoop(t)
	cli, cr := endpoint(t, l, udp.Options{RemoteAddr: addr})
	msgs := []string{"Hello World!", strings.Repeat("x", 60000), "bye"}
	cr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
		if len(r.got) == len(msgs) {
			r.t.Close()
		}
	}
	cr.onLost = func(*recorder, error) { l.Stop() }
	for _, m := range msgs {
		cli.Send([]byte(m))
		time.Sleep(time.Millisecond) // keep them apart; UDP on loopback does not reorder anyway
	}
	run(t, l)
	for i, m := range msgs {
		if i >= len(cr.got) || cr.got[i].data != m || cr.got[i].from.String() != addr {
			t.Fatalf("reply %d: got %d replies; want %q from %s", i, len(cr.got), m[:min(len(m), 20)], addr)
		}
	}
	if err := wait(); err != nil {
		t.Fatalf("python server: %v", err)
	}
}
