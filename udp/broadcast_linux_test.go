package udp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/udp"
)

// netns makes two network namespaces joined by a veth pair, 10.199.0.1/24 and 10.199.0.2/24, and
// removes them when the test ends. It needs root and iproute2's ip.
func netns(t *testing.T) (a, b string) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: making network namespaces needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal("iproute2's ip is missing: .ci/run installs it (apt-get install iproute2)")
	}
	id := fmt.Sprintf("%d-%s", os.Getpid(), strings.ToLower(t.Name())[:8])
	a, b = "aioloop-a-"+id, "aioloop-b-"+id
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", a)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", a).Run() })
	ip("netns", "add", b)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", b).Run() })
	ip("-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
	ip("-n", a, "addr", "add", "10.199.0.1/24", "broadcast", "10.199.0.255", "dev", "va")
	ip("-n", b, "addr", "add", "10.199.0.2/24", "broadcast", "10.199.0.255", "dev", "vb")
	ip("-n", a, "link", "set", "va", "up")
	ip("-n", b, "link", "set", "vb", "up")
	return a, b
}

// inNetns runs fn on a thread that has entered the named namespace: sockets fn makes live there.
func inNetns(t *testing.T, name string, fn func()) {
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		return // leave the thread locked: it dies with this goroutine instead of serving others
	}
	runtime.UnlockOSThread()
}

func TestBroadcastBetweenNamespaces(t *testing.T) {
	nsA, nsB := netns(t)
	l := newLoop(t)
	var sender, quiet, receiver *udp.Transport
	var sr, qr, rr *recorder
	inNetns(t, nsB, func() {
		receiver, rr = endpoint(t, l, udp.Options{LocalAddr: ":9999"}) // every address, dual-stack
	})
	inNetns(t, nsA, func() {
		sender, sr = endpoint(t, l, udp.Options{LocalAddr: "10.199.0.1:0", AllowBroadcast: true})
		quiet, qr = endpoint(t, l, udp.Options{LocalAddr: "10.199.0.1:0"})
	})
	if got := receiver.LocalAddr().AddrPort().Addr(); !got.IsUnspecified() {
		t.Fatalf("an empty host bound %v, want the wildcard", got)
	}
	bcast := udp.AddrFromAddrPort(netip.MustParseAddrPort("10.199.0.255:9999"))
	rr.onData = func(*recorder, []byte, udp.Addr) { l.Stop() }
	// The veth pair may not carry frames yet when the first broadcast leaves (its link comes up
	// asynchronously, slowly on a loaded machine): send again every 50 ms until one arrives.
	var send func()
	send = func() {
		sender.SendTo([]byte("hello, segment"), bcast)
		l.CallLater(50*time.Millisecond, send)
	}
	l.CallSoon(func() {
		// Without AllowBroadcast the kernel refuses: EACCES, reported, the transport stays open.
		quiet.SendTo([]byte("not allowed"), bcast)
		send()
	})
	run(t, l)
	if len(qr.errs) != 1 || !errors.Is(qr.errs[0], syscall.EACCES) || quiet.IsClosing() {
		t.Fatalf("broadcast without AllowBroadcast: errors %v", qr.errs)
	}
	if len(rr.got) == 0 || rr.got[0].data != "hello, segment" || rr.got[0].from != sender.LocalAddr() {
		t.Fatalf("receiver in the other namespace got %+v (sender %v)", rr.got, sender.LocalAddr())
	}
	if len(sr.errs) != 0 {
		t.Fatalf("sender errors %v", sr.errs)
	}
}
