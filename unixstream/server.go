package unixstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

var noAddr netip.AddrPort

// ServerOptions are CreateUnixServer's keyword arguments. The zero value is asyncio's defaults.
type ServerOptions struct {
	// Backlog is backlog: the listen queue's length. Default 100.
	Backlog int
	// Sock is sock: an existing bound Unix stream socket, listening or not, used instead of a
	// path; it listens (with Backlog) when serving starts, as asyncio calls listen() then. The
	// server works on its own duplicate; the caller's object is the caller's to close. The
	// duplicate shares the caller's open file, so the caller's socket becomes non-blocking too, as
	// asyncio makes it.
	Sock syscall.Conn
	// DeferServing is start_serving=False: the socket does not listen until StartServing, so that
	// clients are refused (ECONNREFUSED) until then, as in asyncio. A Sock that already listens
	// queues clients meanwhile.
	DeferServing bool
	// KeepSocketFile is cleanup_socket=False: Close leaves the socket file.
	KeepSocketFile bool
	// Mode, when not zero, is given to the socket file after bind (chmod), so that only those
	// allowed may connect; beyond asyncio. Filesystem paths only.
	Mode fs.FileMode

	// TLS is ssl: present, every connection speaks TLS through crypto/tls with this configuration
	// (cloned when the server is made; it must hold a certificate). Each connection's handshake
	// runs on a goroutine of its own; the factory and ConnectionMade run once it has succeeded. A
	// failed handshake is reported to the loop's exception handler, the connection is closed and
	// the server goes on. tls.Config's callbacks (GetCertificate, VerifyConnection, ...) run on
	// the handshake goroutines; one that blocks holds its goroutine (not the connection, which
	// Close, the timeout or Loop.Close shut down) until it returns.
	TLS *tls.Config
	// HandshakeTimeout is ssl_handshake_timeout: how long a handshake may take. Default 60 s.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is ssl_shutdown_timeout: how long Close waits for the peer's close_notify.
	// Default 30 s.
	ShutdownTimeout time.Duration
	// MaxHandshakes bounds the handshakes in flight; beyond asyncio, which has no bound. At the
	// bound the server stops accepting (the listen backlog holds the clients, and then refuses
	// them) until a handshake ends. Default DefaultMaxHandshakes (1024): an accept storm then
	// costs at most about 1024 goroutines and their handshake state (some tens of MiB), while a
	// peer that opens connections and sends nothing must hold 1024 of them for the handshake
	// timeout to stall the server's new handshakes. 0 is the default; negative is refused.
	MaxHandshakes int
}

// Errors of CreateUnixServer.
var (
	// ErrPathInUse: something other than a stale socket is at the path; it is left untouched.
	ErrPathInUse = errors.New("unixstream: the path is in use")
)

const (
	acceptBudget = 32                     // connections accepted per readiness event
	acceptRetry  = 100 * time.Millisecond // pause after EMFILE/ENFILE before accepting again
)

// Server is a listening Unix socket and the connections it accepted (asyncio's Server).
type Server struct {
	l             *loop.Loop
	factory       func() BaseProtocol
	fd            int
	reg           reactor.Registration
	path          string
	file          os.FileInfo // the socket file this server bound, for the clean-up check
	made          os.FileInfo // the socket file listen's bind made (with KeepSocketFile too)
	backlog       int
	clients       map[*Transport]struct{}
	serving       atomic.Bool
	closed        bool
	member        reactor.Member // in the loop's resources, which Close and Shutdown close
	resting       bool           // accepting paused after EMFILE/ENFILE
	tls           *tlsParams     // nil without TLS
	maxHandshakes int
	handshakes    int // TLS handshakes in flight
	done          chan struct{}
	doneOnce      sync.Once
}

