//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows

package udp_test

import (
	"context"
	"fmt"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// EchoServerProtocol is the asyncio docs' UDP echo server protocol.
type EchoServerProtocol struct{ transport *udp.Transport }

func (p *EchoServerProtocol) ConnectionMade(t *udp.Transport) { p.transport = t }
func (p *EchoServerProtocol) DatagramReceived(data []byte, addr udp.Addr) {
	fmt.Printf("Received %q\n", data)
	fmt.Printf("Send %q\n", data)
	p.transport.SendTo(data, addr)
}
func (p *EchoServerProtocol) ErrorReceived(err error)  {}
func (p *EchoServerProtocol) ConnectionLost(err error) {}

// EchoClientProtocol is the asyncio docs' UDP echo client protocol; onLost stands in for the
// future that the docs' client awaits.
type EchoClientProtocol struct {
	message   string
	transport *udp.Transport
	onLost    func()
}

func (p *EchoClientProtocol) ConnectionMade(t *udp.Transport) {
	p.transport = t
	fmt.Println("Send:", p.message)
	t.Send([]byte(p.message))
}
func (p *EchoClientProtocol) DatagramReceived(data []byte, addr udp.Addr) {
	fmt.Println("Received:", string(data))
	fmt.Println("Close the socket")
	p.transport.Close()
}
func (p *EchoClientProtocol) ErrorReceived(err error) { fmt.Println("Error received:", err) }
func (p *EchoClientProtocol) ConnectionLost(err error) {
	fmt.Println("Connection closed")
	p.onLost()
}

// The asyncio docs' UDP echo server and client, on one loop.
func ExampleCreateDatagramEndpoint() {
	l, _ := loop.New(loop.Options{})
	defer l.Close()

	server, _, err := udp.CreateDatagramEndpoint(context.Background(), l,
		func() *EchoServerProtocol { return &EchoServerProtocol{} },
		udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	_, _, err = udp.CreateDatagramEndpoint(context.Background(), l,
		func() *EchoClientProtocol {
			return &EchoClientProtocol{message: "Hello World!", onLost: func() { server.Close(); l.Stop() }}
		},
		udp.Options{RemoteAddr: server.LocalAddr().String()})
	if err != nil {
		panic(err)
	}
	l.Run(context.Background())
	// Output:
	// Send: Hello World!
	// Received "Hello World!"
	// Send "Hello World!"
	// Received: Hello World!
	// Close the socket
	// Connection closed
}
