package poller_test

import (
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/poller"
)

// A deleted registration's request is reused only after its cancelled poll's packet has come back:
// until then the kernel may still write to it.
func TestRequestFreedAfterItsPacket(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	c, _ := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	if err := p.Delete(a); err != nil {
		t.Fatal(err)
	}
	if in, free, _ := p.Requests(); in != 1 || free != 0 {
		t.Fatalf("after Delete: %d in flight, %d free; want 1, 0", in, free)
	}
	if err := p.Add(c, 2, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if _, _, all := p.Requests(); all != 2 {
		t.Fatalf("%d requests: the cancelled one must not be reused yet", all)
	}
	armed(t, p) // dequeues the cancelled poll's packet
	if in, free, all := p.Requests(); in != 1 || free != 1 || all != 2 {
		t.Fatalf("after its packet: %d in flight, %d free, %d in all; want 1, 1, 2", in, free, all)
	}
}

// Polls re-armed thousands of times with the collector running: a request the kernel writes to
// must neither move nor be collected (a packet that names a stale request would fail the test).
func TestPollCyclesUnderGC(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 9, poller.Readable); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	for i := range 2000 {
		write(t, b, "x")
		if f := waitOne(t, p, 9); f&poller.FlagReadable == 0 {
			t.Fatalf("cycle %d: flags %v", i, f)
		}
		if _, err := testfd.Read(a, buf); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			runtime.GC()
		}
	}
	if n, _ := p.Wait(make([]poller.Event, 4), 10*time.Millisecond); n != 0 {
		t.Fatalf("%d events after the last read", n)
	}
}

// C lays AFD_POLL_INFO out in 32 bytes on 386 as on amd64 (its LARGE_INTEGER aligns the struct to
// 8); Go would make it 28 on 386 without the explicit padding.
func TestAFDPollInfoLayout(t *testing.T) {
	if poller.AFDPollInfoSize != 32 {
		t.Fatalf("AFD_POLL_INFO is %d bytes here; the kernel reads 32", poller.AFDPollInfoSize)
	}
}

// Interest changes cancel the poll in flight only when it misses an event now wanted: dropping
// write interest (a transport whose buffer drained) costs no cancel, and what the wider poll
// reports is filtered to the interest.
func TestNarrowerInterestKeepsThePollInFlight(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	fill := make([]byte, 64<<10)
	for { // a's send buffer full, and b not reading: a is neither readable nor writable
		if _, err := testfd.Write(a, fill); err != nil {
			break
		}
	}
	if err := p.Add(a, 1, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	if err := p.Modify(a, 2, poller.Readable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	if n := p.Cancels(); n != 0 {
		t.Fatalf("%d cancels for a narrower interest", n)
	}
	if err := p.Modify(a, 3, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	armed(t, p)
	if n := p.Cancels(); n != 0 {
		t.Fatalf("%d cancels: the poll in flight already asks for both", n)
	}
	if err := p.Modify(a, 4, poller.Readable); err != nil {
		t.Fatal(err)
	}
	write(t, b, "x")
	if f := waitOne(t, p, 4); f != poller.FlagReadable {
		t.Fatalf("flags %v, want readable only", f)
	}
}

// A socket closed after Add and before the first Wait: its poll cannot be issued. The poller
// forgets it, as epoll forgets a closed descriptor (reporting nothing, where a failure it kept
// reporting would spin the loop), goes on serving the others, and Delete then says ENOENT.
func TestClosedBeforeItsFirstPoll(t *testing.T) {
	p := newPoller(t)
	s := testfd.Socket(t)
	c, d := socketpair(t)
	if err := p.Add(s, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(c, 2, poller.Readable); err != nil {
		t.Fatal(err)
	}
	testfd.Close(s)
	evs := make([]poller.Event, 8)
	errs := 0
	for range 5 {
		n, err := p.Wait(evs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[:n] {
			if ev.Token != 1 || ev.Flags&poller.FlagError == 0 {
				t.Fatalf("event %v", ev)
			}
			errs++
		}
	}
	if errs != 0 {
		t.Fatalf("%d error reports for the closed socket", errs)
	}
	if err := p.Delete(s); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Delete = %v", err)
	}
	write(t, d, "x")
	if f := waitOne(t, p, 2); f&poller.FlagReadable == 0 {
		t.Fatalf("flags %v", f)
	}
}