// CreateUnixServer listens on the Unix socket at path (a filesystem path, or "@name" on Linux), or
// on opts.Sock, and serves each connection with a protocol from factory (asyncio's
// create_unix_server). A socket file left at path by a server that is gone is replaced; anything
// else there is ErrPathInUse and is not touched. Any goroutine.
//
// P is the factory's own protocol type, which Go infers. ctx bounds the wait for the loop: once it
// is done the creation fails with context.Cause(ctx) and leaves nothing behind; it has no effect
// on the server once made. The server and its connections belong to the loop: Loop.Shutdown and
// Loop.Close close them.
func CreateUnixServer[P BaseProtocol](ctx context.Context, l *loop.Loop, factory func() P, path string, opts ServerOptions) (*Server, error) {
	if factory == nil {
		return createServer(ctx, l, nil, path, opts)
	}
	return createServer(ctx, l, func() BaseProtocol { return nilIfNil(factory()) }, path, opts)
}

func createServer(ctx context.Context, l *loop.Loop, factory func() BaseProtocol, path string, opts ServerOptions) (*Server, error) {
	switch {
	case ctx == nil:
		return nil, errors.New("unixstream: nil context")
	case l == nil:
		return nil, errors.New("unixstream: nil loop")
	case factory == nil:
		return nil, errors.New("unixstream: nil protocol factory")
	case path != "" && opts.Sock != nil:
		return nil, errors.New("unixstream: path and ServerOptions.Sock are mutually exclusive")
	case path == "" && opts.Sock == nil:
		return nil, errors.New("unixstream: a path or ServerOptions.Sock is required")
	case opts.Backlog < 0:
		return nil, fmt.Errorf("unixstream: ServerOptions.Backlog is %d; want >= 0", opts.Backlog)
	case opts.Mode != 0 && (opts.Sock != nil || isAbstract(path)):
		return nil, errors.New("unixstream: ServerOptions.Mode needs a filesystem path")
	case opts.Mode&^fs.ModePerm != 0:
		return nil, fmt.Errorf("unixstream: ServerOptions.Mode %v has bits beyond the permissions", opts.Mode)
	case opts.MaxHandshakes < 0:
		return nil, fmt.Errorf("unixstream: ServerOptions.MaxHandshakes is %d; want >= 0 (0: the default %d)", opts.MaxHandshakes, DefaultMaxHandshakes)
	case opts.MaxHandshakes != 0 && opts.TLS == nil:
		return nil, errors.New("unixstream: ServerOptions.MaxHandshakes is only meaningful with ServerOptions.TLS")
	}
	tp, err := newTLSParams("ServerOptions", opts.TLS, true, "", opts.HandshakeTimeout, opts.ShutdownTimeout)
	if err != nil {
		return nil, err
	}
	if err := checkPath("path", path); err != nil {
		return nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	backlog := opts.Backlog
	if backlog == 0 {
		backlog = 100
	}
	s := &Server{l: l, factory: factory, fd: -1, backlog: backlog, clients: make(map[*Transport]struct{}), done: make(chan struct{}),
		tls: tp, maxHandshakes: opts.MaxHandshakes}
	if s.maxHandshakes == 0 {
		s.maxHandshakes = DefaultMaxHandshakes
	}
	if opts.Sock != nil {
		if s.fd, err = adoptStream(opts.Sock, "ServerOptions.Sock"); err == nil {
			_, s.path, err = sock.LocalAddr(s.fd)
		}
	} else {
		err = s.listen(path, opts)
	}
	if err == nil && !opts.KeepSocketFile && s.path != "" && !isAbstract(s.path) {
		s.file, _ = os.Lstat(s.path)
	}
	if err == nil {
		ran := false
		derr := l.Do(ctx, func() {
			ran = true
			if err = s.track(); err == nil && !opts.DeferServing {
				if err = s.startServing(); err != nil {
					s.untrack()
				}
			}
		})
		if !ran {
			err = derr
		}
	}
	if err != nil {
		if s.fd >= 0 {
			sock.Close(s.fd)
		}
		s.removeFile(s.made) // a failed creation leaves nothing behind
		return nil, err
	}
	return s, nil
}

// removeFile removes the socket file at the server's path if it is still the inode fi.
func (s *Server) removeFile(fi os.FileInfo) {
	if fi == nil {
		return
	}
	if cur, err := os.Lstat(s.path); err == nil && os.SameFile(cur, fi) {
		os.Remove(s.path)
	}
}

func isAbstract(path string) bool { return path != "" && (path[0] == '@' || path[0] == 0) }

// listen clears a stale socket file, then binds. The socket listens when serving starts, as asyncio's
// start_serving calls listen(): until then, clients are refused.
func (s *Server) listen(path string, opts ServerOptions) error {
	if !isAbstract(path) {
		if err := removeStale(path); err != nil {
			return err
		}
	}
	fd, err := sock.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	s.fd, s.path = fd, path
	if err := sock.Bind(fd, syscall.AF_UNIX, noAddr, path); err != nil {
		return fmt.Errorf("unixstream: bind %s: %w", path, err)
	}
	if !isAbstract(path) {
		s.made, _ = os.Lstat(path)
	}
	if opts.Mode != 0 {
		if err := os.Chmod(path, opts.Mode); err != nil {
			return fmt.Errorf("unixstream: ServerOptions.Mode: %w", err)
		}
	}
	return nil
}

// removeStale removes a socket file at path that no socket is bound to. A socket file in use (a
// server listening there, or one made with DeferServing that does not listen yet) is EADDRINUSE;
// any other file is ErrPathInUse; both are left alone.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("unixstream: %q is a %v, not a socket; it is left as it is: %w", path, fi.Mode().Type(), ErrPathInUse)
	}
	bound, err := sock.Bound(path)
	if err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	if bound {
		return fmt.Errorf("unixstream: a socket is bound at %q: %w: %w", path, ErrPathInUse, syscall.EADDRINUSE)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unixstream: remove stale socket: %w", err)
	}
	return nil
}

