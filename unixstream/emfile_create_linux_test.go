package unixstream_test

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/unixstream"
)

// Out of descriptors when a connection or a server is made: the call fails with an error that
// matches EMFILE, nothing is left open (a TLS connection whose socket was made but whose handshake
// duplicate was not closes the socket), no socket file stays behind, and the same call succeeds
// once descriptors are back.
//
// Fault: EMFILE when a connection, a TLS connection (its handshake's duplicate) or a server is made → the create call fails with an error matching EMFILE; nothing left open, no socket file left; the same call succeeds once descriptors are back
func TestCreateOutOfDescriptors(t *testing.T) {
	l := newLoop(t)
	startLoop(t, l)
	target := sockPath(t, "target.sock")
	ln, err := net.Listen("unix", target)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and hold what comes, so that the connects succeed
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mk := func() unixstream.BaseProtocol { return &leanEcho{} }
	tlsOpts := unixstream.ConnOptions{TLS: testcert.Get().ClientConfig(0), ServerHostname: testcert.ServerName,
		HandshakeTimeout: time.Second}
	srvPath := sockPath(t, "new.sock")
	for _, c := range []struct {
		name  string
		extra int // descriptors allowed: the failure comes after this many
		run   func() error
	}{
		{"connection", 0, func() error {
			_, _, err := unixstream.CreateUnixConnection(context.Background(), l, mk, target, unixstream.ConnOptions{})
			return err
		}},
		{"TLS connection", 1, func() error {
			_, _, err := unixstream.CreateUnixConnection(context.Background(), l, mk, target, tlsOpts)
			return err
		}},
		{"server", 0, func() error {
			_, err := unixstream.CreateUnixServer(context.Background(), l, mk, srvPath, unixstream.ServerOptions{})
			return err
		}},
	} {
		before := testfd.Open(t)
		var err error
		testfd.WithLimit(t, c.extra, func() { err = c.run() })
		if !errors.Is(err, syscall.EMFILE) {
			t.Fatalf("%s: out of descriptors: %v; want an error matching EMFILE", c.name, err)
		}
		if after := testfd.Open(t); after != before {
			t.Fatalf("%s: %d descriptors open before, %d after", c.name, before, after)
		}
	}
	if _, err := net.Dial("unix", srvPath); err == nil {
		t.Fatal("the failed server left a socket listening")
	}
	s, err := unixstream.CreateUnixServer(context.Background(), l, mk, srvPath, unixstream.ServerOptions{})
	if err != nil {
		t.Fatalf("the server once descriptors are back: %v", err)
	}
	onLoop(t, l, s.Close)
}
