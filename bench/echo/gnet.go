package echo

import (
	"context"
	"errors"
	"net"
	"sync"

	"fmt"
	"github.com/panjf2000/gnet/v2"
	"os"
)

// gnetServer is gnet with one event loop serving every listener (gnet.Rotate).
type gnetServer struct {
	counters
	gnet.BuiltinEventEngine
	eng    gnet.Engine
	booted chan struct{}
	done   chan error
	addr   string
	bulk   string
	bulkP  int // the bulk port's number, to tell its traffic from echo's
	count  [8]byte
	once   sync.Once
}

// freeUDP resolves addr and, for port 0, finds a free port: gnet does not tell the port it bound.
func freeUDP(addr string) (*net.UDPAddr, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil || a.Port != 0 {
		return a, err
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr), nil
}

func startGnet(cfg Config) (Server, error) {
	s := &gnetServer{booted: make(chan struct{}), done: make(chan error, 1)}
	var addrs []string
	if cfg.UDP != "" {
		a, err := freeUDP(cfg.UDP)
		if err != nil {
			return nil, err
		}
		s.addr = a.String()
		addrs = append(addrs, "udp://"+s.addr)
	}
	if cfg.BulkUDP != "" {
		a, err := freeUDP(cfg.BulkUDP)
		if err != nil {
			return nil, err
		}
		s.bulk, s.bulkP = a.String(), a.Port
		addrs = append(addrs, "udp://"+s.bulk)
	}
	if cfg.Unix != "" {
		addrs = append(addrs, "unix://"+cfg.Unix)
	}
	go func() {
		s.done <- gnet.Rotate(s, addrs, gnet.WithMulticore(false), gnet.WithNumEventLoop(1),
			gnet.WithLogger(stderrLogger{}))
	}()
	select {
	case <-s.booted:
		return s, nil
	case err := <-s.done:
		if err == nil {
			err = errors.New("echo: gnet stopped before it served")
		}
		return nil, err
	}
}

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.booted)
	return gnet.None
}

func (s *gnetServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if _, ok := c.LocalAddr().(*net.UnixAddr); ok {
		s.conns.Add(1)
	}
	return nil, gnet.None
}

func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	ua, isUDP := c.LocalAddr().(*net.UDPAddr)
	if isUDP && s.bulkP != 0 && ua.Port == s.bulkP {
		s.answerBulk(buf, &s.count, func(p []byte) { c.Write(p) }) // a burst: n writes, each a sendto
		return gnet.None
	}
	c.Write(buf)
	if isUDP {
		s.datagrams.Add(1)
		s.udpBytes.Add(uint64(len(buf)))
	} else {
		s.streamBytes.Add(uint64(len(buf)))
	}
	return gnet.None
}

func (s *gnetServer) UDPAddr() string  { return s.addr }
func (s *gnetServer) BulkAddr() string { return s.bulk }

func (s *gnetServer) Close() error {
	var err error
	s.once.Do(func() {
		err = s.eng.Stop(context.Background())
		if rerr := <-s.done; err == nil {
			err = rerr
		}
	})
	return err
}

// stderrLogger keeps gnet's warnings and errors on standard error; its default logger writes
// to standard output, where echoserver's "ready" and report go.
type stderrLogger struct{}

func (stderrLogger) Debugf(string, ...any) {}
func (stderrLogger) Infof(string, ...any)  {}
func (stderrLogger) Warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: warning: "+format+"\n", args...)
}
func (stderrLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: error: "+format+"\n", args...)
}
func (stderrLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "gnet: fatal: "+format+"\n", args...)
	os.Exit(1)
}
