package poller

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// Poller is the Windows backend: one I/O completion port, AFD helper handles associated with it,
// and one AFD poll request per registered socket, never more than one in flight (afd_windows.go).
// Readiness is what the completed request reports; the poller re-issues the request before the next
// Wait, and since a poll checks the socket's current state, data still queued completes it at once:
// registrations are level-triggered, as on epoll, at the price of one completion packet per report.
//
// Interest changes and Delete cancel the outstanding request (NtCancelIoFileEx) when it asks for
// less than is now wanted or is no longer wanted; a request's memory is reused only after its
// packet has been dequeued, because the kernel writes its status block until then. Requests are Go
// heap objects that stay reachable from the poller while in flight, and a packet names its request
// by number (the poll's APC context), which the poller maps back through its own table.
//
// Requests are spread over AFD helper handles, afdGroup to a handle (wepoll and mio do the same):
// cancelling a request walks its handle's list of pending requests, which would grow with every
// socket on one handle.
//
// Wake posts a packet with its own completion key (PostQueuedCompletionStatus).
type Poller struct {
	port    windows.Handle
	afds    []windows.Handle  // request i polls through afds[i/afdGroup]
	byFD    map[int]int32     // socket handle -> request index
	reqs    []*request        // by index; index+1 is the APC context of its poll
	free    []int32           // indexes whose request is idle and unowned
	rearm   []int32           // requests to (re)issue before the next wait
	failed  []int32           // requests whose poll could not be issued: reported by the next Wait
	raw     []overlappedEntry // reused by every Wait; the kernel writes here
	scratch ioStatusBlock     // the status block NtCancelIoFileEx writes
	wakeSig atomic.Uint32     // 1 while a wake-up packet is posted and not yet consumed
	closed  atomic.Bool
	wakes   atomic.Uint64 // posted wake-ups, for the coalescing test
	cancels int           // cancels asked, for the tests
}

// request is one socket's registration and its poll request.
type request struct {
	iosb ioStatusBlock // kernel-written while a poll is in flight
	info afdPollInfo   // kernel-written while a poll is in flight

	fd       int
	base     windows.Handle
	token    uint64
	interest Interest
	asked    uint32 // the events of the poll in flight; 0 when none is
	queued   bool   // in rearm
	cancel   bool   // a cancel was asked for the poll in flight
	deleted  bool   // unregistered while its poll was in flight: freed when the packet arrives
	broken   bool   // in failed: its poll could not be issued
}

// afdGroup is how many requests share one AFD helper handle.
const afdGroup = 32

const (
	afdKey  = 1 // completion key of the AFD handle's packets
	wakeKey = 2 // completion key of Wake's packets
)

// New creates the completion port and its first AFD helper handle.
func New() (*Poller, error) {
	port, err := windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	if err != nil {
		return nil, os.NewSyscallError("CreateIoCompletionPort", err)
	}
	afd, err := openAFD(port, afdKey)
	if err != nil {
		windows.CloseHandle(port)
		return nil, err
	}
	return &Poller{port: port, afds: []windows.Handle{afd}, byFD: make(map[int]int32), raw: make([]overlappedEntry, maxEvents)}, nil
}

// afdFor returns the AFD handle of request i.
func (p *Poller) afdFor(i int32) windows.Handle { return p.afds[i/afdGroup] }

// maxEvents bounds one GetQueuedCompletionStatusEx.
const maxEvents = 256

func afdEvents(in Interest) uint32 {
	ev := uint32(afdPollLocalClose)
	if in&Readable != 0 {
		ev |= afdReadable
	}
	if in&Writable != 0 {
		ev |= afdWritable
	}
	return ev
}

// Add registers the socket fd with token and interest; its first poll is issued before the next
// Wait. Registering fd twice is EEXIST; a handle that is not a socket is EBADF.
func (p *Poller) Add(fd int, token uint64, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	if _, ok := p.byFD[fd]; ok {
		return os.NewSyscallError("poller add", syscall.EEXIST)
	}
	base, err := baseHandle(windows.Handle(fd))
	if err != nil {
		return err
	}
	var i int32
	if n := len(p.free); n > 0 {
		i = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		i = int32(len(p.reqs))
		if int(i/afdGroup) == len(p.afds) {
			afd, err := openAFD(p.port, afdKey)
			if err != nil {
				return err
			}
			p.afds = append(p.afds, afd)
		}
		p.reqs = append(p.reqs, new(request))
	}
	r := p.reqs[i]
	*r = request{fd: fd, base: base, token: token, interest: in}
	p.byFD[fd] = i
	p.queue(i)
	return nil
}

