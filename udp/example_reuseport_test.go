//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// Echo answers every datagram and counts them in a counter its loops share.
type Echo struct {
	t      *udp.Transport
	served *atomic.Int64
}

func (p *Echo) ConnectionMade(t *udp.Transport) { p.t = t }
func (p *Echo) DatagramReceived(data []byte, from udp.Addr) {
	p.t.SendTo(data, from)
	p.served.Add(1)
}
func (p *Echo) ErrorReceived(err error)  {}
func (p *Echo) ConnectionLost(err error) {}

// One loop per core, each with its own socket on the same port (ReusePort, SO_REUSEPORT): the
// kernel spreads the peers among them, and no lock is shared on the receive path.
func Example_reusePort() {
	const loops = 2
	var served atomic.Int64
	var ls []*loop.Loop
	addr := "127.0.0.1:0"
	for i := range loops {
		l, _ := loop.New(loop.Options{Name: "udp-" + strconv.Itoa(i)})
		if _, err := l.Start(context.Background()); err != nil {
			panic(err)
		}
		tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *Echo { return &Echo{served: &served} },
			udp.Options{LocalAddr: addr, ReusePort: true})
		if err != nil {
			panic(err)
		}
		addr = tr.LocalAddr().String() // the others bind the port the first one got
		ls = append(ls, l)
	}

	// Twenty clients, each its own socket: the kernel picks a loop per client (by a hash of the
	// addresses), so which loop serves whom is not fixed, but each client always gets its answer.
	answered := 0
	for range 20 {
		c, _ := net.Dial("udp", addr)
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 8)
		if n, _ := c.Read(buf); string(buf[:n]) == "ping" {
			answered++
		}
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, l := range ls {
		l.Shutdown(ctx)
	}
	fmt.Println("answered:", answered, "served:", served.Load())
	// Output: answered: 20 served: 20
}
