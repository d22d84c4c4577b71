//go:build linux

package udp_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/udp"
)

func TestUnixDatagramPathAbstractAndAutobind(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{filepath.Join(dir, "srv.sock"), "@aioloop-test-" + filepath.Base(dir)} {
		l := newLoop(t)
		srv, sr := endpoint(t, l, udp.Options{LocalAddr: name})
		if srv.LocalAddr() != udp.UnixAddr(name) || !srv.LocalAddr().IsUnix() {
			t.Fatalf("LocalAddr %q, want %q", srv.LocalAddr(), name)
		}
		echo(t, sr)
		// A client with no LocalAddr autobinds (an abstract name the kernel picks), so it hears back.
		cli, cr := endpoint(t, l, udp.Options{RemoteAddr: name})
		if p := cli.LocalAddr().Path(); !strings.HasPrefix(p, "@") || len(p) < 2 {
			t.Fatalf("autobound client LocalAddr %q; want an abstract name", p)
		}
		cr.onData = func(r *recorder, _ []byte, _ udp.Addr) {
			if len(r.got) == 2 {
				l.Stop()
			}
		}
		cli.Send([]byte("over"))
		cli.Send([]byte("out"))
		run(t, l)
		if len(cr.got) != 2 || cr.got[1].data != "out" || cr.got[0].from != srv.LocalAddr() {
			t.Fatalf("%s: client got %+v", name, cr.got)
		}
		if sr.got[0].from != cli.LocalAddr() || sr.got[1].from != cli.LocalAddr() {
			t.Fatalf("server saw %v, client is %v", sr.got[0].from, cli.LocalAddr())
		}
	}
	// An unconnected Unix endpoint sends with SendTo.
	l := newLoop(t)
	path := filepath.Join(dir, "b.sock")
	_, br := endpoint(t, l, udp.Options{LocalAddr: path})
	br.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	a, _ := endpoint(t, l, udp.Options{Family: syscall.AF_UNIX})
	if err := a.SendTo([]byte("hi"), udp.UnixAddr(path)); err != nil {
		t.Fatal(err)
	}
	run(t, l)
	if len(br.got) != 1 || br.got[0].from != a.LocalAddr() {
		t.Fatalf("got %+v from %v", br.got, a.LocalAddr())
	}
	// Binding a path that exists is the kernel's EADDRINUSE, and the file is left alone.
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: path}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind an existing path = %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// A Unix datagram bigger than the receive buffer is reported, not delivered cut.
func TestOversizedUnixDatagramIsReported(t *testing.T) {
	l := newLoop(t)
	path := filepath.Join(t.TempDir(), "big.sock")
	_, sr := endpoint(t, l, udp.Options{LocalAddr: path})
	sr.onErr = func(*recorder, error) { l.Stop() }
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: path})
	raw, _ := cli.SyscallConn()
	raw.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20) })
	if err := cli.Send(make([]byte, 100000)); err != nil {
		t.Fatal(err)
	}
	run(t, l)
	var te *udp.TruncatedError
	if len(sr.got) != 0 || len(sr.errs) != 1 || !errors.As(sr.errs[0], &te) || te.From != cli.LocalAddr() {
		t.Fatalf("got %d datagrams, errors %v", len(sr.got), sr.errs)
	}
}

// A socket file that nothing is bound to (its owner closed without removing it) is replaced, as
// asyncio replaces it; a socket file in use and a regular file are not touched.
func TestStaleUnixDatagramSocketFileIsReplaced(t *testing.T) {
	l := newLoop(t)
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: stale}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd) // the file stays
	tr, _ := endpoint(t, l, udp.Options{LocalAddr: stale})
	if tr.LocalAddr().Path() != stale {
		t.Fatalf("bound %v", tr.LocalAddr())
	}
	// Now in use: refused, and the file is the live one still.
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: stale}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind a path in use = %v", err)
	}
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, []byte("keep"), 0o600)
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: regular}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind a regular file = %v", err)
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep" {
		t.Fatal("the regular file was touched")
	}
}
