package unixstream_test

import (
	"strings"
	"testing"
)

// Abstract names (Linux): "@name", and the same name spelled with a leading NUL.
func TestAbstractNames(t *testing.T) {
	l := newLoop(t)
	name := "@aioloop-stream-" + strings.ReplaceAll(t.TempDir(), "/", "-")
	server(t, l, name, echoer)
	c := &conn{onData: func(c *conn, _ []byte) {
		if string(c.data) == "abstract" {
			l.Stop()
		}
	}}
	tr := client(t, l, name, c)
	if tr.RemoteAddr() != name {
		t.Fatalf("RemoteAddr %q", tr.RemoteAddr())
	}
	tr.Write([]byte("abstract"))
	run(t, l)
	// The NUL spelling names the same socket.
	c2 := &conn{onData: func(*conn, []byte) { l.Stop() }}
	tr2 := client(t, l, "\x00"+name[1:], c2)
	tr2.Write([]byte("nul"))
	run(t, l)
	if string(c2.data) != "nul" {
		t.Fatalf("got %q", c2.data)
	}
}
