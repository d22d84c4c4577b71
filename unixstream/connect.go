package unixstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/reactor"
	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

// ConnOptions are CreateUnixConnection's keyword arguments.
type ConnOptions struct {
	// Sock is sock: an existing connected Unix stream socket (an *os.File, a *net.UnixConn, ...)
	// used instead of a path. The transport works on its own duplicate of the descriptor; the
	// caller's object stays open and is the caller's to close. The duplicate shares the caller's
	// open file, so the caller's socket becomes non-blocking too, as asyncio makes it.
	Sock syscall.Conn

	// TLS is ssl: present, the connection speaks TLS through crypto/tls with this configuration
	// (cloned; the caller's is not changed). The handshake runs on a goroutine of its own and the
	// create call waits for it, as asyncio's await does; the loop must be running meanwhile (Run
	// or Start, on another goroutine: the result reaches the call through it), or the call waits
	// until its context ends. The factory and ConnectionMade run once it has succeeded; a failed
	// or timed-out handshake calls neither and fails the call with an error that says which check
	// or which limit. tls.Config's callbacks run on the handshake goroutine;
	// ClientSessionCache.Put may run on the loop goroutine (TLS 1.3 tickets arrive after the
	// handshake) and must not block. Renegotiation is refused: it would block the loop.
	TLS *tls.Config
	// ServerHostname is server_hostname: the name the server's certificate must be valid for.
	// Required with TLS unless TLS.ServerName is set or TLS.InsecureSkipVerify: a Unix path has no
	// host name (asyncio raises the same).
	ServerHostname string
	// HandshakeTimeout is ssl_handshake_timeout: how long the handshake may take. Default 60 s.
	// The create call's context bounds it too.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is ssl_shutdown_timeout: how long Close waits for the peer's close_notify.
	// Default 30 s.
	ShutdownTimeout time.Duration
}

// ErrPathTooLong is returned, before any socket is made, for a path longer than a Unix socket
// address holds (108 bytes on Linux, 103 on the BSDs and macOS). It is the same error as
// udp.ErrPathTooLong.
var ErrPathTooLong = sock.ErrPathTooLong

// checkPath refuses an over-long path, naming the limit.
func checkPath(what, path string) error {
	if len(path) > sock.PathLimit(path) {
		return fmt.Errorf("unixstream: %s %q is %d bytes; a Unix socket path of its kind holds at most %d: %w",
			what, path, len(path), sock.PathLimit(path), ErrPathTooLong)
	}
	return nil
}

// CreateUnixConnection connects to the Unix socket at path (a filesystem path, or an abstract name
// "@name" or "\x00name" on Linux), or takes over opts.Sock, and returns the transport and the
// protocol factory made (asyncio's create_unix_connection). The protocol must implement Protocol
// or BufferedProtocol. Any goroutine: the connect runs on the caller (a full backlog is waited for,
// which is refused on the loop goroutine), then registration and ConnectionMade on the loop.
//
// The protocol comes back as the factory's own type P, which Go infers from the factory. ctx
// bounds the wait for a listener whose backlog is full and the wait for the loop (asyncio leaves
// both to wait_for): once it is done the creation fails with an error that wraps
// context.Cause(ctx) (context.DeadlineExceeded for a timeout) and leaves nothing open; it has no
// effect on the connection once made. The connection belongs to the loop: Loop.Shutdown and
// Loop.Close close it.
func CreateUnixConnection[P BaseProtocol](ctx context.Context, l *loop.Loop, factory func() P, path string, opts ConnOptions) (*Transport, P, error) {
	var none P
	t, p, err := createConnection(ctx, l, factory == nil, func() BaseProtocol { return nilIfNil(factory()) }, path, opts)
	if err != nil {
		return nil, none, err
	}
	return t, p.(P), nil
}

// nilIfNil is p, or nil when p holds a nil pointer (a typed factory that returned nil).
func nilIfNil(p BaseProtocol) BaseProtocol {
	if reactor.IsNil(p) {
		return nil
	}
	return p
}

