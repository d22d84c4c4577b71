// Package soak runs aioloop's soak: UDP, Unix-stream and TLS echo through one loop for a chosen
// time, against clients on the standard library that open and close connections at random,
// misbehaving peers among them (peers that vanish mid-write, half-close, never send, never read,
// or send garbage to the TLS server). Every echoed byte and datagram is checked, and goroutines,
// descriptors and heap are measured before and after: they must come back. make soak runs it for
// ten minutes (cmd/soak); its short form is a test of this package, part of make test.
package soak

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/udp"
	"github.com/aioloop/aioloop/unixstream"
)

// Config is a soak's shape.
type Config struct {
	Duration time.Duration
	Dir      string // where the Unix sockets go (a temporary directory of its own when "")
	Streams  int    // plain stream clients at once (default 8)
	TLS      int    // TLS clients at once (default 2)
	UDP      int    // UDP clients (default 2)
}

// Snapshot is what the process holds.
type Snapshot struct {
	Goroutines int
	FDs        int    // open descriptors (-1 where they can't be counted)
	Heap       uint64 // bytes of heap in use after a GC
}

// Report is what a soak did and found.
type Report struct {
	Duration                        time.Duration
	UDPSent, UDPAcked, UDPLost      int64
	StreamBytes, TLSBytes           int64
	Sessions                        map[string]int64
	ServerConns                     int64 // stream connections the server made (plain and TLS)
	HandshakeFailures, OtherReports int64
	Before, Middle, After           Snapshot
	Failures                        []string
}

// OK reports whether the soak kept every promise.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak %v: udp %d sent, %d echoed and checked, %d lost; stream %d bytes, TLS %d bytes echoed and checked; %d server connections\n",
		r.Duration.Round(time.Second), r.UDPSent, r.UDPAcked, r.UDPLost, r.StreamBytes, r.TLSBytes, r.ServerConns)
	fmt.Fprintf(&b, "sessions:")
	for _, k := range kindNames {
		fmt.Fprintf(&b, " %s %d", k, r.Sessions[k])
	}
	fmt.Fprintf(&b, "; TLS handshakes failed (garbage) %d, other reports %d\n", r.HandshakeFailures, r.OtherReports)
	for _, s := range []struct {
		name string
		s    Snapshot
	}{{"before", r.Before}, {"middle", r.Middle}, {"after", r.After}} {
		fmt.Fprintf(&b, "%-6s goroutines %d, descriptors %d, heap %.1f MiB\n", s.name, s.s.Goroutines, s.s.FDs, float64(s.s.Heap)/(1<<20))
	}
	if r.OK() {
		b.WriteString("ok\n")
	} else {
		b.WriteString("FAILED:\n  " + strings.Join(r.Failures, "\n  ") + "\n")
	}
	return b.String()
}

// snapshot collects garbage and counts.
func snapshot() Snapshot {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fds = len(ents) - 1 // less the directory's own
	}
	return Snapshot{Goroutines: runtime.NumGoroutine(), FDs: fds, Heap: ms.HeapInuse}
}