// Modify replaces the token and interest of a registered socket. Unregistered is ENOENT.
func (p *Poller) Modify(fd int, token uint64, in Interest) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if err := checkRegistration(token, in); err != nil {
		return err
	}
	i, ok := p.byFD[fd]
	if !ok {
		return os.NewSyscallError("poller modify", syscall.ENOENT)
	}
	r := p.reqs[i]
	r.token, r.interest = token, in
	p.queue(i) // the update pass cancels a poll that asks for the wrong events
	return nil
}

// Delete unregisters fd. A poll in flight is cancelled, and its request reused only once its
// packet has come back. Deleting an fd that is not registered is ENOENT.
func (p *Poller) Delete(fd int) error {
	if p.closed.Load() {
		return ErrClosed
	}
	i, ok := p.byFD[fd]
	if !ok {
		return os.NewSyscallError("poller delete", syscall.ENOENT)
	}
	delete(p.byFD, fd)
	r := p.reqs[i]
	if r.asked == 0 {
		p.release(i)
		return nil
	}
	r.deleted = true
	p.cancelPoll(i)
	return nil
}

func (p *Poller) queue(i int32) {
	if r := p.reqs[i]; !r.queued {
		r.queued = true
		p.rearm = append(p.rearm, i)
	}
}

// release makes an idle request reusable. A queued one is skipped by the update pass.
func (p *Poller) release(i int32) {
	r := p.reqs[i]
	r.deleted, r.fd, r.asked, r.broken = true, -1, 0, false
	if !r.queued {
		p.free = append(p.free, i)
	}
}

func (p *Poller) cancelPoll(i int32) {
	if r := p.reqs[i]; !r.cancel {
		r.cancel = true
		p.cancels++
		afdCancel(p.afdFor(i), r, &p.scratch) // STATUS_NOT_FOUND: it completed already; its packet is coming
	}
}

// update issues the polls that registrations need: a new one where none is in flight, a cancel
// where the one in flight misses events now wanted (its packet then re-queues the request). A poll
// in flight that asks for more than is wanted stays: what it reports is filtered, and it is
// re-issued with the right events after it completes (a dropped write interest costs no cancel).
func (p *Poller) update() {
	for _, i := range p.rearm {
		r := p.reqs[i]
		r.queued = false
		if r.deleted {
			if r.asked == 0 {
				p.free = append(p.free, i)
			}
			continue
		}
		want := afdEvents(r.interest)
		if r.asked != 0 {
			if r.asked&want != want {
				p.cancelPoll(i)
			}
			continue
		}
		r.info = afdPollInfo{Timeout: 1<<63 - 1, NumberOfHandles: 1, Handle: uintptr(r.base), Events: want}
		r.cancel = false
		switch st := afdPoll(p.afdFor(i), r, uintptr(i)+1); st {
		case statusPending, statusSuccess: // either way a packet comes
			r.asked = want
		case statusInvalidHandle, statusTypeMismatch:
			// The socket was closed while registered: forgotten, as epoll and kqueue forget a
			// closed descriptor (and as a LOCAL_CLOSE completion is handled).
			if j, ok := p.byFD[r.fd]; ok && j == i {
				delete(p.byFD, r.fd)
			}
			p.release(i)
		default:
			// Not pollable now: report it as failed, as epoll reports EPOLLERR, and let the
			// transport's next call return the real error.
			r.asked, r.broken = 0, true
			r.iosb.Status = uintptr(st)
			p.failed = append(p.failed, i)
		}
	}
	p.rearm = p.rearm[:0]
}

// Wait fills events with at most len(events) (and at most 256) readiness reports and returns how
// many. A negative timeout blocks; zero polls; a positive timeout is rounded up to whole
// milliseconds. It first issues the polls that registrations need, then dequeues completions: each
// gives at most one event, with both readinesses of its socket merged.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.closed.Load() {
		return 0, ErrClosed
	}
	n := min(len(events), len(p.raw))
	if n == 0 {
		return 0, nil
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	for round := 0; ; round++ {
		p.update()
		k := p.reportFailed(events[:n])
		ms := timeoutMillis(timeout)
		if timeout > 0 && round > 0 {
			ms = timeoutMillis(max(time.Until(deadline), 0)) // negative would mean INFINITE
		}
		if k > 0 {
			ms = 0
		}
		got := 0
		if k < n {
			var err error
			if got, err = getQueued(p.port, p.raw[:n-k], ms); err != nil {
				return k, err
			}
		}
		woke := false
		for _, e := range p.raw[:got] {
			if e.Key == wakeKey {
				p.wakeSig.Store(0)
				woke = true
				continue
			}
			if f, ok := p.complete(int32(e.Overlapped-1), uint32(e.Internal)); ok {
				events[k] = f
				k++
			}
		}
		// Nothing to report yet, but not for lack of time: completions that carried no wanted
		// readiness (a cancelled poll, events the interest no longer asks for) were re-armed, and
		// a re-armed poll completes at once if the socket is ready.
		switch {
		case k > 0 || woke:
			return k, nil
		case timeout == 0 && (got == 0 || round >= 3):
			return 0, nil
		case timeout > 0 && !time.Now().Before(deadline):
			return 0, nil
		}
	}
}

