//go:build linux

package load

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/sock"
)

// Stream is a Unix-stream throughput phase: Conns connections to the server at Path, each keeping
// Window bytes in flight. Small messages (Chunk 0): the window is Window/Msg messages of Msg bytes,
// and what comes back is replaced at once with one write of as many whole messages. Bulk (Chunk >
// 0): the window is refilled with chunks of Chunk bytes, up to 16 of them per writev.
type Stream struct {
	Path   string
	Conns  int // default 16
	Msg    int // message size, default 64 (Messages counts Bytes/Msg)
	Window int // bytes in flight per connection, default 16 messages (bulk: 256 KiB)
	Chunk  int // bulk: bytes per write; 0 for pipelined small messages
	Span
}

// maxChunks is how many bulk chunks one writev carries.
const maxChunks = 16

type streamConn struct {
	fd       int
	inflight int
}

// Run runs the phase on a locked OS thread.
func (s Stream) Run() (Result, error) {
	s.Conns, s.Msg = or(s.Conns, 16), or(s.Msg, 64)
	if s.Chunk > 0 {
		s.Window = or(s.Window, 256<<10)
	} else {
		s.Window = or(s.Window, 16*s.Msg)
	}
	switch {
	case s.Path == "":
		return Result{}, fmt.Errorf("load: Stream needs a Path")
	case s.Msg < 0 || s.Window < s.Msg || s.Chunk < 0 || s.Chunk > s.Window:
		return Result{}, fmt.Errorf("load: Stream sizes Msg %d, Window %d, Chunk %d: want 0 < Msg <= Window and Chunk <= Window",
			s.Msg, s.Window, s.Chunk)
	}
	if err := s.Span.check(); err != nil {
		return Result{}, err
	}
	return locked(s.run)
}

// DialUnix connects a stream socket to path, blocking, and returns it non-blocking.
func DialUnix(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("load: connect %s: %w", path, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}

func (s *Stream) run() (Result, error) {
	ep, err := newEpoll()
	if err != nil {
		return Result{}, err
	}
	defer ep.close()
	conns := make([]streamConn, 0, s.Conns)
	defer func() {
		for _, c := range conns {
			unix.Close(c.fd)
		}
	}()
	for i := range s.Conns {
		fd, err := DialUnix(s.Path)
		if err != nil {
			return Result{}, err
		}
		conns = append(conns, streamConn{fd: fd})
		if err := ep.add(fd, i); err != nil {
			return Result{}, err
		}
	}
	payload := make([]byte, s.Window)
	for i := range payload {
		payload[i] = byte(i % s.Msg)
	}
	buf := make([]byte, 256<<10)
	// bulk: the chunks of one refill go in one writev, as an application writing 4 KiB records
	// through a buffered writer would; small messages: one write of whole messages.
	w := sock.NewWriter(maxChunks)
	chunks := make([][]byte, maxChunks)
	fill := func(c *streamConn) error {
		n := s.Window - c.inflight
		var err error
		var k int
		if s.Chunk > 0 {
			m := min(n/s.Chunk, maxChunks)
			if m == 0 {
				return nil
			}
			for i := range m {
				chunks[i] = payload[i*s.Chunk%(len(payload)-s.Chunk+1):][:s.Chunk]
			}
			k, err = w.Writev(c.fd, chunks[:m])
		} else {
			if n -= n % s.Msg; n == 0 {
				return nil
			}
			k, err = sock.Write(c.fd, payload[:n])
		}
		c.inflight += k
		if err != nil && !sock.Temporary(err) {
			return err
		}
		return nil // what the kernel did not take is refilled when replies come
	}
	for i := range conns {
		if err := fill(&conns[i]); err != nil {
			return Result{}, err
		}
	}
	var got int64
	m := newMeter(s.Span)
	for now := time.Now(); !m.tick(now, got/int64(s.Msg), got); now = time.Now() {
		n, err := ep.wait(10)
		if err != nil {
			return Result{}, err
		}
		for _, idx := range ep.ready[:n] {
			c := &conns[idx]
			k, err := sock.Read(c.fd, buf)
			switch {
			case err != nil && sock.Temporary(err):
				continue
			case err != nil:
				return Result{}, err
			case k == 0:
				return Result{}, fmt.Errorf("load: the server closed a connection")
			}
			got += int64(k)
			c.inflight -= k
			if err := fill(c); err != nil {
				return Result{}, err
			}
		}
	}
	phase := "unix"
	if s.Chunk > 0 {
		phase = "unix-bulk"
	}
	return m.result(phase, got/int64(s.Msg), got), nil
}
