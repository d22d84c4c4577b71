// The conformance suite: written against the contract in poller.go, run by every backend.

package poller_test

import (
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testfd"
	"github.com/aioloop/aioloop/poller"
)

// long bounds every Wait that expects an event, so that a broken backend fails instead of hanging.
const long = 5 * time.Second

func newPoller(t testing.TB) *poller.Poller {
	t.Helper()
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// socketpair returns a connected non-blocking stream pair, closed when the test ends (AF_UNIX on
// Unix, TCP on loopback on Windows).
func socketpair(t testing.TB) (a, b int) { t.Helper(); return testfd.Socketpair(t) }

func write(t testing.TB, fd int, s string) {
	t.Helper()
	if _, err := testfd.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// waitOne waits for events and returns the merged flags of those with token (kqueue reports read
// and write readiness as two events).
func waitOne(t testing.TB, p *poller.Poller, token uint64) poller.Flags {
	t.Helper()
	evs := make([]poller.Event, 16)
	n, err := p.Wait(evs, long)
	if err != nil {
		t.Fatal(err)
	}
	var f poller.Flags
	for _, ev := range evs[:n] {
		if ev.Token != token {
			t.Fatalf("event for token %#x, want %#x", ev.Token, token)
		}
		f |= ev.Flags
	}
	if n == 0 {
		t.Fatalf("no event within %v", long)
	}
	return f
}

func expectNone(t testing.TB, p *poller.Poller) {
	t.Helper()
	evs := make([]poller.Event, 16)
	n, err := p.Wait(evs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("got %d events %v, want none", n, evs[:n])
	}
}

func TestReadableLevelTriggered(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	const tok = 0xdeadbeef_12345678 // both halves of the token must come back
	if err := p.Add(a, tok, poller.Readable); err != nil {
		t.Fatal(err)
	}
	expectNone(t, p)
	write(t, b, "x")
	for range 3 { // level-triggered: reported until read
		if f := waitOne(t, p, tok); f&poller.FlagReadable == 0 {
			t.Fatalf("flags %v, want readable", f)
		}
	}
	var buf [8]byte
	if _, err := testfd.Read(a, buf[:]); err != nil {
		t.Fatal(err)
	}
	expectNone(t, p)
}

func TestModifyChangesInterestAndToken(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	write(t, b, "x")
	if err := p.Modify(a, 2, poller.Writable); err != nil {
		t.Fatal(err)
	}
	if f := waitOne(t, p, 2); f&poller.FlagWritable == 0 || f&poller.FlagReadable != 0 {
		t.Fatalf("flags %v, want writable only", f)
	}
	if err := p.Modify(a, 3, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	if f := waitOne(t, p, 3); f&(poller.FlagReadable|poller.FlagWritable) != poller.FlagReadable|poller.FlagWritable {
		t.Fatalf("flags %v, want readable and writable", f)
	}
}

func TestDelete(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 1, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	write(t, b, "x")
	if err := p.Delete(a); err != nil {
		t.Fatal(err)
	}
	expectNone(t, p)
	if err := p.Delete(a); !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("second Delete: %v, want ENOENT", err)
	}
}

func TestPeerCloseIsReadable(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 7, poller.Readable); err != nil {
		t.Fatal(err)
	}
	testfd.Shutdown(b)
	if f := waitOne(t, p, 7); f&poller.FlagReadable == 0 {
		t.Fatalf("flags %v after peer shutdown, want readable", f)
	}
}

func TestWaitFillsAtMostLen(t *testing.T) {
	p := newPoller(t)
	for i := range 3 {
		a, b := socketpair(t)
		if err := p.Add(a, uint64(i), poller.Readable); err != nil {
			t.Fatal(err)
		}
		write(t, b, "x")
	}
	evs := make([]poller.Event, 2)
	n, err := p.Wait(evs, long)
	if err != nil || n != 2 {
		t.Fatalf("Wait = %d, %v; want 2 events", n, err)
	}
	if evs[0].Token == evs[1].Token || evs[0].Token > 2 || evs[1].Token > 2 {
		t.Fatalf("tokens %v", evs)
	}
	if n, err := p.Wait(evs[:0], -1); n != 0 || err != nil {
		t.Fatalf("Wait with an empty slice = %d, %v; want 0, nil at once", n, err)
	}
}

func TestWaitTimeoutAndPoll(t *testing.T) {
	p := newPoller(t)
	evs := make([]poller.Event, 4)
	start := time.Now()
	n, err := p.Wait(evs, 30*time.Millisecond)
	if err != nil || n != 0 {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	// Only the lower bound is checked: rounding is up, so Wait never returns early.
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("Wait(30ms) returned after %v", d)
	}
}

func TestWakeUnblocksWait(t *testing.T) {
	p := newPoller(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(20 * time.Millisecond)
		if err := p.Wake(); err != nil {
			t.Error(err)
		}
	})
	evs := make([]poller.Event, 4)
	n, err := p.Wait(evs, -1) // hangs here if Wake is broken; go test's timeout reports it
	wg.Wait()
	if err != nil || n != 0 {
		t.Fatalf("Wait = %d, %v; want 0 events (the wake-up is not an event)", n, err)
	}
	expectNone(t, p)
}