// startServing listens and registers the listener; loop goroutine. listen(2) on a socket that
// already listens (a Sock handed over listening) only sets the backlog again.
func (s *Server) startServing() error {
	if s.closed {
		return errClosed
	}
	if s.serving.Load() {
		return nil
	}
	if err := sock.Listen(s.fd, s.backlog); err != nil {
		return fmt.Errorf("unixstream: %s: %w", s.path, err)
	}
	reg, err := reactor.Of(s.l).Register(s.fd, (*acceptor)(s), reactor.Readable)
	if err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	s.reg = reg
	s.serving.Store(true)
	return nil
}

// StartServing listens and starts accepting, after ServerOptions.DeferServing (start_serving).
// Any goroutine.
func (s *Server) StartServing() error {
	var err error
	ran := false
	if derr := s.l.Do(context.Background(), func() { ran = true; err = s.startServing() }); !ran {
		return derr
	}
	return err
}

// onLoop runs fn on the loop goroutine, or on the caller when the loop is closed: then nothing
// else touches the server.
func (s *Server) onLoop(fn func()) {
	ran := false
	if s.l.Do(context.Background(), func() { ran = true; fn() }) != nil && !ran {
		fn()
	}
}

// IsServing reports whether the server accepts connections (is_serving). Any goroutine.
func (s *Server) IsServing() bool { return s.serving.Load() }

// Addrs returns the path the server listens on ("@name" for an abstract name).
func (s *Server) Addrs() []string { return []string{s.path} }

// Close stops listening and closes the listening socket; the connections stay open (close). The
// socket file is removed unless KeepSocketFile, and only if the inode at the path is still the one
// this server bound. Any goroutine; also after the loop is closed.
func (s *Server) Close() { s.onLoop(s.close) }

// close is Close on the loop goroutine (or on a closed loop's caller).
func (s *Server) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.untrack()
	if s.serving.Swap(false) {
		s.reg.Unregister()
	}
	sock.Close(s.fd)
	s.fd = -1
	s.removeFile(s.file)
	s.checkDone()
}

func (s *Server) track() error {
	if err := s.member.Join(s.l, (*acceptor)(s)); err != nil {
		return fmt.Errorf("unixstream: %w", err)
	}
	return nil
}

func (s *Server) untrack() { s.member.Leave(s.l, (*acceptor)(s)) }

// CloseClients closes every connection the server accepted (close_clients); each writes what it
// has buffered first. Any goroutine; after the loop is closed, which can drain nothing, the
// connections are closed at once (their ConnectionLost cannot run).
func (s *Server) CloseClients() {
	s.onLoop(func() {
		for t := range s.clients {
			t.Close()
		}
	})
}

// AbortClients aborts every connection the server accepted (abort_clients). Any goroutine, also
// after the loop is closed.
func (s *Server) AbortClients() {
	s.onLoop(func() {
		for t := range s.clients {
			t.Abort()
		}
	})
}

