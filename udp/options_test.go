//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/udp"
)

func never() udp.Protocol { panic("the factory must not run for refused options") }

func TestBadOptionsAreRefusedBeforeAnySocket(t *testing.T) {
	l := newLoop(t)
	f := os.NewFile(^uintptr(0), "not a socket") // never reached: refused before it is used
	long := "/" + strings.Repeat("x", 200)
	for _, tc := range []struct {
		name string
		opts udp.Options
		want string
	}{
		{"reuse address", udp.Options{LocalAddr: "127.0.0.1:0", ReuseAddress: true}, "ReusePort"},
		{"sock with addresses", udp.Options{Sock: f, LocalAddr: "127.0.0.1:0", ReusePort: true}, "Options.LocalAddr, Options.ReusePort"},
		{"unknown flag", udp.Options{LocalAddr: "127.0.0.1:0", Flags: 0x8000}, "Options.Flags"},
		{"bad family", udp.Options{LocalAddr: "127.0.0.1:0", Family: 99}, "Options.Family 99"},
		{"unix reuse port", udp.Options{LocalAddr: "@x", ReusePort: true}, "Options.ReusePort"},
		{"unix broadcast", udp.Options{Family: syscall.AF_UNIX, AllowBroadcast: true}, "Options.AllowBroadcast"},
		{"path too long", udp.Options{LocalAddr: long}, "Options.LocalAddr is 201 bytes"},
		{"path with inet", udp.Options{Family: syscall.AF_INET, RemoteAddr: "/tmp/x"}, "Options.RemoteAddr \"/tmp/x\" is a Unix path"},
		{"no address no family", udp.Options{}, "Options.Family"},
		{"no port", udp.Options{LocalAddr: "127.0.0.1"}, "Options.LocalAddr"},
		{"numeric host", udp.Options{RemoteAddr: "localhost:53", Flags: udp.FlagNumericHost}, "FlagNumericHost"},
		{"numeric serv", udp.Options{RemoteAddr: "127.0.0.1:domain", Flags: udp.FlagNumericServ}, "FlagNumericServ"},
		{"family mismatch", udp.Options{LocalAddr: "127.0.0.1:0", RemoteAddr: "[::1]:53"}, "no address family in common"},
		{"v6 only family", udp.Options{Family: syscall.AF_INET6, RemoteAddr: "127.0.0.1:53"}, "has no address of Options.Family"},
	} {
		_, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{LocalAddr: "127.0.0.1:0", ReuseAddress: true}); !errors.Is(err, udp.ErrReuseAddress) ||
		!strings.Contains(err.Error(), "other users") {
		t.Errorf("ReuseAddress: %v", err)
	}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{RemoteAddr: long}); !errors.Is(err, udp.ErrPathTooLong) {
		t.Errorf("a path too long: %v; want ErrPathTooLong", err)
	}
	if _, _, err := udp.CreateDatagramEndpoint[udp.Protocol](context.Background(), l, nil, udp.Options{LocalAddr: "127.0.0.1:0"}); err == nil {
		t.Error("nil factory accepted")
	}
	if _, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return nil }, udp.Options{LocalAddr: "127.0.0.1:0"}); err == nil {
		t.Error("a factory returning nil was accepted")
	}
}

func TestNamesAreNotResolvedOnTheLoop(t *testing.T) {
	l := newLoop(t)
	var err error
	l.CallSoon(func() {
		_, _, err = udp.CreateDatagramEndpoint(context.Background(), l, never, udp.Options{RemoteAddr: "localhost:53"})
		l.Stop()
	})
	run(t, l)
	if !errors.Is(err, udp.ErrResolveOnLoop) {
		t.Fatalf("create with a host name on the loop goroutine = %v; want ErrResolveOnLoop", err)
	}
}
