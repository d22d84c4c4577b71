//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// Greeter says hello to every client and keeps the connection open.
type Greeter struct{ t *unixstream.Transport }

func (p *Greeter) ConnectionMade(t *unixstream.Transport) { p.t = t; t.Write([]byte("hello\n")) }
func (p *Greeter) DataReceived(data []byte)               {}
func (p *Greeter) EOFReceived() bool                      { return false }
func (p *Greeter) ConnectionLost(err error)               { fmt.Println("server: connection closed:", err) }

// Graceful shutdown on SIGINT, in the order that loses nothing: run the loop with a context that
// outlives the signal (Shutdown needs a running loop to flush), wait for the signal, then give
// Shutdown a deadline. Shutdown stops accepting, lets every connection write what it has queued,
// runs each ConnectionLost, aborts whatever is still open at the deadline, stops the loop and
// closes it: no descriptor stays open.
func Example_gracefulShutdown() {
	dir, _ := os.MkdirTemp("", "aioloop-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "greeter.sock")

	interrupted, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	l, _ := loop.New(loop.Options{Name: "greeter"})
	done, err := l.Start(context.Background()) // not the signal's context: see above
	if err != nil {
		panic(err)
	}
	if _, err := unixstream.CreateUnixServer(context.Background(), l, func() *Greeter { return &Greeter{} },
		path, unixstream.ServerOptions{}); err != nil {
		panic(err)
	}

	c, _ := net.Dial("unix", path)
	defer c.Close()
	r := bufio.NewReader(c)
	line, _ := r.ReadString('\n')
	fmt.Print("client: ", line)

	syscall.Kill(syscall.Getpid(), syscall.SIGINT) // here the example interrupts itself
	<-interrupted.Done()
	fmt.Println("interrupted: shutting down")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		fmt.Println("shutdown:", err) // the deadline passed: what was still open was aborted
	}
	fmt.Println("loop:", <-done)
	if _, err := r.ReadString('\n'); err != nil {
		fmt.Println("client:", err)
	}
	// Output:
	// client: hello
	// interrupted: shutting down
	// server: connection closed: <nil>
	// loop: <nil>
	// client: EOF
}