// complete handles the packet of request i: the poll is no longer in flight; a deleted request is
// freed, a live one re-armed, and what it reports for the registration's interest returned.
func (p *Poller) complete(i int32, status uint32) (Event, bool) {
	r := p.reqs[i]
	r.asked, r.cancel = 0, false
	if r.deleted {
		if !r.queued {
			p.free = append(p.free, i)
		}
		return Event{}, false
	}
	var f Flags
	switch {
	case status == statusCancelled:
	case status >= 0xC0000000: // the poll failed: say so, and let the next call find out why
		f = FlagError | Flags(r.interest)
	case r.info.NumberOfHandles >= 1:
		ev := r.info.Events
		if ev&afdPollLocalClose != 0 {
			// The socket was closed while registered: epoll and kqueue forget such a
			// descriptor, and so does this poller.
			if j, ok := p.byFD[r.fd]; ok && j == i {
				delete(p.byFD, r.fd)
			}
			p.release(i)
			return Event{}, false
		}
		if ev&afdReadable != 0 && r.interest&Readable != 0 {
			f |= FlagReadable
		}
		if ev&afdWritable != 0 && r.interest&Writable != 0 {
			f |= FlagWritable
		}
		if ev&afdPollAbort != 0 {
			f |= FlagHangup
		}
		if ev&afdPollConnectFail != 0 {
			f |= FlagError
		}
	}
	p.queue(i)
	if f == 0 {
		return Event{}, false
	}
	return Event{Token: r.token, Flags: f}, true
}

// reportFailed turns the polls that update could not issue into error events; each is re-queued.
func (p *Poller) reportFailed(events []Event) int {
	k := 0
	for len(p.failed) > 0 && k < len(events) {
		i := p.failed[0]
		p.failed = p.failed[1:]
		if r := p.reqs[i]; r.broken && !r.deleted { // not since unregistered, nor reused
			r.broken = false
			events[k] = Event{Token: r.token, Flags: FlagError | Flags(r.interest)}
			k++
			p.queue(i)
		}
	}
	if len(p.failed) == 0 {
		p.failed = p.failed[:0:cap(p.failed)]
	}
	return k
}

// Wake makes the current or next Wait return. Safe from any goroutine; coalesced.
func (p *Poller) Wake() error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !p.wakeSig.CompareAndSwap(0, 1) {
		return nil
	}
	p.wakes.Add(1)
	if err := windows.PostQueuedCompletionStatus(p.port, 0, wakeKey, nil); err != nil {
		p.wakeSig.Store(0)
		return os.NewSyscallError("PostQueuedCompletionStatus", err)
	}
	return nil
}

// inFlight keeps the requests of a poller closed while some of its polls were still in flight
// reachable for ever: the kernel may yet write to them.
var inFlight []*request

// Close cancels the polls in flight, waits (up to a second) for their packets, and closes the AFD
// handle and the port. A second Close returns nil.
func (p *Poller) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	pending := 0
	for i, r := range p.reqs {
		if r.asked != 0 {
			p.cancelPoll(int32(i))
			pending++
		}
	}
	for end := time.Now().Add(time.Second); pending > 0 && time.Now().Before(end); {
		got, err := getQueued(p.port, p.raw, 100)
		if err != nil {
			break
		}
		for _, e := range p.raw[:got] {
			if e.Key == afdKey {
				if r := p.reqs[e.Overlapped-1]; r.asked != 0 {
					r.asked = 0
					pending--
				}
			}
		}
	}
	if pending > 0 {
		for _, r := range p.reqs {
			if r.asked != 0 {
				inFlight = append(inFlight, r)
			}
		}
	}
	var err error
	for _, h := range append(p.afds, p.port) {
		if e := windows.CloseHandle(h); e != nil && err == nil {
			err = os.NewSyscallError("CloseHandle", e)
		}
	}
	return err
}

// timeoutMillis turns a Wait timeout into GetQueuedCompletionStatusEx's milliseconds: negative
// blocks (INFINITE), zero polls, anything else is rounded up so that Wait never returns before a
// timer is due.
func timeoutMillis(d time.Duration) uint32 {
	switch {
	case d < 0:
		return windows.INFINITE
	case d == 0:
		return 0
	}
	const most = windows.INFINITE - 1
	if d > most*time.Millisecond {
		return most
	}
	return uint32((d + time.Millisecond - 1) / time.Millisecond)
}
