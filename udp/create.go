package udp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

// Batch sizes: datagrams per recvmmsg call (as deep as a C epoll server's, 64), datagrams per
// sendmmsg call and staged replies, datagrams (GRO segments) read per readiness event, and the
// size of each receive buffer (any UDP datagram fits).
const (
	recvBatch  = 64
	sendBatch  = 64
	recvBudget = 64
	bufSize    = 65536
	spareBufs  = 16 // sent queue buffers a transport keeps for reuse
)

// loopState is what all datagram transports of one loop share: only one of them runs at a time.
type loopState struct {
	recv    *sock.RecvBatch
	send    *sock.SendBatch
	replies replies
	zones   sock.Zones
	one     [1]sock.Datagram // sendNow's
	errq    *sock.ErrQueue   // made when an endpoint asks for ICMPErrors
	qerr    sock.QueuedError
	rinfo   RecvInfo      // handed to InfoReceiver, one datagram at a time
	sinfo   sock.RecvInfo // parsed into
}

type loopStateKey struct{}

func stateOf(l *loop.Loop) *loopState {
	return reactor.Of(l).Local(loopStateKey{}, func() any {
		return &loopState{recv: sock.NewRecvBatch(recvBatch, bufSize), send: sock.NewSendBatch(sendBatch),
			replies: replies{msgs: make([]sock.Datagram, 0, sendBatch), offs: make([]int, 0, sendBatch),
				runs: make([]sock.Datagram, 0, sendBatch), arena: make([]byte, bufSize)}}
	}).(*loopState)
}

// CreateDatagramEndpoint makes a datagram endpoint on l and returns its transport and the protocol
// that factory made for it (asyncio's loop.create_datagram_endpoint). Options are checked before
// any socket exists; host names are resolved on the calling goroutine, which therefore must not be
// the loop's (ErrResolveOnLoop) unless the addresses are numeric. Every resolved address (every
// pair of local and remote addresses of one family) is tried in order until one binds and
// connects, as asyncio tries them; when none does, the error joins every attempt's. The socket is
// made on the calling goroutine too; the registration, factory and ConnectionMade run on the loop
// goroutine, and ConnectionMade has run when it returns. A panic in the factory or in
// ConnectionMade fails the creation, and the transport the protocol may hold is closed (IsClosing
// reports true; no ConnectionLost follows). Any goroutine; while l runs and the caller is another
// goroutine, it waits for the loop.
//
// The protocol comes back as the factory's own type P, which Go infers from the factory. ctx
// bounds the name lookups and the wait for the loop: once it is done the creation fails with
// context.Cause(ctx) (context.DeadlineExceeded for a timeout) and leaves nothing open; it has no
// effect on the endpoint once made. The endpoint belongs to the loop: Loop.Shutdown and Loop.Close
// close it.
func CreateDatagramEndpoint[P Protocol](ctx context.Context, l *loop.Loop, factory func() P, opts Options) (*Transport, P, error) {
	var none P
	t, p, err := create(ctx, l, factory == nil, func() Protocol { return nilIfNil(factory()) }, opts)
	if err != nil {
		return nil, none, err
	}
	return t, p.(P), nil
}

func create(ctx context.Context, l *loop.Loop, noFactory bool, factory func() Protocol, opts Options) (*Transport, Protocol, error) {
	switch {
	case ctx == nil:
		return nil, nil, errors.New("udp: nil context")
	case l == nil:
		return nil, nil, errors.New("udp: nil loop")
	case noFactory:
		return nil, nil, errors.New("udp: nil protocol factory")
	}
	family, err := opts.check()
	if err != nil {
		return nil, nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	t := &Transport{l: l, fd: -1, reading: true}
	if opts.Sock != nil {
		err = t.adopt(opts.Sock, &opts)
	} else {
		var eps []endpoint
		if eps, err = opts.resolve(ctx, l, family); err == nil {
			err = t.openFirst(eps, &opts)
		}
	}
	if err != nil {
		if t.fd >= 0 {
			sock.Close(t.fd)
		}
		if cerr := context.Cause(ctx); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("udp: %w (%v)", cerr, err) // a lookup cut short: the context says why
		}
		return nil, nil, err
	}
	var proto Protocol
	ran := false
	derr := l.Do(ctx, func() { ran = true; proto, err = t.start(factory) })
	if !ran { // the loop closed or ctx ended first: start never ran, and the socket is still ours
		sock.Close(t.fd)
		t.fd = -1
		return nil, nil, derr
	}
	if err != nil {
		return nil, nil, err // start closed the socket
	}
	return t, proto, nil
}

