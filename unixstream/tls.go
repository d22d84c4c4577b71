package unixstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/aioloop/aioloop/loop"
)

// asyncio's defaults for ssl_handshake_timeout and ssl_shutdown_timeout.
const (
	DefaultHandshakeTimeout = 60 * time.Second
	DefaultShutdownTimeout  = 30 * time.Second
	// DefaultMaxHandshakes is ServerOptions.MaxHandshakes' default: TLS handshakes in flight on
	// one server. See MaxHandshakes for why.
	DefaultMaxHandshakes = 1024
)

// Errors of TLS transports. The two timeouts match os.ErrDeadlineExceeded and are net.Error
// timeouts, as asyncio raises TimeoutError for them; the error a transport reports wraps one of
// them and names the option and its value.
var (
	// ErrHandshakeTimeout: the TLS handshake did not end within the handshake timeout.
	ErrHandshakeTimeout error = &timeoutError{"TLS handshake timeout"}
	// ErrShutdownTimeout: after Close sent close_notify, the peer neither answered with its own nor
	// closed within the shutdown timeout.
	ErrShutdownTimeout error = &timeoutError{"TLS shutdown timeout"}
	// ErrNoHalfClose: WriteEOF on a TLS transport; TLS has no half-close (asyncio raises
	// NotImplementedError). CanWriteEOF reports false.
	ErrNoHalfClose = errors.New("unixstream: WriteEOF on a TLS transport: TLS has no half-close")
)

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Temporary() bool      { return false }
func (e *timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// errHandshakeClosed is why a handshake ends when the transport is closed during it.
var errHandshakeClosed = fmt.Errorf("unixstream: the transport was closed during the TLS handshake: %w", net.ErrClosed)

// errHandshakeAborted is why a handshake ends when the transport is aborted during it.
var errHandshakeAborted = fmt.Errorf("unixstream: the transport was aborted during the TLS handshake: %w", net.ErrClosed)

// tlsParams is a validated TLS set-up: the configuration (a clone, with the server name set) and
// the limits, shared by every connection a server accepts.
type tlsParams struct {
	cfg              *tls.Config
	server           bool
	handshakeTimeout time.Duration
	shutdownTimeout  time.Duration
	handshakeErr     error // what a handshake timeout reports: the option, its value
	shutdownErr      error // what a shutdown timeout reports
}

// newTLSParams checks the TLS options of a create call or StartTLS, before any socket is made;
// where names the options struct in errors ("ConnOptions", ...). It returns nil, nil without TLS.
func newTLSParams(where string, cfg *tls.Config, server bool, hostname string, handshake, shutdown time.Duration) (*tlsParams, error) {
	if cfg == nil {
		switch {
		case hostname != "":
			return nil, fmt.Errorf("unixstream: %s.ServerHostname is only meaningful with %s.TLS", where, where)
		case handshake != 0:
			return nil, fmt.Errorf("unixstream: %s.HandshakeTimeout is only meaningful with %s.TLS", where, where)
		case shutdown != 0:
			return nil, fmt.Errorf("unixstream: %s.ShutdownTimeout is only meaningful with %s.TLS", where, where)
		}
		return nil, nil
	}
	switch {
	case runtime.GOOS == "windows":
		return nil, fmt.Errorf("unixstream: %s.TLS is not supported on Windows yet: the handshake runs on a duplicate of the socket on Go's own poller, which Go's os package makes only from Unix descriptors", where)
	case handshake < 0:
		return nil, fmt.Errorf("unixstream: %s.HandshakeTimeout is %v; want > 0, or 0 for the default %v", where, handshake, DefaultHandshakeTimeout)
	case shutdown < 0:
		return nil, fmt.Errorf("unixstream: %s.ShutdownTimeout is %v; want > 0, or 0 for the default %v", where, shutdown, DefaultShutdownTimeout)
	case cfg.Renegotiation != tls.RenegotiateNever:
		return nil, fmt.Errorf("unixstream: %s.TLS.Renegotiation is %v; only tls.RenegotiateNever is supported: a renegotiation runs a handshake inside a read, which would block the loop goroutine", where, cfg.Renegotiation)
	case server && hostname != "":
		return nil, fmt.Errorf("unixstream: %s.ServerHostname is only meaningful for a client", where)
	case server && len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil:
		return nil, fmt.Errorf("unixstream: %s.TLS has no certificate: set Certificates, GetCertificate or GetConfigForClient", where)
	}
	p := &tlsParams{cfg: cfg.Clone(), server: server, handshakeTimeout: handshake, shutdownTimeout: shutdown}
	if !server {
		if hostname != "" {
			p.cfg.ServerName = hostname
		}
		if p.cfg.ServerName == "" && !p.cfg.InsecureSkipVerify {
			return nil, fmt.Errorf("unixstream: %s.ServerHostname is required with %s.TLS: a Unix path has no host name to check the server's certificate against (asyncio raises the same); set it, or TLS.ServerName", where, where)
		}
	}
	if p.handshakeTimeout == 0 {
		p.handshakeTimeout = DefaultHandshakeTimeout
	}
	if p.shutdownTimeout == 0 {
		p.shutdownTimeout = DefaultShutdownTimeout
	}
	p.handshakeErr = fmt.Errorf("unixstream: %s.HandshakeTimeout (%v) passed before the TLS handshake ended: %w", where, p.handshakeTimeout, ErrHandshakeTimeout)
	p.shutdownErr = fmt.Errorf("unixstream: %s.ShutdownTimeout (%v) passed before the peer answered close_notify: %w", where, p.shutdownTimeout, ErrShutdownTimeout)
	return p, nil
}

// tlsState is a TLS transport's record layer and where its close stands. Loop goroutine, except
// what the handshake goroutine owns until it posts its result (conn and rc).
type tlsState struct {
	conn   *tls.Conn
	rc     recordConn
	params *tlsParams
	state  tls.ConnectionState // cached when the handshake ends: reading it takes no lock

	handshaking bool                    // the handshake goroutine owns conn
	cancel      context.CancelCauseFunc // ends the handshake's context
	finish      func(err error)         // the create call's, the server's or StartTLS's ending, on the loop
	pending     []byte                  // StartTLS: plaintext written during the handshake
	flushFirst  bool                    // StartTLS: the handshake waits for the plaintext buffered
	deadline    time.Time               // StartTLS: the handshake's end, counted from the call
	counted     bool                    // holds one of the server's MaxHandshakes
	closeAfter  bool                    // StartTLS: Close came during the handshake

	shutdown bool             // Close queued close_notify; reading discards until the peer's
	peerDone bool             // the peer's close_notify, or EOF, was read
	timer    loop.TimerHandle // the shutdown timeout
	inWrite  bool             // in conn.Write: the caller flushes what it queues

	drainQueued bool   // a drain is scheduled
	drain       func() // the transport's drainTLS, kept so that scheduling allocates nothing
}

// stop ends what the TLS layer has running: the handshake's context and the shutdown timer.
func (ts *tlsState) stop(cause error) {
	if ts.cancel != nil {
		ts.cancel(cause)
	}
	ts.timer.Cancel()
}

// ConnectionState returns the TLS state negotiated by the handshake (version, cipher suite, peer
// certificates, ALPN protocol, server name, whether the session was resumed), cached when the
// handshake ended, so reading it takes none of crypto/tls's locks (asyncio's get_extra_info with
// 'peercert', 'cipher', 'ssl_object'). ok is false on a transport without TLS or before its
// handshake ended. Loop-only.
func (t *Transport) ConnectionState() (state tls.ConnectionState, ok bool) {
	if t.tls == nil || !t.tls.state.HandshakeComplete {
		return tls.ConnectionState{}, false
	}
	return t.tls.state, true
}
