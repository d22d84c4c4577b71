package udp_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aioloop/aioloop/udp"
	"golang.org/x/sys/unix"
)

// The re-entrancy test that needs a Unix datagram socket whose queue is full (Linux: the other
// systems' Unix datagram sends do not wait on the receiver's queue in the same way).

// unixSink is a bound, non-blocking Unix datagram socket whose queue is full.
func unixSink(t *testing.T, dir string) (fd int, path string) {
	t.Helper()
	fd, path = sinkAt(t, filepath.Join(dir, "sink.sock"))
	filler, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(filler)
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("the sink never filled")
		}
		if err := unix.Sendto(filler, []byte("filler"), 0, &unix.SockaddrUnix{Name: path}); err == unix.EAGAIN {
			return fd, path
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// sinkAt is a bound, non-blocking Unix datagram socket at path, closed when the test ends.
func sinkAt(t *testing.T, path string) (int, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	return fd, path
}

// Replies staged after a mid-batch flush met EAGAIN go behind the ones it queued: a peer gets its
// replies in SendTo order even when room comes back before the batch ends.
func TestRepliesKeepOrderWhenAMidBatchFlushMeetsEAGAIN(t *testing.T) {
	dir := t.TempDir()
	l := newLoop(t)
	tr, r := endpoint(t, l, udp.Options{LocalAddr: filepath.Join(dir, "srv.sock")})
	sfd, spath := unixSink(t, dir)
	const n, size = 10, 8000 // 8 replies of 8000 bytes fill the 64 KiB staging; the 9th flushes
	msg := make([]byte, size)
	for i := range n {
		msg[0] = byte(i)
		if err := unix.Sendto(sfd, msg, 0, &unix.SockaddrUnix{Name: tr.LocalAddr().Path()}); err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	var poll func()
	drain := func() {
		buf := make([]byte, size)
		for {
			k, err := unix.Read(sfd, buf)
			if err != nil {
				return
			}
			if k == size {
				got = append(got, buf[0])
			}
		}
	}
	r.onData = func(r *recorder, data []byte, from udp.Addr) {
		if from.Path() != spath {
			t.Errorf("from %q", from.Path())
		}
		if len(r.got) == n {
			drain() // room at the sink before the batch's last flush
			l.CallSoon(poll)
		}
		r.t.SendTo(data, from)
	}
	poll = func() {
		drain()
		if len(got) == n || tr.WriteBufferSize() == 0 && len(r.got) == n {
			l.Stop()
			return
		}
		l.CallLater(2*time.Millisecond, poll)
	}
	run(t, l)
	drain()
	if len(r.errs) != 0 {
		t.Fatalf("errors %v", r.errs)
	}
	want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if !slices.Equal(got, want) {
		t.Fatalf("the peer got its replies in the order %v; want %v", got, want)
	}
}
