// Package reactor is the seam between package loop and the transports built on it (udp,
// unixstream): registering a descriptor with a readiness handler, per-loop state, and the set of
// resources (transports, servers) that a loop closes when it is closed or shut down. It is internal
// so that the public surface of package loop stays what users call; package loop fills in Of.
package reactor

import (
	"reflect"

	"github.com/aioloop/aioloop/poller"
)

// Interest says which readiness a registration asks for: Readable, Writable, both, or neither
// (registered but quiet: the loop takes the descriptor out of the poller until interest returns).
type Interest = poller.Interest

// The interests; combine with |.
const (
	Readable = poller.Readable
	Writable = poller.Writable
)

// Handler receives readiness for a registered file descriptor; its methods run on the loop
// goroutine. An error or hang-up reported by the poller is delivered as both readable and
// writable (as far as the interest goes), so that the next read or write returns it.
type Handler interface {
	OnReadable()
	OnWritable()
}

// PanicHandler is an optional extension of Handler: after a panic in OnReadable or OnWritable has
// been recovered and reported, the loop calls OnPanic with the *loop.PanicError, so that a
// transport can close itself as asyncio's _fatal_error does.
type PanicHandler interface {
	OnPanic(err error)
}

// Owner is an optional extension of Handler: the object users know (a *udp.Transport, a
// *unixstream.Server) that exception reports name as the transport, instead of the handler.
type Owner interface {
	Owner() any
}

// Registration is a descriptor registered with a loop. Its methods are loop-only.
type Registration interface {
	// Interest returns the current interest, or 0 once unregistered.
	Interest() Interest
	// SetInterest changes what the registration watches; an unchanged interest costs no syscall.
	SetInterest(in Interest) error
	// Unregister stops watching the descriptor; call it before closing the descriptor. Events
	// already reported for it are dropped. A second call returns an error.
	Unregister() error
}

// Resource is something that owns descriptors on a loop (a transport, a server) and that the loop
// must close when it is shut down or closed. A resource is tracked from its creation until it is
// gone (its ConnectionLost has run, or its creation failed).
type Resource interface {
	// Shutdown begins a graceful close (Close: flush what is queued, then ConnectionLost). Loop
	// goroutine.
	Shutdown()
	// Abort closes at once and schedules ConnectionLost(err). Loop goroutine.
	Abort(err error)
	// CloseNow closes at once and, unless it already ran, runs ConnectionLost(err) before it
	// returns: the loop is being closed and runs no more callbacks. Called by Loop.Close on its
	// caller's goroutine, while the loop does not run.
	CloseNow(err error)
}

// Loop is what a transport package needs from a *loop.Loop.
type Loop interface {
	// Register watches fd for in and calls h when it is ready. An fd may be registered once.
	// Loop-only.
	Register(fd int, h Handler, in Interest) (Registration, error)
	// Local returns the value stored on this loop under key, made by mk on first use: state that
	// every transport of one loop shares, since one runs at a time. Loop-only.
	Local(key any, mk func() any) any
	// Track adds r to the resources the loop closes; it fails once the loop is closing. Loop-only.
	Track(r Resource) error
	// Untrack removes r, once it is gone. Loop-only.
	Untrack(r Resource)
}

// Of returns the reactor side of a *loop.Loop (l must be one). Set by package loop.
var Of func(l any) Loop

// Member records whether a resource is in its loop's set, so that it joins and leaves once.
// Loop-only, as Track and Untrack.
type Member struct{ in bool }

// Join tracks r on l.
func (m *Member) Join(l any, r Resource) error {
	if err := Of(l).Track(r); err != nil {
		return err
	}
	m.in = true
	return nil
}

// Leave untracks r, if it joined and has not left yet.
func (m *Member) Leave(l any, r Resource) {
	if m.in {
		m.in = false
		Of(l).Untrack(r)
	}
}

// IsNil reports whether v is nil or holds a nil pointer, map, slice, func, channel or interface:
// a protocol factory of a pointer type that returned nil, seen through an interface.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
