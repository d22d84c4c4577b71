//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// Relay echoes what it reads, and passes back-pressure on to its peer: when its write buffer goes
// above the high-water mark (the peer reads slower than it writes) it stops reading, so that the
// kernel's buffers fill and the peer's writes wait, instead of the relay buffering without bound.
type Relay struct {
	t               *unixstream.Transport
	pauses, resumes int
	paused          chan<- struct{}
}

func (p *Relay) ConnectionMade(t *unixstream.Transport) { p.t = t }
func (p *Relay) DataReceived(data []byte)               { p.t.Write(data) }
func (p *Relay) EOFReceived() bool                      { return false } // close once all is written
func (p *Relay) ConnectionLost(err error)               {}

// PauseWriting and ResumeWriting make Relay a unixstream.FlowControl.
func (p *Relay) PauseWriting() {
	p.pauses++
	p.t.PauseReading()
	select {
	case p.paused <- struct{}{}:
	default:
	}
}
func (p *Relay) ResumeWriting() { p.resumes++; p.t.ResumeReading() }

// Back-pressure: a client writes 4 MiB before it reads anything. The relay pauses reading instead
// of holding megabytes, and resumes as the client drains its answers.
func Example_backpressure() {
	dir, _ := os.MkdirTemp("", "aioloop-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relay.sock")

	l, _ := loop.New(loop.Options{})
	done, _ := l.Start(context.Background())
	paused := make(chan struct{}, 1)
	relay := &Relay{paused: paused}
	if _, err := unixstream.CreateUnixServer(context.Background(), l, func() *Relay { return relay },
		path, unixstream.ServerOptions{}); err != nil {
		panic(err)
	}

	c, _ := net.Dial("unix", path)
	const size = 4 << 20
	go func() {
		c.Write(make([]byte, size)) // blocks while the relay does not read
		c.(*net.UnixConn).CloseWrite()
	}()
	<-paused // the relay stopped reading: only now does the client read
	n, _ := io.Copy(io.Discard, c)
	fmt.Println("client read back:", n)
	c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.Shutdown(ctx)
	<-done // the loop has stopped: its state may be read here
	fmt.Printf("relay: paused %v, resumed %v\n", relay.pauses > 0, relay.resumes > 0)
	// Output:
	// client read back: 4194304
	// relay: paused true, resumed true
}
