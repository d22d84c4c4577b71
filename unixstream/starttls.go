package unixstream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// StartTLSOptions are StartTLS's keyword arguments (asyncio's loop.start_tls).
type StartTLSOptions struct {
	// Server is server_side: this end is the TLS server.
	Server bool
	// ServerHostname is server_hostname, for a client: required unless the config's ServerName is
	// set or InsecureSkipVerify.
	ServerHostname string
	// HandshakeTimeout is ssl_handshake_timeout, counted from the StartTLS call (the plaintext
	// still buffered has to go out within it too). Default 60 s.
	HandshakeTimeout time.Duration
	// ShutdownTimeout is ssl_shutdown_timeout. Default 30 s.
	ShutdownTimeout time.Duration
	// Buffered holds bytes the protocol has received that belong to the TLS stream: those read
	// past the upgrade point, such as the start of a ClientHello that came in the same read as a
	// STARTTLS command. The handshake reads them first. It is copied. asyncio loses such bytes.
	Buffered []byte
}

// StartTLS upgrades the connection to TLS in place (asyncio's loop.start_tls): the protocol keeps
// this same *Transport. From the call on, nothing more is delivered (the rest of a batch being
// delivered included) until the handshake has ended. The plaintext already buffered goes out
// first; the handshake then runs on a goroutine of its own, as a create call's does. Write during
// the handshake keeps the plaintext (WriteBufferSize counts it) and seals it after. done runs on
// the loop goroutine when the handshake ends: with nil, after which data flows decrypted through
// the same protocol; or with the error, after which the connection is aborted and ConnectionLost
// gets the same error. Close during the handshake lets it end, then sends what was written during
// it and close_notify, as Close does; Abort (or Loop.Close) ends it at once, and done gets an error
// matching net.ErrClosed.
//
// It returns an error, and changes nothing, for a nil config, bad options (named), a transport
// closing, already using TLS, or half-closed either way. Loop-only; it does not block. asyncio's
// start_tls is a coroutine that returns a new transport; here done is the await.
func (t *Transport) StartTLS(config *tls.Config, opts StartTLSOptions, done func(err error)) error {
	switch {
	case config == nil:
		return errors.New("unixstream: StartTLS: nil tls.Config")
	case t.closing:
		return errClosed
	case t.tls != nil:
		return errors.New("unixstream: StartTLS: the transport already uses TLS")
	case t.eofAsked:
		return errors.New("unixstream: StartTLS after WriteEOF: TLS needs both directions")
	case t.eof:
		return errors.New("unixstream: StartTLS after the peer's EOF: TLS needs both directions")
	}
	p, err := newTLSParams("StartTLSOptions", config, opts.Server, opts.ServerHostname, opts.HandshakeTimeout, opts.ShutdownTimeout)
	if err != nil {
		return err
	}
	if done == nil {
		done = func(error) {}
	}
	var prefix []byte
	if len(opts.Buffered) > 0 {
		prefix = append([]byte(nil), opts.Buffered...)
	}
	deadline := time.Now().Add(p.handshakeTimeout)
	var ts *tlsState
	finish := func(err error) {
		if err == nil {
			if pending := ts.pending; len(pending) > 0 {
				ts.pending = nil
				t.writeTLS(pending)
			}
			if ts.closeAfter && !t.lost {
				t.closeTLS()
			}
			t.startRecords()
		}
		done(err)
	}
	ts = t.prepareTLS(p, prefix, finish)
	if t.head < len(t.out) { // the plaintext buffered goes out first; onWritable launches
		ts.flushFirst, ts.deadline = true, deadline
		ts.timer = t.l.CallLater(p.handshakeTimeout, func() {
			if ts.flushFirst && ts.handshaking {
				t.endHandshake(p.handshakeErr, p.handshakeErr, false)
			}
		})
		t.setInterest()
		return nil
	}
	if err := t.launchTLS(context.Background(), deadline); err != nil {
		t.tls = nil // nothing began: the transport goes on in plaintext
		t.setInterest()
		return err
	}
	return nil
}

// launchFlushed launches a StartTLS handshake that waited for the plaintext to go out; onWritable
// calls it once the buffer is empty.
func (t *Transport) launchFlushed() {
	ts := t.tls
	ts.flushFirst = false
	ts.timer.Cancel()
	if err := t.launchTLS(context.Background(), ts.deadline); err != nil {
		t.endHandshake(fmt.Errorf("unixstream: StartTLS: %w", err), err, false)
	}
}
