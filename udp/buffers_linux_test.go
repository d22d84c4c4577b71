package udp_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
)

// procDrops reads the drops column of /proc/net/udp (or udp6) for the socket bound to port.
func procDrops(t *testing.T, file string, port uint16) uint64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	lines.Scan() // the header
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		local := fields[1]
		if strings.HasSuffix(local, fmt.Sprintf(":%04X", port)) {
			n, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no socket on port %d in %s", port, file)
	return 0
}

// A tiny receive buffer and a burst the server does not read: the kernel drops most of it, and
// Drops says how many, as /proc/net/udp does. BufferSizes reports what the kernel granted.
//
// Fault: a burst into a 4 KiB receive buffer → Transport.Drops equals the kernel's count in /proc/net/udp
func TestTinyReceiveBufferDropsAreCounted(t *testing.T) {
	l := newLoop(t)
	srv, _ := endpoint(t, l, udp.Options{LocalAddr: "127.0.0.1:0", ReceiveBuffer: 4096, SendBuffer: 65536})
	rcv, snd, err := srv.BufferSizes()
	if err != nil || rcv < 4096 || rcv > 4*4096 || snd < 65536 {
		t.Fatalf("BufferSizes = %d, %d, %v; asked for 4096 and 65536 (Linux grants twice)", rcv, snd, err)
	}
	srv.PauseReading() // nobody reads: the burst fills the buffer and the rest is dropped
	cli, _ := endpoint(t, l, udp.Options{RemoteAddr: srv.LocalAddr().String()})
	msg := make([]byte, 1000)
	for range 200 {
		cli.Send(msg)
	}
	l.CallLater(20*time.Millisecond, l.Stop)
	run(t, l)
	drops, err := srv.Drops()
	if err != nil {
		t.Fatal(err)
	}
	proc := procDrops(t, "/proc/net/udp", srv.LocalAddr().AddrPort().Port())
	if drops == 0 || drops != proc {
		t.Fatalf("Drops = %d, /proc/net/udp says %d; want them equal and not 0", drops, proc)
	}
	if n, _ := srv.Drops(); n != drops {
		t.Fatalf("Drops changed without traffic: %d then %d", drops, n)
	}
}

func TestBufferAndFragmentOptions(t *testing.T) {
	l := newLoop(t)
	for _, c := range []struct {
		opts udp.Options
		want string
	}{
		{udp.Options{LocalAddr: "127.0.0.1:0", ReceiveBuffer: -1}, "Options.ReceiveBuffer is -1"},
		{udp.Options{LocalAddr: "127.0.0.1:0", SendBuffer: -2}, "Options.SendBuffer is -2"},
		{udp.Options{LocalAddr: "/tmp/y.sock", DontFragment: true}, "Options.DontFragment is for IP endpoints"},
		{udp.Options{Sock: os.Stdin, SendBuffer: -1}, "Options.SendBuffer is -1"},
	} {
		if _, _, err := udp.CreateDatagramEndpoint(t.Context(), l, never, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v; want %q", c.opts, err, c.want)
		}
	}
}

// Don't Fragment, across a veth pair whose MTU is 1280 (in network namespaces this test makes):
// with the option a 1400-byte datagram is refused with EMSGSIZE, reported to ErrorReceived, and the
// endpoint stays; without it the same datagram leaves in fragments and arrives whole.
func TestDontFragmentAcrossASmallMTU(t *testing.T) {
	nsA, nsB := netns(t)
	if out, err := exec.Command("ip", "-n", nsA, "link", "set", "va", "mtu", "1280").CombinedOutput(); err != nil {
		t.Fatalf("ip link set mtu: %v\n%s", err, out)
	}
	l := newLoop(t)
	var receiver, df, plain *udp.Transport
	var rr, dr *recorder
	inNetns(t, nsB, func() { receiver, rr = endpoint(t, l, udp.Options{LocalAddr: "10.199.0.2:0"}) })
	inNetns(t, nsA, func() {
		df, dr = endpoint(t, l, udp.Options{RemoteAddr: receiver.LocalAddr().String(), DontFragment: true})
		plain, _ = endpoint(t, l, udp.Options{RemoteAddr: receiver.LocalAddr().String()})
	})
	rr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	big := make([]byte, 1400)
	var again func()
	again = func() { // until the veth pair carries frames (its link comes up asynchronously)
		plain.Send(big)
		l.CallLater(50*time.Millisecond, again)
	}
	l.CallSoon(func() {
		df.Send(big)
		again()
	})
	run(t, l)
	if len(dr.errs) != 1 || !errors.Is(dr.errs[0], syscall.EMSGSIZE) || df.IsClosing() {
		t.Fatalf("DontFragment: errors %v; want one EMSGSIZE and the endpoint open", dr.errs)
	}
	for _, d := range rr.got {
		if len(d.data) != 1400 || d.from != plain.LocalAddr() {
			t.Fatalf("the receiver got %d bytes from %v; want only the fragmented ones, whole", len(d.data), d.from)
		}
	}
}
