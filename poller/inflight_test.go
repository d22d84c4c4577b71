package poller_test

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/poller"
)

// Conformance, part two: registrations changed or removed while the backend is waiting on them
// (on Windows, with an AFD poll request in flight), and many registrations at once.

// armed makes sure the backend is watching fd: a Wait that reports nothing for it.
func armed(t *testing.T, p *poller.Poller) { t.Helper(); expectNone(t, p) }

func TestDeleteWithPollInFlight(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	if err := p.Delete(a); err != nil {
		t.Fatal(err)
	}
	write(t, b, "x")
	if n, _ := p.Wait(make([]poller.Event, 4), 50*time.Millisecond); n != 0 {
		t.Fatalf("%d events after Delete", n)
	}
	// Registered again, under a new token: reported once, with that token.
	if err := p.Add(a, 2, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if f := waitOne(t, p, 2); f&poller.FlagReadable == 0 {
		t.Fatalf("flags %v, want readable", f)
	}
}

func TestModifyWithPollInFlight(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	// Writable was not asked before: the wait in flight must be replaced, not waited out.
	if err := p.Modify(a, 2, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	if f := waitOne(t, p, 2); f != poller.FlagWritable {
		t.Fatalf("flags %v, want writable only", f)
	}
	if err := p.Modify(a, 3, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	write(t, b, "x")
	if f := waitOne(t, p, 3); f != poller.FlagReadable {
		t.Fatalf("flags %v, want readable only", f)
	}
}

func TestClosedWithPollInFlight(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	c, d := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(c, 2, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	// Closing a registered descriptor forgets it (epoll and kqueue drop it; the Windows poller
	// gets its request back with LOCAL_CLOSE). The test's cleanup closes a again: harmless, a
	// socket handle or descriptor number is not reused while the test holds the others.
	testfd.Close(a)
	evs := make([]poller.Event, 4)
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		n, err := p.Wait(evs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[:n] {
			t.Fatalf("event %v after the socket was closed", ev)
		}
	}
	// The poller goes on working for the others.
	write(t, d, "y")
	if f := waitOne(t, p, 2); f&poller.FlagReadable == 0 {
		t.Fatalf("flags %v, want readable", f)
	}
}

func TestManySockets(t *testing.T) {
	const pairs = 200
	p := newPoller(t)
	var peers [pairs]int
	for i := range pairs {
		a, b := socketpair(t)
		peers[i] = b
		if err := p.Add(a, uint64(i)<<32|uint64(i), poller.Readable); err != nil {
			t.Fatal(err)
		}
	}
	armed(t, p)
	for i := 0; i < pairs; i += 2 {
		write(t, peers[i], "x")
	}
	seen := make(map[uint64]bool)
	evs := make([]poller.Event, 64)
	deadline := time.Now().Add(long)
	for len(seen) < pairs/2 && time.Now().Before(deadline) {
		n, err := p.Wait(evs, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[:n] {
			i := ev.Token & 0xffffffff
			if ev.Token>>32 != i || i%2 != 0 || ev.Flags&poller.FlagReadable == 0 {
				t.Fatalf("event %#x %v: only even tokens were written to", ev.Token, ev.Flags)
			}
			seen[ev.Token] = true
		}
	}
	if len(seen) != pairs/2 {
		t.Fatalf("%d of %d readable sockets reported", len(seen), pairs/2)
	}
}

// Every Wake from another goroutine ends the Wait it was meant for, not only the first: a backend
// that fails to recognise its wake-up (a token that does not fit) or to re-arm it loses the later
// ones, and that Wait would run out its whole timeout.
func TestEveryWakeIsSeen(t *testing.T) {
	p := newPoller(t)
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for range ready {
			time.Sleep(time.Millisecond) // most often, the Wait is blocked by now
			if err := p.Wake(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	evs := make([]poller.Event, 4)
	for i := range 200 {
		ready <- struct{}{}
		start := time.Now()
		n, err := p.Wait(evs, long)
		if err != nil || n != 0 {
			t.Fatalf("wake %d: Wait = %d, %v", i, n, err)
		}
		if time.Since(start) >= long {
			t.Fatalf("wake %d was lost: Wait ran out its %v", i, long)
		}
	}
	close(ready)
	<-done
}

// A regular file is always "ready" and has nothing to wait for: every backend refuses it (epoll
// with EPERM, kqueue too, where the kernel would accept it and the loop would spin; Windows, which
// polls only sockets, with EBADF).
func TestRegularFileIsRefused(t *testing.T) {
	p := newPoller(t)
	f, err := os.CreateTemp("", "aioloop-poller")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	want := syscall.EPERM
	if runtime.GOOS == "windows" {
		want = syscall.EBADF
	}
	if err := p.Add(int(f.Fd()), 1, poller.Readable); !errors.Is(err, want) {
		t.Fatalf("Add(a regular file) = %v; want %v", err, want)
	}
}