// openFirst opens the first endpoint that binds and connects.
func (t *Transport) openFirst(eps []endpoint, opts *Options) error {
	var errs []error
	for _, ep := range eps {
		err := t.open(ep, opts)
		if err == nil {
			return nil
		}
		if t.fd >= 0 {
			sock.Close(t.fd)
			t.fd = -1
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// open makes, configures, binds and connects the socket. On error, t.fd is the caller's to close.
// With AllowBroadcast the socket is not connected to the remote address, as asyncio does not
// connect it: answers from other hosts must arrive (discovery).
func (t *Transport) open(ep endpoint, opts *Options) error {
	t.local, t.remote, t.dest, t.destSA = Addr{}, Addr{}, Addr{}, sock.Sockaddr{} // an earlier attempt's
	fd, err := sock.Socket(ep.family, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	t.fd, t.family = fd, ep.family
	if ep.family == syscall.AF_INET6 && ep.local.IsValid() && ep.local.ap.Addr().IsUnspecified() {
		// The wildcard: both families when the family is open (Go's "udp"), IPv6 only when
		// Options.Family is AF_INET6 (Go's "udp6"), whatever the system's default.
		if err := sock.SetV6Only(fd, !ep.dualStack); err != nil {
			return fmt.Errorf("udp: %w", err)
		}
		t.v6only = !ep.dualStack
	} else if ep.family == syscall.AF_INET6 {
		// Any other IPv6 socket may meet IPv4-mapped addresses (bound to, connected to, sent
		// to), which need IPV6_V6ONLY off: Linux's default, not Windows', FreeBSD's or
		// OpenBSD's. OpenBSD and DragonFly cannot turn it off: there a mapped bind or connect
		// fails with the system's error, and SendTo refuses an IPv4 destination itself.
		t.v6only = sock.SetV6Only(fd, false) != nil
	}
	if opts.ReusePort {
		if err := sock.SetReusePort(fd); err != nil {
			return fmt.Errorf("udp: Options.ReusePort: %w", err)
		}
	}
	if opts.AllowBroadcast {
		if err := sock.SetBroadcast(fd); err != nil {
			return fmt.Errorf("udp: Options.AllowBroadcast: %w", err)
		}
	}
	if err := t.setFeatures(opts, false); err != nil {
		return err
	}
	if ep.local.IsValid() {
		if ep.family == syscall.AF_UNIX {
			if err := removeStale(ep.local.path); err != nil {
				return err
			}
		}
		if err := sock.Bind(fd, ep.family, ep.local.ap, ep.local.path); err != nil {
			return fmt.Errorf("udp: bind %s: %w", ep.local, err)
		}
	}
	if ep.remote.IsValid() && !opts.AllowBroadcast {
		if err := sock.Connect(fd, ep.family, ep.remote.ap, ep.remote.path); err != nil {
			return fmt.Errorf("udp: connect %s: %w", ep.remote, err)
		}
	}
	if err := t.readAddrs(); err != nil {
		return err
	}
	if ep.remote.IsValid() && !t.remote.IsValid() {
		t.dest = ep.remote
		ok := false
		if ep.family == syscall.AF_UNIX {
			ok = t.destSA.SetPath(ep.remote.path)
		} else {
			ok = t.destSA.SetAddrPort(ep.remote.ap, ep.family, nil)
		}
		if !ok {
			return fmt.Errorf("udp: Options.RemoteAddr %s: %w", ep.remote, ErrDestination)
		}
	}
	return nil
}

// setFeatures applies the per-socket features of opts (buffers, offload, error queue, Don't
// Fragment, receive information) to t's socket, new or handed over (adopted). check has refused
// the IP-only ones for AF_UNIX when the options fix the family; adopt does when the socket does.
func (t *Transport) setFeatures(opts *Options, adopted bool) error {
	fd := t.fd
	if err := sock.SetBuffers(fd, opts.ReceiveBuffer, opts.SendBuffer); err != nil {
		return fmt.Errorf("udp: Options.ReceiveBuffer or SendBuffer: %w", err)
	}
	if t.family == syscall.AF_UNIX || runtime.GOOS != "linux" {
		t.off = OffloadState{GROWhyNot: "Linux IP endpoints only", GSOWhyNot: "Linux IP endpoints only"}
		return nil // the IP-only features were refused before
	}
	if err := t.setOffload(fd, opts, adopted); err != nil {
		return fmt.Errorf("udp: Options.GRO or GSO: %w", err)
	}
	if opts.ICMPErrors {
		if err := sock.SetRecvErr(fd, t.family); err != nil {
			return fmt.Errorf("udp: Options.ICMPErrors: %w", err)
		}
		t.wantErrq = true
	} else if adopted {
		t.wantErrq = sock.RecvErrOn(fd, t.family) // the caller's: EPOLLERR until drained
	}
	if opts.DontFragment {
		if err := sock.SetDontFragment(fd, t.family); err != nil {
			return fmt.Errorf("udp: Options.DontFragment: %w", err)
		}
	}
	if opts.ReceiveInfo != 0 {
		if err := sock.SetRecvInfo(fd, t.family, int(opts.ReceiveInfo)); err != nil {
			return fmt.Errorf("udp: Options.ReceiveInfo: %w", err)
		}
		t.recvInfo = opts.ReceiveInfo
	}
	return nil
}

// adopt takes a duplicate of an existing datagram socket and applies opts' per-socket features
// to it. On error, t.fd is the caller's to close.
func (t *Transport) adopt(c syscall.Conn, opts *Options) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("udp: Options.Sock: %w", err)
	}
	info, err := sock.Adopt(rc)
	if err != nil {
		return fmt.Errorf("udp: Options.Sock: %w", err)
	}
	t.fd, t.family = info.FD, info.Family
	if info.Type != syscall.SOCK_DGRAM {
		return fmt.Errorf("udp: Options.Sock is not a datagram socket (SO_TYPE %d)", info.Type)
	}
	if t.family == 0 {
		return errors.New("udp: Options.Sock is not an IPv4, IPv6 or Unix socket")
	}
	if t.family == syscall.AF_UNIX {
		if err := opts.ipOnly(); err != nil {
			return fmt.Errorf("%w (Options.Sock is an AF_UNIX socket)", err)
		}
	}
	// What the caller may have set on the socket must not surprise the transport: GRO (coalesced
	// buffers, which the transport splits only when it knows: so it sets GRO as the options say,
	// on by default, as for its own sockets), and an error queue (EPOLLERR until drained).
	if err := t.setFeatures(opts, true); err != nil {
		return err
	}
	return t.readAddrs()
}

// readAddrs caches the local and remote addresses (get_extra_info's sockname and peername).
func (t *Transport) readAddrs() error {
	ap, path, err := sock.LocalAddr(t.fd)
	if err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	t.local = t.addr(ap, path)
	if ap, path, ok := sock.PeerAddr(t.fd); ok {
		t.remote = t.addr(ap, path)
	}
	t.dest = t.remote
	return nil
}

func (t *Transport) addr(ap netip.AddrPort, path string) Addr {
	if t.family == syscall.AF_UNIX {
		return UnixAddr(path)
	}
	return AddrFromAddrPort(ap)
}

// start registers the socket and makes the protocol; loop goroutine. A panic in the factory or in
// ConnectionMade fails the creation; on any failure the socket is closed here and the transport is
// dead (kill), so that a protocol holding it cannot reach a descriptor number reused since.
func (t *Transport) start(factory func() Protocol) (p Protocol, err error) {
	st := stateOf(t.l)
	t.recv, t.send, t.replies, t.zones, t.one, t.rinfo = st.recv, st.send, &st.replies, &st.zones, &st.one, &st.rinfo
	t.sinfo = &st.sinfo
	if t.recvInfo != 0 || t.off.GRO {
		st.recv.EnableControl()
	}
	if t.wantErrq {
		if st.errq == nil {
			st.errq = sock.NewErrQueue()
		}
		t.errq, t.qerr = st.errq, &st.qerr
	}
	t.flow.Init(t.reportPanic) // a panic in PauseWriting or ResumeWriting, as asyncio reports one from pause_writing
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("udp: protocol factory or ConnectionMade: %w", &loop.PanicError{Value: v, Stack: debug.Stack()})
		}
		if err != nil {
			t.kill()
		}
	}()
	if err = t.member.Join(t.l, (*handler)(t)); err != nil {
		return nil, fmt.Errorf("udp: %w", err)
	}
	if t.reg, err = reactor.Of(t.l).Register(t.fd, (*handler)(t), reactor.Readable); err != nil {
		return nil, fmt.Errorf("udp: %w", err)
	}
	p = factory()
	if p == nil {
		return nil, errors.New("udp: protocol factory returned nil")
	}
	t.SetProtocol(p)
	p.ConnectionMade(t)
	return p, nil
}

// removeStale removes a socket file at path that no socket is bound to, as asyncio removes a
// socket file at a Unix datagram local_addr before binding. Unlike asyncio, a socket file in use
// and any other file are left alone: bind then fails with EADDRINUSE.
func removeStale(path string) error {
	if path == "" || path[0] == '@' || path[0] == 0 {
		return nil // autobind, or an abstract name: no file
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSocket == 0 {
		return nil // nothing there, or not a socket: bind decides
	}
	bound, err := sock.Bound(path)
	if err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	if !bound {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("udp: remove stale socket %q: %w", path, err)
		}
	}
	return nil
}

// nilIfNil is p, or nil when p holds a nil pointer (a typed factory that returned nil).
func nilIfNil(p Protocol) Protocol {
	if reactor.IsNil(p) {
		return nil
	}
	return p
}
