//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package udp_test

import (
	"net"
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
