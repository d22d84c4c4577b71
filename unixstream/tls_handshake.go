package unixstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/internal/sock"
)

// beginTLS starts the TLS handshake on an open transport: loop goroutine. The handshake runs on a
// goroutine of its own over a duplicate of the socket on Go's poller (see recordConn), while the
// transport's registration stays quiet; the goroutine ends with the handshake and posts the
// result, and finish runs on the loop with it: nil once the records phase has begun, or why the
// handshake failed, after the transport was closed. parent's end, the handshake timeout, Close and
// Abort all end the handshake.
func (t *Transport) beginTLS(parent context.Context, p *tlsParams, finish func(error)) error {
	t.prepareTLS(p, nil, finish)
	return t.launchTLS(parent, time.Now().Add(p.handshakeTimeout))
}

// prepareTLS gives the transport its TLS layer, in the handshake state; prefix is StartTLS's bytes
// already read. Nothing runs yet.
func (t *Transport) prepareTLS(p *tlsParams, prefix []byte, finish func(error)) *tlsState {
	ts := &tlsState{params: p, handshaking: true, finish: finish}
	ts.rc = recordConn{t: t, prefix: prefix,
		local: &net.UnixAddr{Name: t.local, Net: "unix"}, remote: &net.UnixAddr{Name: t.remote, Net: "unix"}}
	if p.server {
		ts.conn = tls.Server(&ts.rc, p.cfg)
	} else {
		ts.conn = tls.Client(&ts.rc, p.cfg)
	}
	ts.drain = t.drainTLS
	t.tls = ts
	return ts
}

// launchTLS starts the handshake goroutine, which must end by deadline.
func (t *Transport) launchTLS(parent context.Context, deadline time.Time) error {
	ts := t.tls
	name := t.remote
	if name == "" {
		name = "unix socket"
	}
	f, err := sock.DupFile(t.fd, name)
	if err != nil {
		return fmt.Errorf("unixstream: TLS handshake: %w", err)
	}
	ts.rc.hs = f
	t.setInterest() // quiet: the handshake goroutine owns the socket's I/O
	ctx, cancel := context.WithCancelCause(parent)
	ctx, stopTimer := context.WithDeadlineCause(ctx, deadline, ts.params.handshakeErr)
	ts.cancel = cancel
	if t.server != nil {
		t.server.handshakes++
		ts.counted = true
	}
	go handshake(ctx, t, ts, f, func() { stopTimer(); cancel(nil) })
	return nil
}

// handshakeOver gives back the server's handshake slot, if this handshake took one.
func (t *Transport) handshakeOver() {
	if t.tls.counted {
		t.tls.counted = false
		t.server.handshakeEnded()
	}
}

// handshake is the handshake goroutine. It touches nothing of the transport but ts.conn (and,
// through it, ts.rc), which the loop leaves alone until the result is posted.
func handshake(ctx context.Context, t *Transport, ts *tlsState, f interface{ Close() error }, release func()) {
	err := ts.conn.HandshakeContext(ctx)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause // the context ended it: the timeout, the create call's context, or a close
		} else if errors.Is(err, io.EOF) {
			err = fmt.Errorf("the peer closed the connection during the TLS handshake: %w", io.ErrUnexpectedEOF)
		} else if e := sock.Errno(err); e == syscall.EPIPE || e == syscall.ECONNRESET {
			err = fmt.Errorf("the peer closed the connection during the TLS handshake: %w", err)
		}
	}
	release()
	f.Close()
	// On a closed loop the post fails; Loop.Close has then ended the handshake already.
	_ = t.l.CallSoonThreadsafe(func() { t.handshakeDone(ts, err) })
}

// handshakeDone takes the handshake goroutine's result on the loop.
func (t *Transport) handshakeDone(ts *tlsState, err error) {
	if t.tls != ts || !ts.handshaking {
		return // the transport was closed or aborted meanwhile: that ended the handshake
	}
	if err != nil {
		if !errors.Is(err, ErrHandshakeTimeout) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("unixstream: TLS handshake: %w", err)
		}
		t.endHandshake(err, err, false)
		return
	}
	ts.handshaking = false
	ts.rc.direct = true
	ts.state = ts.conn.ConnectionState() // the handshake is over: its lock is free
	t.handshakeOver()
	// What only the handshake needed goes, for an idle connection's sake: the contexts, and the
	// closed duplicate (crypto/tls stopped its context watch before it returned success, so
	// nothing calls recordConn.Close any more).
	ts.cancel, ts.rc.hs = nil, nil
	finish := ts.finish
	ts.finish = nil
	finish(nil)
}

