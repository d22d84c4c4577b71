//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// job is one request handed from the loop to a worker: the data copied out of the loop's buffer.
type job struct {
	data []byte
	from udp.Addr
}

// Offloader hands every datagram to a pool of worker goroutines and answers from the loop.
type Offloader struct {
	l    *loop.Loop
	t    *udp.Transport
	jobs chan<- job
}

func (p *Offloader) ConnectionMade(t *udp.Transport) { p.t = t }
func (p *Offloader) DatagramReceived(data []byte, from udp.Addr) {
	// data is borrowed until this method returns: copy it before another goroutine sees it.
	// from is a value and may be kept as it is.
	p.jobs <- job{data: bytes.Clone(data), from: from}
}
func (p *Offloader) ErrorReceived(err error)  {}
func (p *Offloader) ConnectionLost(err error) {}

// A server that does its work off the loop: the loop only reads and writes, workers compute, and
// each answer goes back through CallSoonThreadsafe, since the transport's methods are loop-only.
func Example_workers() {
	l, _ := loop.New(loop.Options{})
	if _, err := l.Start(context.Background()); err != nil {
		panic(err)
	}
	jobs := make(chan job, 64)
	srv := &Offloader{l: l, jobs: jobs}
	tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *Offloader { return srv },
		udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			for j := range jobs {
				reply := bytes.ToUpper(j.data) // the slow part, off the loop
				l.CallSoonThreadsafe(func() { tr.SendTo(reply, j.from) })
			}
		})
	}

	c, _ := net.Dial("udp", tr.LocalAddr().String())
	defer c.Close()
	buf := make([]byte, 64)
	for _, msg := range []string{"hello", "from", "a client"} {
		c.Write([]byte(msg))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := c.Read(buf)
		fmt.Println(string(buf[:n]))
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.Shutdown(ctx) // closes the endpoint: nothing sends on jobs any more
	close(jobs)
	workers.Wait()
	// Output:
	// HELLO
	// FROM
	// A CLIENT
}
