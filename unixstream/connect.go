package unixstream

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
	"github.com/aioloop/aioloop/loop"
)

// ConnOptions are CreateUnixConnection's keyword arguments. TLS arrives with the TLS issue.
type ConnOptions struct {
	// Sock is sock: an existing connected Unix stream socket (an *os.File, a *net.UnixConn, ...)
	// used instead of a path. The transport works on its own duplicate of the descriptor; the
	// caller's object stays open and is the caller's to close. The duplicate shares the caller's
	// open file, so the caller's socket becomes non-blocking too, as asyncio makes it.
	Sock syscall.Conn
	// ConnectTimeout bounds the wait for a listener whose backlog is full (beyond asyncio, which
	// leaves that to wait_for). Default 30 s.
	ConnectTimeout time.Duration
}

// ErrPathTooLong is returned for a path longer than a Unix socket address holds.
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
func CreateUnixConnection(l *loop.Loop, factory func() BaseProtocol, path string, opts ConnOptions) (*Transport, BaseProtocol, error) {
	switch {
	case l == nil:
		return nil, nil, errors.New("unixstream: nil loop")
	case factory == nil:
		return nil, nil, errors.New("unixstream: nil protocol factory")
	case path != "" && opts.Sock != nil:
		return nil, nil, errors.New("unixstream: path and ConnOptions.Sock are mutually exclusive")
	case path == "" && opts.Sock == nil:
		return nil, nil, errors.New("unixstream: a path or ConnOptions.Sock is required")
	case opts.ConnectTimeout < 0:
		return nil, nil, fmt.Errorf("unixstream: ConnOptions.ConnectTimeout is %v; want >= 0", opts.ConnectTimeout)
	}
	if err := checkPath("path", path); err != nil {
		return nil, nil, err
	}
	var fd int
	var err error
	if opts.Sock != nil {
		fd, err = adoptStream(opts.Sock, "ConnOptions.Sock")
	} else {
		fd, err = connect(l, path, opts)
	}
	if err != nil {
		return nil, nil, err
	}
	t := newTransport(l, fd)
	var p BaseProtocol
	ran := false
	derr := l.Do(func() { ran = true; p, err = t.start(factory) })
	if !ran { // the loop closed first: start never ran, and the socket is still ours
		sock.Close(fd)
		return nil, nil, derr
	}
	if err != nil {
		return nil, nil, err // start closed the socket
	}
	return t, p, nil
}

// connect connects a new socket to path. A listener whose backlog is full answers EAGAIN, having
// started nothing: off the loop goroutine the connect is tried again, 1 ms later and doubling to
// 50 ms, until ConnectTimeout; on it, the EAGAIN is the answer (waiting would block the loop).
func connect(l *loop.Loop, path string, opts ConnOptions) (int, error) {
	fd, err := sock.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, fmt.Errorf("unixstream: %w", err)
	}
	timeout := opts.ConnectTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	deadline := time.Now().Add(timeout)
	onLoop := l.InLoop()
	for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
		err = sock.Connect(fd, syscall.AF_UNIX, noAddr, path)
		switch {
		case err != nil && sock.InProgress(err) && !onLoop:
			err = sock.WaitConnected(fd, time.Until(deadline))
		case sock.Errno(err) == syscall.EAGAIN && !onLoop && time.Now().Before(deadline):
			time.Sleep(backoff)
			continue
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
