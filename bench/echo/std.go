package echo

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
)

// stdServer is the standard library's way: a goroutine reading and writing a net.UDPConn, and a
// goroutine per accepted net.UnixConn (with TLS: crypto/tls over it, on the same goroutine).
type stdServer struct {
	counters
	uc    *net.UDPConn
	bulk  *net.UDPConn
	ln    *net.UnixListener
	tlsLn *net.UnixListener
	mu    sync.Mutex
	conns map[*net.UnixConn]struct{}
	wg    sync.WaitGroup
}

func startStd(cfg Config) (_ Server, err error) {
	s := &stdServer{conns: make(map[*net.UnixConn]struct{})}
	if cfg.UDP != "" {
		a, err := net.ResolveUDPAddr("udp", cfg.UDP)
		if err != nil {
			return nil, err
		}
		if s.uc, err = net.ListenUDP("udp", a); err != nil {
			return nil, err
		}
		s.wg.Go(s.serveUDP)
	}
	if cfg.BulkUDP != "" {
		a, err := net.ResolveUDPAddr("udp", cfg.BulkUDP)
		if err == nil {
			s.bulk, err = net.ListenUDP("udp", a)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		s.wg.Go(s.serveBulk)
	}
	if cfg.Unix != "" {
		if s.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: cfg.Unix, Net: "unix"}); err != nil {
			s.Close()
			return nil, err
		}
		s.wg.Go(func() { s.accept(s.ln, nil) })
	}
	if cfg.TLSUnix != "" {
		if s.tlsLn, err = net.ListenUnix("unix", &net.UnixAddr{Name: cfg.TLSUnix, Net: "unix"}); err != nil {
			s.Close()
			return nil, err
		}
		s.wg.Go(func() { s.accept(s.tlsLn, cfg.TLS) })
	}
	return s, nil
}

func (s *stdServer) UDPAddr() string {
	if s.uc == nil {
		return ""
	}
	return s.uc.LocalAddr().String()
}

func (s *stdServer) BulkAddr() string {
	if s.bulk == nil {
		return ""
	}
	return s.bulk.LocalAddr().String()
}

// serveBulk serves the bulk port: a burst is n WriteToUDPAddrPort calls.
func (s *stdServer) serveBulk() {
	buf := make([]byte, 64<<10)
	var count [8]byte
	var from netip.AddrPort
	send := func(p []byte) { s.bulk.WriteToUDPAddrPort(p, from) }
	for {
		n, f, err := s.bulk.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		from = f
		s.answerBulk(buf[:n], &count, send)
	}
}

func (s *stdServer) serveUDP() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := s.uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error from an earlier send
		}
		s.uc.WriteToUDPAddrPort(buf[:n], from)
		s.datagrams.Add(1)
		s.udpBytes.Add(uint64(n))
	}
}

func (s *stdServer) accept(ln *net.UnixListener, cfg *tls.Config) {
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.conns == nil { // closing
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.serveConn(c, cfg)
	}
}

// serveConn serves one connection on its own goroutine, with TLS when cfg is not nil.
func (s *stdServer) serveConn(c *net.UnixConn, cfg *tls.Config) {
	s.counters.conns.Add(1)
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
		var rw net.Conn = c
		if cfg != nil {
			tc := tls.Server(c, cfg)
			if tc.Handshake() != nil {
				return
			}
			rw = tc
		}
		buf := make([]byte, 64<<10)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return
			}
			if _, err := rw.Write(buf[:n]); err != nil {
				return
			}
			s.streamBytes.Add(uint64(n))
		}
	})
}

func (s *stdServer) Close() error {
	var errs []error
	if s.uc != nil {
		errs = append(errs, s.uc.Close())
	}
	if s.bulk != nil {
		errs = append(errs, s.bulk.Close())
	}
	if s.ln != nil {
		errs = append(errs, s.ln.Close()) // removes the socket file
	}
	if s.tlsLn != nil {
		errs = append(errs, s.tlsLn.Close())
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	err := errors.Join(errs...)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return err
}
