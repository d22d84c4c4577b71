package unixstream_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// socketPair returns a connected Unix stream pair: Windows has no socketpair, so a listener in a
// new directory accepts one connection and goes. mine is for a transport to adopt (the caller
// closes it; the transport works on a duplicate); peer is the other end.
func socketPair(t testing.TB) (mine adoptable, peer net.Conn) {
	t.Helper()
	dir, err := os.MkdirTemp("", "aioloop")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.DialUnix("unix", nil, ln.Addr().(*net.UnixAddr))
	if err != nil {
		t.Fatal(err)
	}
	peer, err = ln.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c, peer
}
