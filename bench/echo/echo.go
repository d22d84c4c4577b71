// Package echo holds the three echo servers that the benchmarks compare: aioloop's, one on the
// standard library's net, and one on gnet. Each serves UDP and Unix-stream echo; cmd/echoserver
// runs them as a program and the in-process benchmarks of package bench start them directly.
package echo

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aioloop/aioloop/bench/wire"
)

// Config says what a server listens on.
type Config struct {
	// UDP is the UDP address to echo on, "host:port" ("127.0.0.1:0" picks a port); "" for none.
	UDP string
	// Unix is the path of the Unix stream socket to echo on; "" for none.
	Unix string
	// Loops is how many aioloop loops share the UDP port (SO_REUSEPORT); the Unix socket is served by
	// the first. Default 1. The other implementations refuse any other value.
	Loops int
	// PollSpin is aioloop's loop.Options.PollSpin; refused by the other implementations.
	PollSpin time.Duration
	// NoOffload turns aioloop's UDP segmentation offload off (udp.Options GRO and GSO at
	// OffloadOff; by default both are on where the kernel has them); refused by the others.
	NoOffload bool
	// TLSUnix is the path of a Unix stream socket to echo on with TLS (TLS, which must hold the
	// certificate); "" for none. gnet has no TLS and refuses it.
	TLSUnix string
	TLS     *tls.Config
	// BulkUDP is the UDP address of the bulk port (package wire: sink, count query, burst), served
	// on the first loop; "" for none.
	BulkUDP string
}

// Server is a running echo server.
type Server interface {
	// UDPAddr is the bound UDP address ("" without UDP).
	UDPAddr() string
	// BulkAddr is the bound bulk UDP address ("" without one).
	BulkAddr() string
	// Stats is what was echoed so far.
	Stats() Stats
	// Close stops serving, closes every socket and waits for the server's goroutines to end.
	Close() error
}

// Stats counts what a server echoed.
type Stats struct {
	Datagrams   uint64 // UDP datagrams echoed
	UDPBytes    uint64 // their payload bytes
	StreamBytes uint64 // bytes echoed on Unix stream connections
	Conns       uint64 // Unix stream connections accepted
	Sunk        uint64 // datagrams counted on the bulk port
	BurstSent   uint64 // datagrams sent (or being sent) in bursts from the bulk port
}

// ErrNoTLS: gnet has no TLS (nor do evio and netpoll); the libraries that add it fork crypto/tls.
var ErrNoTLS = errors.New("echo: gnet has no TLS")

// Impls are the implementations Start knows, in the order the demo's table shows them.
var Impls = []string{"aioloop", "std", "gnet"}

// Start starts the implementation named impl ("aioloop", "std" or "gnet") and returns when every
// socket is serving.
func Start(impl string, cfg Config) (Server, error) {
	if cfg.UDP == "" && cfg.Unix == "" && cfg.TLSUnix == "" && cfg.BulkUDP == "" {
		return nil, errors.New("echo: nothing to serve: give a UDP address, a Unix path, a TLS Unix path or a bulk UDP address")
	}
	if (cfg.TLSUnix == "") != (cfg.TLS == nil) {
		return nil, errors.New("echo: TLSUnix and TLS go together")
	}
	if impl == "gnet" && cfg.TLSUnix != "" {
		return nil, ErrNoTLS
	}
	if cfg.Loops == 0 {
		cfg.Loops = 1
	}
	if cfg.Loops < 0 {
		return nil, fmt.Errorf("echo: Loops is %d; want >= 1", cfg.Loops)
	}
	if impl != "aioloop" && (cfg.Loops != 1 || cfg.PollSpin != 0 || cfg.NoOffload) {
		return nil, fmt.Errorf("echo: Loops, PollSpin and NoOffload are aioloop's; %s serves with its own single loop", impl)
	}
	switch impl {
	case "aioloop":
		return startAioloop(cfg)
	case "std":
		return startStd(cfg)
	case "gnet":
		return startGnet(cfg)
	}
	return nil, fmt.Errorf("echo: unknown implementation %q; want one of %v", impl, Impls)
}

// counters are a server's Stats, updated with atomics by whichever goroutine echoes.
type counters struct {
	datagrams, udpBytes, streamBytes, conns, sunk, burstSent atomic.Uint64
}

func (c *counters) Stats() Stats {
	return Stats{Datagrams: c.datagrams.Load(), UDPBytes: c.udpBytes.Load(),
		StreamBytes: c.streamBytes.Load(), Conns: c.conns.Load(), Sunk: c.sunk.Load(), BurstSent: c.burstSent.Load()}
}

// answerBulk answers one datagram to the bulk port (package wire), sending with send; count is the
// answer's buffer.
func (c *counters) answerBulk(data []byte, count *[8]byte, send func([]byte)) {
	switch k, n, size := wire.Parse(data); k {
	case wire.Query:
		send(wire.Count(count, c.sunk.Load()))
	case wire.Burst:
		c.burstSent.Add(uint64(n)) // first: a reader of Stats has seen no datagram it does not count
		p := wire.Payload(size)
		for range n {
			send(p)
		}
	default:
		c.sunk.Add(1)
	}
}