func TestWakeCoalesced(t *testing.T) {
	p := newPoller(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if err := p.Wake(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if w := p.WakeWrites(); w != 1 {
		t.Fatalf("800 Wakes before a Wait wrote %d wake-ups, want 1", w)
	}
	evs := make([]poller.Event, 4)
	if n, err := p.Wait(evs, -1); n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	// Consumed: the next Wait sleeps its full timeout, and a new Wake writes again.
	if n, err := p.Wait(evs, 10*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	p.Wake()
	if w := p.WakeWrites(); w != 2 {
		t.Fatalf("Wake after the wake-up was consumed wrote %d in all, want 2", w)
	}
}

func TestRegistrationErrors(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	if err := p.Add(a, poller.WakeToken, poller.Readable); !errors.Is(err, poller.ErrReservedToken) {
		t.Errorf("Add(WakeToken) = %v", err)
	}
	if err := p.Add(a, 1, 0); !errors.Is(err, poller.ErrNoInterest) {
		t.Errorf("Add(no interest) = %v", err)
	}
	if err := p.Add(-1, 1, poller.Readable); !errors.Is(err, syscall.EBADF) {
		t.Errorf("Add(-1) = %v, want EBADF", err)
	}
	var se interface{ Unwrap() error }
	if err := p.Add(-1, 1, poller.Readable); !errors.As(err, &se) {
		t.Errorf("Add(-1) = %T, want an *os.SyscallError", err)
	}
}

func TestClosed(t *testing.T) {
	p, err := poller.New()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := socketpair(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	evs := make([]poller.Event, 1)
	for name, err := range map[string]error{
		"Add":    p.Add(a, 1, poller.Readable),
		"Modify": p.Modify(a, 1, poller.Readable),
		"Delete": p.Delete(a),
		"Wake":   p.Wake(),
	} {
		if !errors.Is(err, poller.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
	if _, err := p.Wait(evs, 0); !errors.Is(err, poller.ErrClosed) {
		t.Errorf("Wait after Close = %v", err)
	}
}

func TestWaitDoesNotAllocate(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, 1, poller.Readable); err != nil {
		t.Fatal(err)
	}
	write(t, b, "x")
	evs := make([]poller.Event, 8)
	allocs := testing.AllocsPerRun(1000, func() {
		if n, _ := p.Wait(evs, 0); n != 1 {
			t.Fatalf("Wait = %d", n)
		}
	})
	if allocs != 0 {
		t.Errorf("Wait with an event ready: %v allocations, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		p.Wake()
		p.Wait(evs, -1)
	})
	if allocs != 0 {
		t.Errorf("Wake then Wait: %v allocations, want 0", allocs)
	}
}

func BenchmarkWaitReady(b *testing.B) {
	p := newPoller(b)
	a, c := socketpair(b)
	p.Add(a, 1, poller.Readable)
	write(b, c, "x")
	evs := make([]poller.Event, 8)
	b.ReportAllocs()
	for b.Loop() {
		p.Wait(evs, 0)
	}
}

func BenchmarkWakeThenWait(b *testing.B) {
	p := newPoller(b)
	evs := make([]poller.Event, 8)
	b.ReportAllocs()
	for b.Loop() {
		p.Wake()
		p.Wait(evs, -1)
	}
}
