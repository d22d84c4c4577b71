//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// socketPair returns a connected Unix stream pair (socketpair): mine, for a transport to adopt
// (the caller closes it; the transport works on a duplicate), and the other end as a net.Conn.
func socketPair(t testing.TB) (mine adoptable, peer net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f, pf := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "peer")
	peer, err = net.FileConn(pf) // a duplicate
	pf.Close()
	if err != nil {
		f.Close()
		t.Fatal(err)
	}
	return f, peer
}
