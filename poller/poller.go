// Package poller is aioloop's thin layer over one operating system readiness API: epoll on Linux,
// kqueue on darwin, dragonfly, freebsd, netbsd and openbsd, and on Windows an I/O completion port
// that readiness reaches through AFD poll requests (iocp_windows.go). Elsewhere New returns
// ErrUnsupported.
//
// # Contract
//
// Every backend defines the same concrete type, Poller, with the same methods, and nothing else:
//
//   - New makes a poller and its wake-up (an eventfd, an EVFILT_USER event, a pipe, or a posted
//     completion packet). On Windows a "file descriptor" is a socket handle, and only sockets
//     can be registered.
//   - Add registers a file descriptor with an integer token and an interest (Readable, Writable or
//     both); Modify changes the token and interest of a registered descriptor; Delete removes it.
//     Registrations are level-triggered: a descriptor that stays readable is reported by every Wait.
//     Each descriptor is registered at most once.
//   - Wait fills a caller-owned event slice with at most len(events) events and returns how many it
//     filled. A negative timeout blocks until an event or a Wake; zero polls and returns at once.
//     Wait never allocates, and EINTR is not an error: it returns zero events.
//   - Wake makes a blocked or the next Wait return. It is the only method that is safe from any
//     goroutine, and it is coalesced: a second Wake before Wait has consumed the first costs no
//     syscall. The wake-up is consumed inside Wait and never reported as an event.
//   - Close releases the kernel objects. Methods other than Wake are called from one goroutine at a
//     time (the loop's); Close must not run concurrently with Wait or Wake.
//
// What the kernel stores for a registration is the token, an integer chosen by the caller (aioloop's
// loop uses a slot index plus a generation), never a Go pointer. Dropping an event whose token names
// a slot that has since been reused is the caller's job: the poller only hands tokens back.
//
// # Portability
//
// Error and Hangup are hints: epoll reports EPOLLERR and EPOLLHUP even without interest, kqueue
// reports EV_EOF and EV_ERROR per filter, the Windows poller reports AFD's abort and connect-fail
// events. A caller should treat either as "both readable and writable"
// and let its next read or write return the real error. Backends translate, nothing more: budgets,
// timeout arithmetic beyond unit conversion, queues and dispatch live in the loop.
//
// On Linux the calls that cannot block (epoll_ctl, a zero-timeout epoll_pwait, the eventfd read)
// go through syscall.RawSyscall6, which does not hand the processor back to the Go scheduler; only
// a Wait that may sleep takes the ordinary path. See DESIGN.md at the repository root, "Hot paths".
package poller

import "errors"

// Interest says which readiness a registration asks for.
type Interest uint8

// The interests a registration may ask for; combine them with |.
const (
	Readable Interest = 1 << iota // the descriptor has data to read, a connection to accept, or EOF
	Writable                      // the descriptor can take more data
)

// Flags says what a reported event carries. Readable and Writable use the Interest bits.
type Flags uint8

// The flags of an Event.
const (
	FlagReadable Flags = Flags(Readable) // ready for reading
	FlagWritable Flags = Flags(Writable) // ready for writing
	FlagHangup   Flags = 1 << 2          // the peer hung up (EPOLLHUP, EV_EOF); a hint
	FlagError    Flags = 1 << 3          // an error is pending on the descriptor (EPOLLERR, EV_ERROR); a hint
)

// Event is one readiness report: the token given to Add or Modify and what is ready.
type Event struct {
	Token uint64
	Flags Flags
}

// WakeToken is reserved for the poller's own wake-up; Add and Modify refuse it.
const WakeToken = ^uint64(0)

var (
	// ErrUnsupported is returned by New on an operating system without a backend yet.
	ErrUnsupported = errors.New("poller: no readiness backend for this operating system yet")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("poller: closed")
	// ErrReservedToken is returned by Add and Modify when given WakeToken.
	ErrReservedToken = errors.New("poller: token ^uint64(0) is reserved for the wake-up")
	// ErrNoInterest is returned by Add and Modify with an empty interest: delete the registration
	// instead (an epoll registration with no interest would still report hang-ups, level-triggered).
	ErrNoInterest = errors.New("poller: interest is empty; use Delete")
)

func checkRegistration(token uint64, in Interest) error {
	if token == WakeToken {
		return ErrReservedToken
	}
	if in&(Readable|Writable) == 0 {
		return ErrNoInterest
	}
	return nil
}
