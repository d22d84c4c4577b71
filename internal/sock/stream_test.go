//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock_test

import (
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
)

// The stream calls unixstream makes, on TCP over loopback so that they run under Wine too (which
// has no AF_UNIX): a non-blocking connect in progress and its wait, accept, a gathered write, a
// read that finds nothing (not now), a half-close seen as EOF, the peer's address, and a refused
// connect reported by the wait.
func TestStreamCalls(t *testing.T) {
	open := func() int {
		t.Helper()
		fd, err := sock.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sock.Close(fd) })
		return fd
	}
	loopback := netip.MustParseAddrPort("127.0.0.1:0")
	ln, err := sock.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	lnOpen := true
	defer func() {
		if lnOpen {
			sock.Close(ln)
		}
	}()
	if err := sock.Bind(ln, syscall.AF_INET, loopback, ""); err != nil {
		t.Fatal(err)
	}
	if err := sock.Listen(ln, 8); err != nil {
		t.Fatal(err)
	}
	addr, _, err := sock.LocalAddr(ln)
	if err != nil || addr.Port() == 0 {
		t.Fatalf("LocalAddr = %v, %v", addr, err)
	}
	c := open()
	if err := sock.Connect(c, syscall.AF_INET, addr, ""); err != nil {
		if !sock.InProgress(err) {
			t.Fatalf("Connect = %v; want nil or in progress", err)
		}
		if err := sock.WaitConnected(c, 5*time.Second); err != nil {
			t.Fatalf("WaitConnected = %v", err)
		}
	}
	var s int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if s, err = sock.Accept(ln); err == nil {
			break
		}
		if !sock.Temporary(err) || time.Now().After(deadline) {
			t.Fatalf("Accept = %v", err)
		}
	}
	t.Cleanup(func() { sock.Close(s) })
	if mine, _, _ := sock.LocalAddr(c); true {
		if peer, _, ok := sock.PeerAddr(s); !ok || peer != mine {
			t.Fatalf("PeerAddr %v, the client's LocalAddr %v", peer, mine)
		}
	}

	buf := make([]byte, 64)
	if _, err := sock.Read(s, buf); !sock.Temporary(err) || !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("Read with nothing sent = %v; want EAGAIN", err)
	}
	w := sock.NewWriter(8)
	if n, err := w.Writev(c, [][]byte{[]byte("hello "), nil, []byte("world")}); n != 11 || err != nil {
		t.Fatalf("Writev = %d, %v", n, err)
	}
	if err := sock.ShutdownWrite(c); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		n, err := sock.Read(s, buf)
		if err == nil && n == 0 {
			break // EOF: the half-close
		}
		if err == nil {
			got = append(got, buf[:n]...)
			continue
		}
		if !sock.Temporary(err) || time.Now().After(deadline) {
			t.Fatalf("Read = %v after %q", err, got)
		}
	}
	if string(got) != "hello world" {
		t.Fatalf("read %q", got)
	}
	if n, err := sock.Write(s, []byte("back")); n != 4 || err != nil {
		t.Fatalf("Write on the half-closed peer = %d, %v", n, err)
	}

	// A refused connect: to the listener's port once it is closed.
	sock.Close(ln)
	lnOpen = false
	r, err := sock.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close(r)
	err = sock.Connect(r, syscall.AF_INET, addr, "")
	if sock.InProgress(err) {
		err = sock.WaitConnected(r, 5*time.Second)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect to a closed port = %v; want ECONNREFUSED", err)
	}
}
