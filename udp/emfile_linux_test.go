package udp_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/udp"
)

// Out of descriptors when an endpoint is made: the socket call (or, for Options.Sock, the
// duplicate) fails with an error that says so and matches EMFILE, nothing is left open, the loop
// goes on, and the same creation succeeds once descriptors are back.
//
// Fault: EMFILE when an endpoint's socket is made or a handed-over socket is duplicated → the create call fails with an error matching EMFILE that names the call; nothing left open; the same call succeeds once descriptors are back
func TestCreateOutOfDescriptors(t *testing.T) {
	l := newLoop(t)
	adopted, err := os.CreateTemp(t.TempDir(), "x") // any file: the duplicate fails before it is looked at
	if err != nil {
		t.Fatal(err)
	}
	defer adopted.Close()
	for name, opts := range map[string]udp.Options{
		"socket": {LocalAddr: "127.0.0.1:0", ICMPErrors: true, ReceiveInfo: udp.InfoDestination},
		"dup":    {Sock: adopted},
	} {
		before := testfd.Open(t)
		testfd.WithLimit(t, 0, func() {
			_, _, err = udp.CreateDatagramEndpoint(context.Background(), l, never, opts)
		})
		if !errors.Is(err, syscall.EMFILE) || !strings.Contains(err.Error(), "udp") {
			t.Fatalf("%s: out of descriptors: %v; want an error matching EMFILE", name, err)
		}
		if after := testfd.Open(t); after != before {
			t.Fatalf("%s: %d descriptors open before, %d after", name, before, after)
		}
	}
	tr, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
	if tr.IsClosing() {
		t.Fatal("no endpoint once descriptors are back")
	}
}

// ENFILE (the system's file table full), injected at the socket layer since no test may fill the
// table of a shared machine: the create call fails with an error matching ENFILE, nothing is left
// open, and the next call succeeds.
//
// Fault: ENFILE when an endpoint's socket is made (injected at the socket layer) → the create call fails with an error matching ENFILE; nothing left open; the next call succeeds
func TestCreateWithTheFileTableFull(t *testing.T) {
	l := newLoop(t)
	before := testfd.Open(t)
	sock.DescriptorFault = func(string) syscall.Errno { return syscall.ENFILE }
	_, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: "127.0.0.1:0"})
	sock.DescriptorFault = nil
	if !errors.Is(err, syscall.ENFILE) {
		t.Fatalf("with the table full: %v; want an error matching ENFILE", err)
	}
	if after := testfd.Open(t); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
	endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0"})
}