// WaitClosed waits until the server is closed and every connection it accepted is gone
// (wait_closed), or ctx is done. Any goroutine but the loop's, which it would block.
func (s *Server) WaitClosed(ctx context.Context) error {
	if s.l.InLoop() {
		return errors.New("unixstream: WaitClosed on the loop goroutine would block the loop")
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (s *Server) detach(t *Transport) {
	delete(s.clients, t)
	s.checkDone()
}

func (s *Server) checkDone() {
	if s.closed && len(s.clients) == 0 {
		s.doneOnce.Do(func() { close(s.done) })
	}
}

// acceptor is the Server as the listener's loop.Handler.
type acceptor Server

func (a *acceptor) OnWritable() {}
func (a *acceptor) Owner() any  { return (*Server)(a) } // what exception reports name

// The acceptor is also the server as one of the loop's resources (internal/reactor): Shutdown and
// Close of the loop close the listener; the connections are resources of their own.
func (a *acceptor) Shutdown()      { (*Server)(a).close() }
func (a *acceptor) Abort(error)    { (*Server)(a).close() }
func (a *acceptor) CloseNow(error) { (*Server)(a).close() }

// OnReadable accepts up to acceptBudget connections. When the process or the system is out of
// descriptors it does not spin: it reports, stops accepting for acceptRetry, then tries again.
func (a *acceptor) OnReadable() {
	s := (*Server)(a)
	for range acceptBudget {
		if s.closed || s.resting {
			return
		}
		if s.tls != nil && s.handshakes >= s.maxHandshakes {
			s.setAccepting()
			return
		}
		fd, err := sock.Accept(s.fd)
		if err != nil {
			switch sock.Errno(err) {
			case syscall.EAGAIN:
				return
			case syscall.ECONNABORTED, syscall.EINTR:
				continue
			case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM:
				s.restAccept("out of resources accepting on", err)
				return
			default:
				// Not a condition that passes by itself: accepting again at once would spin on
				// the same error, a report each time.
				s.restAccept("accept failed on", err)
				return
			}
		}
		// The connection is the server's before its ConnectionMade runs: a Server.Close or
		// AbortClients from there must count it. A failed start lets go of it (kill).
		t := newTransport(s.l, fd)
		t.server = s
		s.clients[t] = struct{}{}
		if s.tls != nil {
			err = t.acceptTLS(s)
		} else {
			_, err = t.start(s.factory)
		}
		if err != nil {
			s.l.CallExceptionHandler(loop.Exception{Message: "unixstream: accepted connection failed to start", Err: err, Transport: s})
		}
	}
}

// setAccepting watches the listener unless accepting rests (EMFILE) or the handshakes in flight
// are at ServerOptions.MaxHandshakes.
func (s *Server) setAccepting() {
	if s.closed || !s.serving.Load() {
		return
	}
	var in reactor.Interest
	if !s.resting && (s.tls == nil || s.handshakes < s.maxHandshakes) {
		in = reactor.Readable
	}
	s.reg.SetInterest(in)
}

// handshakeEnded lets one more handshake in.
func (s *Server) handshakeEnded() {
	s.handshakes--
	if s.handshakes == s.maxHandshakes-1 {
		s.setAccepting()
	}
}

// reportHandshake reports a failed handshake on an accepted connection; the server goes on.
func (s *Server) reportHandshake(err error) {
	s.l.CallExceptionHandler(loop.Exception{
		Message: fmt.Sprintf("unixstream: TLS handshake failed on a connection accepted on %q; the connection is closed", s.path),
		Err:     err, Transport: s,
	})
}

// restAccept reports err and stops accepting for acceptRetry, then tries again.
func (s *Server) restAccept(what string, err error) {
	s.l.CallExceptionHandler(loop.Exception{
		Message: fmt.Sprintf("unixstream: %s %q; pausing accept for %v", what, s.path, acceptRetry),
		Err:     err, Transport: s,
	})
	s.resting = true
	s.setAccepting()
	s.l.CallLater(acceptRetry, func() {
		s.resting = false
		s.setAccepting()
	})
}
