//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// Framer reads length-prefixed messages (a 4-byte big-endian length, then that many bytes) with
// no copy: the kernel reads straight into its buffer, and each complete frame is handed to
// onFrame, borrowed, while the partial one waits for the next read.
type Framer struct {
	buf     []byte // buf[:n] holds what was read and not yet consumed
	n       int
	onFrame func(frame []byte)
	onEOF   func()
}

func (f *Framer) ConnectionMade(t *unixstream.Transport) { f.buf = make([]byte, 64<<10) }

// GetBuffer lends the free end of the buffer, compacting first when a partial frame sits at the
// end of it.
func (f *Framer) GetBuffer(sizeHint int) []byte {
	if f.n == len(f.buf) {
		panic("frame larger than the buffer") // a real protocol would grow it or close
	}
	return f.buf[f.n:]
}

// BufferUpdated consumes every complete frame and moves the partial one to the front.
func (f *Framer) BufferUpdated(n int) {
	f.n += n
	start := 0
	for f.n-start >= 4 {
		size := int(binary.BigEndian.Uint32(f.buf[start:]))
		if f.n-start-4 < size {
			break
		}
		f.onFrame(f.buf[start+4 : start+4+size])
		start += 4 + size
	}
	f.n = copy(f.buf, f.buf[start:f.n])
}

func (f *Framer) EOFReceived() bool        { f.onEOF(); return false }
func (f *Framer) ConnectionLost(err error) {}

// A BufferedProtocol that frames a stream: three messages sent in two writes that cut the second
// one in the middle come out as three frames.
func ExampleBufferedProtocol() {
	dir, _ := os.MkdirTemp("", "aioloop-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "frames.sock")

	l, _ := loop.New(loop.Options{})
	defer l.Close()
	_, err := unixstream.CreateUnixServer(context.Background(), l, func() *Framer {
		return &Framer{
			onFrame: func(frame []byte) { fmt.Printf("frame: %q\n", frame) },
			onEOF:   l.Stop,
		}
	}, path, unixstream.ServerOptions{})
	if err != nil {
		panic(err)
	}

	var stream []byte
	for _, m := range []string{"first", "second message", "third"} {
		stream = binary.BigEndian.AppendUint32(stream, uint32(len(m)))
		stream = append(stream, m...)
	}
	c, _ := net.Dial("unix", path)
	c.Write(stream[:15])                      // "first" and part of "second message"
	l.CallLater(10*time.Millisecond, func() { // then the rest
		c.Write(stream[15:])
		c.(*net.UnixConn).CloseWrite()
	})
	l.Run(context.Background())
	c.Close()
	// Output:
	// frame: "first"
	// frame: "second message"
	// frame: "third"
}
