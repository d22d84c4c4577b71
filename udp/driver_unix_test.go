//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"net"
	"net/netip"
	"time"
)

type stdDriver struct{ net.Conn }

func dialDriver(addr string) (driver, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return nil, err
	}
	return stdDriver{c}, nil
}

func (d stdDriver) ReadTimeout(p []byte, timeout time.Duration) (int, error) {
	d.SetReadDeadline(time.Now().Add(timeout))
	return d.Read(p)
}

type stdPeer struct{ *net.UDPConn }

func listenPeer() (peer, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	return stdPeer{c}, nil
}

func (p stdPeer) AddrPort() netip.AddrPort { return p.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p stdPeer) WriteTo(b []byte, to netip.AddrPort) error {
	_, err := p.WriteToUDPAddrPort(b, to)
	return err
}

func (p stdPeer) ReadTimeout(b []byte, d time.Duration) (int, error) {
	p.SetReadDeadline(time.Now().Add(d))
	return p.Read(b)
}