// Run runs one soak. An error means it could not run; a broken promise is in the Report.
func Run(cfg Config) (*Report, error) {
	if cfg.Duration <= 0 {
		return nil, errors.New("soak: Config.Duration must be positive")
	}
	cfg.Streams, cfg.TLS, cfg.UDP = or(cfg.Streams, 8), or(cfg.TLS, 2), or(cfg.UDP, 2)
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "aioloop-soak-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		cfg.Dir = dir
	}
	l, err := loop.New(loop.Options{Name: "soak"})
	if err != nil {
		return nil, err
	}
	r := &Report{Sessions: map[string]int64{}}
	var sc serverCounts
	var repMu sync.Mutex
	l.SetExceptionHandler(func(e loop.Exception) {
		repMu.Lock()
		defer repMu.Unlock()
		switch {
		case strings.Contains(e.Message, "handshake"):
			r.HandshakeFailures++ // the garbage peers' doing: reported, and the server goes on
		case strings.Contains(e.Message, "fatal error on transport"):
			r.OtherReports++ // a peer that vanished mid-write, for instance
		default:
			r.OtherReports++
			if len(r.Failures) < 20 {
				r.Failures = append(r.Failures, "exception handler: "+e.Message+": "+fmt.Sprint(e.Err))
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc, err := l.Start(ctx)
	if err != nil {
		l.Close()
		return nil, err
	}
	stop := func() error {
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		err := l.Shutdown(sctx)
		cancel()
		if rerr := <-errc; err == nil && rerr != nil && !errors.Is(rerr, context.Canceled) {
			err = rerr
		}
		return err
	}
	ut, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() *udpEcho { return &udpEcho{c: &sc} }, udp.Options{LocalAddr: "127.0.0.1:0"})
	if err != nil {
		stop()
		return nil, err
	}
	plain := filepath.Join(cfg.Dir, "echo.sock")
	secure := filepath.Join(cfg.Dir, "tls.sock")
	mk := func() unixstream.BaseProtocol { return &streamEcho{c: &sc} }
	if _, err = unixstream.CreateUnixServer(context.Background(), l, mk, plain, unixstream.ServerOptions{Backlog: 1024}); err == nil {
		_, err = unixstream.CreateUnixServer(context.Background(), l, mk, secure,
			unixstream.ServerOptions{Backlog: 1024, TLS: testcert.Get().ServerConfig(0), HandshakeTimeout: 5 * time.Second})
	}
	if err != nil {
		stop()
		return nil, err
	}
	r.Before = snapshot()

	start := time.Now()
	var cc clientCounts
	cctx, ccancel := context.WithTimeout(context.Background(), cfg.Duration)
	defer ccancel()
	var wg sync.WaitGroup
	dialPlain := func() (net.Conn, error) { return net.Dial("unix", plain) }
	dialRaw := func() (net.Conn, error) { return net.Dial("unix", secure) }
	ccfg := testcert.Get().ClientConfig(0)
	ccfg.ServerName = testcert.ServerName
	for i := range cfg.Streams {
		wg.Go(func() { streamClient(cctx, uint64(i), dialPlain, nil, false, &cc) })
	}
	for i := range cfg.TLS {
		wg.Go(func() { streamClient(cctx, uint64(100+i), tlsDialer(secure, ccfg), dialRaw, true, &cc) })
	}
	for i := range cfg.UDP {
		wg.Go(func() { udpClient(cctx, uint64(200+i), ut.LocalAddr().String(), &cc) })
	}
	select {
	case <-time.After(cfg.Duration / 2):
		r.Middle = snapshot()
	case <-cctx.Done():
	}
	wg.Wait()
	r.Duration = time.Since(start)

	// Every connection the clients closed must end on the server too.
	for deadline := time.Now().Add(20 * time.Second); sc.live.Load() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	r.After = snapshot()

	repMu.Lock()
	r.UDPSent, r.UDPAcked, r.UDPLost = cc.udpSent.Load(), cc.udpAcked.Load(), cc.udpLost.Load()
	r.StreamBytes, r.TLSBytes = cc.streamBytes.Load(), cc.tlsBytes.Load()
	for k := range numKinds {
		r.Sessions[kindNames[k]] = cc.sessions[k].Load()
	}
	r.ServerConns = sc.made.Load()
	r.Failures = append(r.Failures, cc.failures...)
	check := func(ok bool, format string, args ...any) {
		if !ok {
			r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
		}
	}
	check(sc.live.Load() == 0, "%d server connections still open 20 s after every client closed", sc.live.Load())
	check(sc.made.Load() == sc.lost.Load(), "ConnectionMade %d times, ConnectionLost %d", sc.made.Load(), sc.lost.Load())
	check(sc.lostTwice.Load() == 0, "ConnectionLost twice on %d connections", sc.lostTwice.Load())
	check(sc.afterLost.Load() == 0, "%d callbacks after ConnectionLost", sc.afterLost.Load())
	check(r.UDPAcked > 0 && r.StreamBytes > 0 && r.TLSBytes > 0, "no traffic of some kind: udp %d, stream %d, TLS %d", r.UDPAcked, r.StreamBytes, r.TLSBytes)
	check(r.After.Goroutines <= r.Before.Goroutines, "goroutines: %d before, %d after", r.Before.Goroutines, r.After.Goroutines)
	check(r.After.FDs == r.Before.FDs, "descriptors: %d before, %d after", r.Before.FDs, r.After.FDs)
	const slack = 16 << 20 // the loop's buffers, crypto/tls's caches, the runtime's own
	check(r.After.Heap <= r.Before.Heap+slack, "heap: %.1f MiB before, %.1f MiB after", float64(r.Before.Heap)/(1<<20), float64(r.After.Heap)/(1<<20))
	repMu.Unlock()

	if err := stop(); err != nil {
		r.Failures = append(r.Failures, "Shutdown: "+err.Error())
	}
	return r, nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
