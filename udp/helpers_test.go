//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"context"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testloop"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

const guard = 20 * time.Second

func newLoop(t testing.TB) *loop.Loop { t.Helper(); return testloop.New(t, loop.Options{}) }

// run runs l until it stops, failing the test if the guard expires first.
func run(t testing.TB, l *loop.Loop) { t.Helper(); testloop.Run(t, l, guard) }

type datagram struct {
	data string
	from udp.Addr
}

// recorder is a protocol that records everything, copying the borrowed data, and calls hooks.
type recorder struct {
	t        *udp.Transport
	made     int
	got      []datagram
	errs     []error
	lost     []error
	events   []string
	onData   func(r *recorder, data []byte, from udp.Addr)
	onErr    func(r *recorder, err error)
	onLost   func(r *recorder, err error)
	pauses   int
	resumes  int
	onPause  func(r *recorder)
	onResume func(r *recorder)
}

func (r *recorder) ConnectionMade(t *udp.Transport) {
	r.t = t
	r.made++
	r.events = append(r.events, "made")
}
func (r *recorder) DatagramReceived(data []byte, from udp.Addr) {
	r.got = append(r.got, datagram{string(data), from})
	if r.onData != nil {
		r.onData(r, data, from)
	}
}
func (r *recorder) ErrorReceived(err error) {
	r.errs = append(r.errs, err)
	if r.onErr != nil {
		r.onErr(r, err)
	}
}
func (r *recorder) ConnectionLost(err error) {
	r.lost = append(r.lost, err)
	r.events = append(r.events, "lost")
	if r.onLost != nil {
		r.onLost(r, err)
	}
}

// flowRecorder adds FlowControl to a recorder.
type flowRecorder struct{ *recorder }

func (f flowRecorder) PauseWriting() {
	f.pauses++
	f.events = append(f.events, "pause")
	if f.onPause != nil {
		f.onPause(f.recorder)
	}
}
func (f flowRecorder) ResumeWriting() {
	f.resumes++
	f.events = append(f.events, "resume")
	if f.onResume != nil {
		f.onResume(f.recorder)
	}
}

// endpoint creates an endpoint with a recorder and closes it when the test ends.
func endpoint(t testing.TB, l *loop.Loop, opts udp.Options) (*udp.Transport, *recorder) {
	t.Helper()
	r := &recorder{}
	tr, p, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return r }, opts)
	if err != nil {
		t.Fatalf("CreateDatagramEndpoint(%+v): %v", opts, err)
	}
	if p != udp.Protocol(r) || r.made != 1 || r.t != tr {
		t.Fatalf("protocol %v, ConnectionMade called %d times", p, r.made)
	}
	t.Cleanup(func() { closeAndDrain(l, tr) })
	return tr, r
}

// closeAndDrain closes tr if it is still open and lets the loop run its ConnectionLost, which
// closes the socket.
func closeAndDrain(l *loop.Loop, tr *udp.Transport) {
	if l.IsClosed() {
		return
	}
	if !tr.IsClosing() {
		tr.Abort()
	}
	l.Stop()
	l.Run(context.Background())
}

// echoProto sends every datagram back; pingProto signals each reply. Neither allocates.
type echoProto struct{ t *udp.Transport }

func (p *echoProto) ConnectionMade(t *udp.Transport)             { p.t = t }
func (p *echoProto) DatagramReceived(data []byte, from udp.Addr) { p.t.SendTo(data, from) }
func (p *echoProto) ErrorReceived(error)                         {}
func (p *echoProto) ConnectionLost(error)                        {}

type pingProto struct {
	echoProto
	replies chan struct{}
}

func (p *pingProto) DatagramReceived([]byte, udp.Addr) { p.replies <- struct{}{} }

// closedPort returns an address on host where nothing listens any more: an endpoint's, closed.
func closedPort(t testing.TB, l *loop.Loop, host string) udp.Addr {
	t.Helper()
	tr, _ := endpoint(t, l, udp.Options{LocalAddr: host + ":0"})
	closeAndDrain(l, tr)
	return tr.LocalAddr()
}

// rounds calls f n times, 1 ms apart, on l, then stops l 50 ms after the last.
func rounds(l *loop.Loop, n int, f func()) {
	done := 0
	var round func()
	round = func() {
		f()
		if done++; done < n {
			l.CallLater(time.Millisecond, round)
		} else {
			l.CallLater(50*time.Millisecond, l.Stop)
		}
	}
	l.CallSoon(round)
}
