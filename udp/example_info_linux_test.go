package udp_test

import (
	"context"
	"fmt"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
)

// answerFromDst is a server on every address that answers each datagram from the address it was
// sent to, as a multi-homed server must (a client only accepts answers from where it sent).
type answerFromDst struct{ t *udp.Transport }

func (p *answerFromDst) ConnectionMade(t *udp.Transport)   { p.t = t }
func (p *answerFromDst) DatagramReceived([]byte, udp.Addr) {}
func (p *answerFromDst) ErrorReceived(error)               {}
func (p *answerFromDst) ConnectionLost(error)              {}
func (p *answerFromDst) DatagramReceivedInfo(data []byte, from udp.Addr, info *udp.RecvInfo) {
	fmt.Printf("%q was sent to %v\n", data, info.Dst)
	p.t.SendToInfo(append([]byte("answer from "), info.Dst.String()...), from, udp.SendInfo{Src: info.Dst})
}

type printer struct{ l *loop.Loop }

func (p *printer) ConnectionMade(*udp.Transport) {}
func (p *printer) DatagramReceived(data []byte, _ udp.Addr) {
	fmt.Printf("client got %q\n", data)
	p.l.Stop()
}
func (p *printer) ErrorReceived(error)  {}
func (p *printer) ConnectionLost(error) {}

// A server bound to every address learns which address each datagram was sent to
// (Options.ReceiveInfo, InfoReceiver) and answers from it (SendToInfo).
func ExampleTransport_SendToInfo() {
	l, _ := loop.New(loop.Options{})
	defer l.Close()
	srv, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *answerFromDst { return &answerFromDst{} },
		udp.Options{LocalAddr: "0.0.0.0:0", ReceiveInfo: udp.InfoDestination})
	if err != nil {
		panic(err)
	}
	to := fmt.Sprintf("127.0.0.2:%d", srv.LocalAddr().AddrPort().Port())
	cli, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *printer { return &printer{l} },
		udp.Options{RemoteAddr: to})
	if err != nil {
		panic(err)
	}
	cli.Send([]byte("hello"))
	l.Run(context.Background())
	// Output:
	// "hello" was sent to 127.0.0.2
	// client got "answer from 127.0.0.2"
}