// endHandshake ends a handshake in flight: why goes to the creator (or the server's report, or
// StartTLS's callback), lostErr to ConnectionLost where a protocol exists (StartTLS). now: Loop.Close
// is closing the loop, so ConnectionLost runs before this returns.
func (t *Transport) endHandshake(why, lostErr error, now bool) {
	ts := t.tls
	ts.handshaking, ts.flushFirst = false, false
	ts.stop(why)
	if ts.rc.hs != nil && t.fd >= 0 {
		// The handshake goroutine's duplicate keeps the socket open while a tls.Config callback
		// runs: shut the connection down now, for the peer and for the goroutine's I/O.
		sock.Shutdown(t.fd)
	}
	t.handshakeOver()
	switch {
	case t.proto == nil: // a new connection: nothing was made, the creation fails
		t.kill()
	case now:
		t.closeNow(lostErr)
	default:
		if t.drop() {
			t.lose(lostErr)
		}
	}
	ts.finish(why)
}

// startRecords begins the records phase after ConnectionMade (or StartTLS's callback): reading
// resumes, and a drain delivers what crypto/tls read past the handshake, which epoll cannot see.
func (t *Transport) startRecords() {
	if t.lost {
		return
	}
	t.setInterest()
	t.queueDrain()
}

// handshakeWaiter hands a TLS create call's result from the loop to the caller, who may give up
// when its context ends: the loop claims the connection before ConnectionMade, the caller abandons
// it, and only one of them wins.
type handshakeWaiter struct {
	state chan struct{} // a token: taken by whoever decides first
	res   chan handshakeResult
}

type handshakeResult struct {
	p   BaseProtocol
	err error
}

func newHandshakeWaiter() *handshakeWaiter {
	w := &handshakeWaiter{state: make(chan struct{}, 1), res: make(chan handshakeResult, 1)}
	w.state <- struct{}{}
	return w
}

// claim is the loop's: true if the caller still waits.
func (w *handshakeWaiter) claim() bool {
	select {
	case <-w.state:
		return true
	default:
		return false
	}
}

// wait is the caller's.
func (w *handshakeWaiter) wait(ctx context.Context) (BaseProtocol, error) {
	select {
	case r := <-w.res:
		return r.p, r.err
	case <-ctx.Done():
	}
	select {
	case <-w.state: // abandoned: the loop kills the connection when the handshake ends
		return nil, fmt.Errorf("unixstream: TLS handshake: %w", context.Cause(ctx))
	case r := <-w.res: // the loop claimed it, or failed it, first
		return r.p, r.err
	}
}

// connectTLS begins a client's handshake on a new connection; loop goroutine. When the handshake
// ends, the factory and ConnectionMade run and w gets the result.
func (t *Transport) connectTLS(ctx context.Context, p *tlsParams, factory func() BaseProtocol, w *handshakeWaiter) error {
	if err := t.open(0); err != nil {
		t.kill()
		return err
	}
	return t.beginNew(ctx, p, factory, func(p BaseProtocol, err error) {
		w.res <- handshakeResult{p, err}
	}, w.claim)
}

// acceptTLS begins a server's handshake on an accepted connection; loop goroutine.
func (t *Transport) acceptTLS(s *Server) error {
	if err := t.open(0); err != nil {
		t.kill()
		return err
	}
	return t.beginNew(context.Background(), s.tls, s.factory, func(_ BaseProtocol, err error) {
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.reportHandshake(err)
		}
	}, nil)
}

// beginNew begins the handshake of a connection that has no protocol yet: once it ends, claim
// (if any) decides whether anyone still wants the connection, then the factory and ConnectionMade
// run, and done hears the outcome.
func (t *Transport) beginNew(ctx context.Context, p *tlsParams, factory func() BaseProtocol, done func(BaseProtocol, error), claim func() bool) error {
	err := t.beginTLS(ctx, p, func(err error) {
		if err != nil {
			done(nil, err)
			return
		}
		if claim != nil && !claim() {
			t.kill() // the creator gave up
			return
		}
		proto, err := t.make(factory)
		if err == nil {
			t.startRecords()
		}
		done(proto, err)
	})
	if err != nil {
		t.kill()
	}
	return err
}