func createConnection(ctx context.Context, l *loop.Loop, noFactory bool, factory func() BaseProtocol, path string, opts ConnOptions) (*Transport, BaseProtocol, error) {
	switch {
	case ctx == nil:
		return nil, nil, errors.New("unixstream: nil context")
	case l == nil:
		return nil, nil, errors.New("unixstream: nil loop")
	case noFactory:
		return nil, nil, errors.New("unixstream: nil protocol factory")
	case path != "" && opts.Sock != nil:
		return nil, nil, errors.New("unixstream: path and ConnOptions.Sock are mutually exclusive")
	case path == "" && opts.Sock == nil:
		return nil, nil, errors.New("unixstream: a path or ConnOptions.Sock is required")
	}
	if err := checkPath("path", path); err != nil {
		return nil, nil, err
	}
	tp, err := newTLSParams("ConnOptions", opts.TLS, false, opts.ServerHostname, opts.HandshakeTimeout, opts.ShutdownTimeout)
	if err != nil {
		return nil, nil, err
	}
	if tp != nil && l.InLoop() {
		return nil, nil, errors.New("unixstream: CreateUnixConnection with TLS on the loop goroutine would block it for the handshake; call it from another goroutine, or connect without TLS and call Transport.StartTLS")
	}
	if err := context.Cause(ctx); err != nil {
		return nil, nil, err
	}
	var fd int
	if opts.Sock != nil {
		fd, err = adoptStream(opts.Sock, "ConnOptions.Sock")
	} else {
		fd, err = connect(ctx, l, path)
	}
	if err != nil {
		return nil, nil, err
	}
	t := newTransport(l, fd)
	var p BaseProtocol
	var w *handshakeWaiter
	ran := false
	derr := l.Do(ctx, func() {
		ran = true
		if tp == nil {
			p, err = t.start(factory)
			return
		}
		w = newHandshakeWaiter()
		err = t.connectTLS(ctx, tp, factory, w)
	})
	if !ran { // the loop closed or ctx ended first: start never ran, and the socket is still ours
		sock.Close(fd)
		return nil, nil, derr
	}
	if err == nil && w != nil {
		p, err = w.wait(ctx)
	}
	if err != nil {
		return nil, nil, err // the socket is closed, or will be when the handshake ends
	}
	return t, p, nil
}

// connect connects a new socket to path. A listener whose backlog is full answers EAGAIN, having
// started nothing: off the loop goroutine the connect is tried again, 1 ms later and doubling to
// 50 ms, until ctx is done; on it, the EAGAIN is the answer (waiting would block the loop).
func connect(ctx context.Context, l *loop.Loop, path string) (int, error) {
	fd, err := sock.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, fmt.Errorf("unixstream: %w", err)
	}
	onLoop := l.InLoop()
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
		err = sock.Connect(fd, syscall.AF_UNIX, noAddr, path)
		switch {
		case err != nil && sock.InProgress(err) && !onLoop:
			err = waitConnected(ctx, fd)
		case sock.Errno(err) == syscall.EAGAIN && !onLoop:
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
				continue
			case <-ctx.Done():
				timer.Stop()
				err = fmt.Errorf("%w (the listener's backlog stayed full: %v)", context.Cause(ctx), err)
			}
		case sock.Errno(err) == syscall.EAGAIN && onLoop:
			err = fmt.Errorf("%w (the listener's backlog is full; waiting would block the loop goroutine)", err)
		}
		break
	}
	if err != nil {
		sock.Close(fd)
		return -1, fmt.Errorf("unixstream: connect %s: %w", path, err)
	}
	return fd, nil
}

// waitConnected waits for a connect in progress, in slices so that ctx is seen.
func waitConnected(ctx context.Context, fd int) error {
	for {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		slice := 50 * time.Millisecond
		if d, ok := ctx.Deadline(); ok {
			slice = min(slice, max(0, time.Until(d)))
		}
		err := sock.WaitConnected(fd, slice)
		if sock.Errno(err) != syscall.ETIMEDOUT {
			return err
		}
	}
}

// adoptStream takes a duplicate of a caller's Unix stream socket.
func adoptStream(c syscall.Conn, field string) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("unixstream: %s: %w", field, err)
	}
	info, err := sock.Adopt(rc)
	if err != nil {
		return -1, fmt.Errorf("unixstream: %s: %w", field, err)
	}
	if info.Type != syscall.SOCK_STREAM || info.Family != syscall.AF_UNIX {
		sock.Close(info.FD)
		return -1, fmt.Errorf("unixstream: %s is not a Unix stream socket (family %d, type %d)", field, info.Family, info.Type)
	}
	return info.FD, nil
}
