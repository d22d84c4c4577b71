//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package loop_test

import (
	"errors"
	"testing"

	"github.com/aioloop/aioloop/internal/testfd"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/loop"
)

func writeByte(t testing.TB, fd int) {
	t.Helper()
	if _, err := testfd.Write(fd, []byte{'x'}); err != nil {
		t.Fatal(err)
	}
}

func TestAddReaderOnSocketpair(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a, b := socketpair(t)
	var got []byte
	err := l.AddReader(a, func() {
		buf := make([]byte, 64)
		n, err := testfd.Read(a, buf)
		if err != nil {
			t.Errorf("read: %v", err)
			return
		}
		got = append(got, buf[:n]...)
		if string(got) == "hello" {
			if !l.RemoveReader(a) {
				t.Error("RemoveReader of a watched fd returned false")
			}
			l.Stop()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	l.CallSoon(func() { testfd.Write(b, []byte("hel")) })
	l.CallLater(0, func() { testfd.Write(b, []byte("lo")) })
	run(t, l)
	if string(got) != "hello" {
		t.Fatalf("read %q", got)
	}
	if l.RemoveReader(a) {
		t.Fatal("RemoveReader of an unwatched fd returned true")
	}
	if s := l.Stats(); s.Registrations != 0 {
		t.Fatalf("%d registrations left", s.Registrations)
	}
}

func TestAddReaderReplacesAndWriterShares(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a, b := socketpair(t)
	var calls []string
	l.AddReader(a, func() { calls = append(calls, "old reader") })
	if err := l.AddReader(a, func() {
		calls = append(calls, "reader")
		var buf [8]byte
		testfd.Read(a, buf[:])
		l.RemoveReader(a)
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.AddWriter(a, func() {
		calls = append(calls, "writer")
		l.RemoveWriter(a)
	}); err != nil {
		t.Fatal(err)
	}
	writeByte(t, b)
	l.CallLater(0, l.Stop)
	run(t, l)
	if len(calls) != 2 || calls[0] != "reader" || calls[1] != "writer" {
		t.Fatalf("calls %v; want the new reader then the writer, once each", calls)
	}
	if l.RemoveWriter(a) || l.RemoveReader(a) {
		t.Fatal("Remove after removal returned true")
	}
}

type countHandler struct {
	reads, write int
	onRead       func()
}

func (h *countHandler) OnReadable() {
	h.reads++
	if h.onRead != nil {
		h.onRead()
	}
}
func (h *countHandler) OnWritable() { h.write++ }

func TestRegisterRefusesSecondUseOfAnFd(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a, _ := socketpair(t)
	r, err := reactor.Of(l).Register(a, &countHandler{}, reactor.Readable)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.AddReader(a, func() {}); !errors.Is(err, loop.ErrFdInUse) {
		t.Fatalf("AddReader on a transport's fd = %v; want ErrFdInUse", err)
	}
	if _, err := reactor.Of(l).Register(a, &countHandler{}, reactor.Readable); !errors.Is(err, loop.ErrFdInUse) {
		t.Fatalf("second Register = %v", err)
	}
	if err := r.Unregister(); err != nil {
		t.Fatal(err)
	}
	if err := r.Unregister(); !errors.Is(err, loop.ErrNotRegistered) {
		t.Fatalf("second Unregister = %v", err)
	}
	if err := r.SetInterest(reactor.Readable); !errors.Is(err, loop.ErrNotRegistered) {
		t.Fatalf("SetInterest after Unregister = %v", err)
	}
	if _, err := reactor.Of(l).Register(-1, &countHandler{}, reactor.Readable); err == nil {
		t.Fatal("Register(-1) succeeded")
	}
	if _, err := reactor.Of(l).Register(a, nil, reactor.Readable); err == nil {
		t.Fatal("Register with a nil Handler succeeded")
	}
}

// registered makes a socketpair and registers its first end for reading with a countHandler.
func registered(t *testing.T, l *loop.Loop) (a, b int, h *countHandler, r reactor.Registration) {
	t.Helper()
	a, b = socketpair(t)
	h = &countHandler{}
	r, err := reactor.Of(l).Register(a, h, reactor.Readable)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, h, r
}

func TestSetInterest(t *testing.T) {
	l := newLoop(t, loop.Options{})
	_, b, h, r := registered(t, l)
	writeByte(t, b)
	if err := l.RunOnce(); err != nil || h.reads != 1 || h.write != 0 {
		t.Fatalf("reads %d writes %d err %v", h.reads, h.write, err)
	}
	// No interest: quiet even though the byte is still unread (level-triggered otherwise).
	if err := r.SetInterest(0); err != nil {
		t.Fatal(err)
	}
	l.RunOnce()
	if h.reads != 1 {
		t.Fatalf("read with no interest: %d", h.reads)
	}
	if err := r.SetInterest(reactor.Readable | reactor.Writable); err != nil || r.Interest() != reactor.Readable|reactor.Writable {
		t.Fatal(err)
	}
	l.RunOnce()
	if h.reads != 2 || h.write != 1 {
		t.Fatalf("reads %d writes %d; want 2 and 1", h.reads, h.write)
	}
	r.Unregister()
}

// An event already polled for a registration that a handler earlier in the same batch removed, or
// made uninterested, is dropped.
func TestStaleEventsAreDropped(t *testing.T) {
	l := newLoop(t, loop.Options{})
	a1, b1 := socketpair(t)
	a2, b2 := socketpair(t)
	h1, h2 := &countHandler{}, &countHandler{}
	r1, _ := reactor.Of(l).Register(a1, h1, reactor.Readable)
	r2, _ := reactor.Of(l).Register(a2, h2, reactor.Readable)
	h1.onRead = func() { r2.Unregister() }
	h2.onRead = func() { r1.Unregister() }
	writeByte(t, b1)
	writeByte(t, b2)
	l.RunOnce()
	if h1.reads+h2.reads != 1 {
		t.Fatalf("reads %d and %d; the first handler removed the other's registration, so one in all",
			h1.reads, h2.reads)
	}
	// Interest dropped by an earlier handler in the batch.
	h3, h4 := &countHandler{}, &countHandler{}
	r3, _ := reactor.Of(l).Register(a1, h3, reactor.Readable)
	r4, _ := reactor.Of(l).Register(a2, h4, reactor.Readable)
	h3.onRead = func() { r4.SetInterest(reactor.Writable) }
	h4.onRead = func() { r3.SetInterest(reactor.Writable) }
	l.RunOnce()
	if h3.reads+h4.reads != 1 {
		t.Fatalf("reads %d and %d; want one in all", h3.reads, h4.reads)
	}
	r3.Unregister()
	r4.Unregister()
}
