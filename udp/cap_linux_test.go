package udp_test

import (
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/udp"
)

// A destination that never reads cannot make the queue grow past its cap: the datagram that would
// pass it is refused (SendTo returns a *WriteBufferFullError naming the sizes), nothing queued is
// lost, the endpoint stays open, and a reply staged in a batch that meets the cap is reported to
// ErrorReceived. The cap's default and its "none" are asyncio-free additions: check them too.
//
// Fault: a destination that never reads, a protocol that ignores PauseWriting → SendTo refused with *WriteBufferFullError at the cap; the endpoint stays open; everything accepted is delivered
func TestWriteBufferCapBoundsTheQueue(t *testing.T) {
	l := newLoop(t)
	tr, _, sfd := sinkEndpoint(t, l)
	if tr.WriteBufferMax() != udp.DefaultWriteBufferMax || udp.DefaultWriteBufferMax != 16<<20 {
		t.Fatalf("default cap %d", tr.WriteBufferMax())
	}
	tr.SetWriteBufferMax(-1)
	if tr.WriteBufferMax() != math.MaxInt {
		t.Fatalf("no cap: %d", tr.WriteBufferMax())
	}
	const limit = 20 * 1008 // twenty 1,000-byte datagrams, as WriteBufferSize counts them
	tr.SetWriteBufferMax(limit)
	msg := make([]byte, 1000)
	var refused error
	sent := 0
	for ; sent < 10000 && refused == nil; sent++ {
		refused = tr.Send(msg)
		if tr.WriteBufferSize() > limit {
			t.Fatalf("the queue holds %d bytes, above its cap of %d", tr.WriteBufferSize(), limit)
		}
	}
	var full *udp.WriteBufferFullError
	if !errors.Is(refused, udp.ErrWriteBufferFull) || !errors.As(refused, &full) || full.Max != limit ||
		full.Size != tr.WriteBufferSize()+1008 {
		t.Fatalf("the refusal is %v; want a *WriteBufferFullError for %d bytes above %d", refused, tr.WriteBufferSize()+1008, limit)
	}
	if tr.IsClosing() || tr.WriteBufferSize() != limit {
		t.Fatalf("closing %v, %d bytes queued; want open, and the queue full to its cap", tr.IsClosing(), tr.WriteBufferSize())
	}
	// Everything accepted arrives, once the sink reads: sent-1 datagrams (the last was refused).
	got := 0
	l.AddReader(sfd, func() {
		got += len(readAll(sfd))
		if got == sent-1 {
			l.Stop()
		}
	})
	run(t, l)
	l.RemoveReader(sfd)
	if got != sent-1 || tr.WriteBufferSize() != 0 {
		t.Fatalf("the sink got %d datagrams of %d accepted; %d bytes still queued", got, sent-1, tr.WriteBufferSize())
	}
}

// The staged path: replies sent from DatagramReceived to a peer that does not read fill the
// queue through the batch's flush; those that would pass the cap are dropped, each reported to
// ErrorReceived as a *WriteBufferFullError after the batch, and the endpoint stays open. Nothing
// is lost silently: what the peer reads and what was reported add up to what was sent, and what
// it reads is the first replies, in order.
//
// Fault: replies staged for a peer that never reads pass the cap → each dropped one reported to ErrorReceived as *WriteBufferFullError; what the peer reads is the first replies, in order
func TestWriteBufferCapOnStagedReplies(t *testing.T) {
	dir := t.TempDir()
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: filepath.Join(dir, "srv.sock")})
	const limit, n = 8 * 1008, 40
	tr.SetWriteBufferMax(limit)
	sfd, _ := unixSink(t, dir)
	if err := unix.Sendto(sfd, []byte("go"), 0, &unix.SockaddrUnix{Name: tr.LocalAddr().Path()}); err != nil {
		t.Fatal(err)
	}
	r.onData = func(r *recorder, _ []byte, from udp.Addr) {
		msg := make([]byte, 1000)
		for i := range n {
			msg[0] = byte(i)
			if err := r.t.SendTo(msg, from); err != nil {
				t.Errorf("staged SendTo: %v", err)
			}
		}
		l.CallSoon(l.Stop) // after the batch's flush and its ErrorReceived calls
	}
	run(t, l)
	if len(r.errs) == 0 || tr.IsClosing() || tr.WriteBufferSize() != limit {
		t.Fatalf("%d errors, closing %v, %d bytes queued; want errors, open, the queue at its cap %d",
			len(r.errs), tr.IsClosing(), tr.WriteBufferSize(), limit)
	}
	for _, err := range r.errs {
		var full *udp.WriteBufferFullError
		if !errors.As(err, &full) || full.Max != limit {
			t.Fatalf("ErrorReceived(%v); want a *WriteBufferFullError with the cap %d", err, limit)
		}
	}
	var got []byte
	buf := make([]byte, 2000)
	for range 1000 {
		if k, err := unix.Read(sfd, buf); err == nil && k == 1000 {
			got = append(got, buf[0])
		}
		if len(got)+len(r.errs) == n {
			break
		}
		l.CallLater(time.Millisecond, l.Stop) // let the transport drain its queue
		run(t, l)
	}
	if len(got)+len(r.errs) != n {
		t.Fatalf("the peer read %d replies and %d were reported; want %d in all", len(got), len(r.errs), n)
	}
	for i, b := range got {
		if int(b) != i {
			t.Fatalf("the peer read reply %d as #%d: %v", b, i, got)
		}
	}
}
