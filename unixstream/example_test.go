//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package unixstream_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// EchoServer is the asyncio docs' TCP echo server protocol, over a Unix socket.
type EchoServer struct{ transport *unixstream.Transport }

func (p *EchoServer) ConnectionMade(t *unixstream.Transport) { p.transport = t }
func (p *EchoServer) DataReceived(data []byte) {
	fmt.Printf("Data received: %q\n", data)
	fmt.Printf("Send: %q\n", data)
	p.transport.Write(data)
	fmt.Println("Close the client socket")
	p.transport.Close()
}
func (p *EchoServer) EOFReceived() bool        { return false }
func (p *EchoServer) ConnectionLost(err error) {}

// EchoClient is the asyncio docs' TCP echo client protocol, over a Unix socket.
type EchoClient struct {
	message string
	onLost  func()
}

func (p *EchoClient) ConnectionMade(t *unixstream.Transport) {
	t.Write([]byte(p.message))
	fmt.Printf("Data sent: %q\n", p.message)
}
func (p *EchoClient) DataReceived(data []byte) { fmt.Printf("Data received: %q\n", data) }
func (p *EchoClient) EOFReceived() bool        { return false }
func (p *EchoClient) ConnectionLost(err error) {
	fmt.Println("The server closed the connection")
	p.onLost()
}

// A Unix echo server and client, as in the asyncio docs' TCP echo examples.
func ExampleCreateUnixServer() {
	dir, _ := os.MkdirTemp("", "aioloop-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "echo.sock")

	l, _ := loop.New(loop.Options{})
	defer l.Close()
	server, err := unixstream.CreateUnixServer(context.Background(), l,
		func() *EchoServer { return &EchoServer{} }, path, unixstream.ServerOptions{})
	if err != nil {
		panic(err)
	}
	_, _, err = unixstream.CreateUnixConnection(context.Background(), l,
		func() *EchoClient {
			return &EchoClient{message: "Hello World!", onLost: func() { server.Close(); l.Stop() }}
		}, path, unixstream.ConnOptions{})
	if err != nil {
		panic(err)
	}
	l.Run(context.Background())
	// Output:
	// Data sent: "Hello World!"
	// Data received: "Hello World!"
	// Send: "Hello World!"
	// Close the client socket
	// Data received: "Hello World!"
	// The server closed the connection
}
