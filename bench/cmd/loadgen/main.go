// Command loadgen measures an echo server (cmd/echoserver, or any other) over UDP and Unix stream
// sockets, phase by phase, on one locked thread with batched syscalls.
//
//	loadgen -udp 127.0.0.1:9000 -unix /tmp/echo.sock [-phases udp,udp-rtt,unix,unix-bulk,unix-rtt]
//	loadgen -tls-unix /tmp/tls.sock -tls-dir DIR [-phases tls-bulk,tls-rtt]
//	loadgen -bulk-udp 127.0.0.1:9001 [-phases udp-recv,udp-burst]
//
// The QUIC-sized phases run against echoserver's bulk port (-bulk-udp): udp-recv (one way:
// -bulk-size datagrams sent as fast as the generator can, -segments to a GSO send; the rate is what
// the server counted) and udp-burst (-sockets sockets each keep 2 requests in flight for a burst
// of -burst datagrams of -bulk-size bytes; the generator reads with GRO on).
//
// Phases: udp (throughput: -sockets sockets, -window datagrams in flight each, -size bytes), udp-rtt
// (ping-pong, p50/p99/p999; loadgen polls for each reply unless -rtt-block), tls-bulk (crypto/tls
// over one connection: -bulk-window bytes in flight, written 16 KiB records at a time), tls-rtt
// (ping-pong over crypto/tls, polling; DIR's ca.pem is trusted for the name aioloop.test), unix (-conns connections with -msgs messages of -size bytes in flight
// each), unix-bulk (-bulk-window bytes in flight, written -chunk bytes at a time), unix-rtt. Each
// runs -warmup unmeasured, then -duration (ping-pong phases: -rtt-duration). Every line ends with how busy loadgen itself was: near
// 100% of a core, loadgen may be what limits the figure. With -json each phase is one JSON line.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aioloop/aioloop/bench/load"
	"github.com/aioloop/aioloop/internal/testcert"
)

func main() {
	udpAddr := flag.String("udp", "", "UDP echo server, HOST:PORT")
	unixPath := flag.String("unix", "", "Unix stream echo server path")
	bulkAddr := flag.String("bulk-udp", "", "bulk UDP port (echoserver -bulk-udp), HOST:PORT")
	bulkSize := flag.Int("bulk-size", 1200, "udp-recv, udp-burst: payload bytes per datagram")
	segments := flag.Int("segments", 32, "udp-recv: datagrams per GSO send (1: plain sends)")
	burst := flag.Int("burst", 32, "udp-burst: datagrams per burst")
	tlsPath := flag.String("tls-unix", "", "Unix stream TLS echo server path")
	tlsDir := flag.String("tls-dir", "", "with -tls-unix: the directory of ca.pem, the server's authority")
	phases := flag.String("phases", "", "comma-separated phases; default every phase the addresses allow")
	duration := flag.Duration("duration", 2*time.Second, "measured time per phase")
	rttDuration := flag.Duration("rtt-duration", 0, "measured time of the ping-pong phases (default -duration)")
	warmup := flag.Duration("warmup", 200*time.Millisecond, "unmeasured time before each phase")
	size := flag.Int("size", 64, "payload bytes per datagram or message")
	sockets := flag.Int("sockets", 4, "udp: sockets")
	window := flag.Int("window", 32, "udp: datagrams in flight per socket")
	conns := flag.Int("conns", 16, "unix, unix-bulk: connections")
	msgs := flag.Int("msgs", 16, "unix: messages in flight per connection")
	chunk := flag.Int("chunk", 4096, "unix-bulk: bytes per write")
	bulkWindow := flag.Int("bulk-window", 256<<10, "unix-bulk: bytes in flight per connection")
	block := flag.Bool("rtt-block", false, "udp-rtt, unix-rtt: sleep in read(2) for each reply instead of polling")
	serverPID := flag.Int("server-pid", 0, "the server's process id: its CPU use is reported too")
	asJSON := flag.Bool("json", false, "print each phase's result as a JSON line")
	flag.Parse()

	list := strings.Split(*phases, ",")
	if *phases == "" {
		list = nil
		if *udpAddr != "" {
			list = append(list, "udp", "udp-rtt")
		}
		if *unixPath != "" {
			list = append(list, "unix", "unix-bulk", "unix-rtt")
		}
		if *tlsPath != "" {
			list = append(list, "tls-bulk", "tls-rtt")
		}
		if *bulkAddr != "" {
			list = append(list, "udp-recv", "udp-burst")
		}
		if list == nil {
			fail(fmt.Errorf("give -udp, -unix, -tls-unix or -bulk-udp"))
		}
	}
	span := load.Span{Warmup: *warmup, Duration: *duration, ServerPID: *serverPID}
	rttSpan := span
	if *rttDuration > 0 {
		rttSpan.Duration = *rttDuration
	}
	for _, ph := range list {
		var r load.Result
		var err error
		switch ph {
		case "udp":
			r, err = load.UDP{Addr: need(*udpAddr, "-udp", ph), Sockets: *sockets, Window: *window, Size: *size, Span: span}.Run()
		case "udp-rtt":
			r, err = load.RTT{Network: "udp", Addr: need(*udpAddr, "-udp", ph), Size: *size, Block: *block, Span: rttSpan}.Run()
		case "udp-recv":
			r, err = load.UDPRecv{Addr: need(*bulkAddr, "-bulk-udp", ph), Size: *bulkSize, Segments: *segments, Span: span}.Run()
		case "udp-burst":
			r, err = load.UDPBurst{Addr: need(*bulkAddr, "-bulk-udp", ph), Sockets: *sockets, Burst: *burst, Size: *bulkSize, Span: span}.Run()
		case "unix":
			r, err = load.Stream{Path: need(*unixPath, "-unix", ph), Conns: *conns, Msg: *size, Window: *msgs * *size, Span: span}.Run()
		case "unix-bulk":
			r, err = load.Stream{Path: need(*unixPath, "-unix", ph), Conns: *conns, Msg: *size, Window: *bulkWindow, Chunk: *chunk, Span: span}.Run()
		case "unix-rtt":
			r, err = load.RTT{Network: "unix", Addr: need(*unixPath, "-unix", ph), Size: *size, Block: *block, Span: rttSpan}.Run()
		case "tls-bulk", "tls-rtt":
			var cfg *tls.Config
			if cfg, err = clientConfig(*tlsDir); err == nil {
				p := load.TLS{Path: need(*tlsPath, "-tls-unix", ph), Config: cfg, Bulk: ph == "tls-bulk", Size: *size, Window: *bulkWindow, Span: rttSpan}
				if p.Bulk {
					p.Span = span
				}
				r, err = p.Run()
			}
		default:
			err = fmt.Errorf("unknown phase %q; want udp, udp-rtt, udp-recv, udp-burst, unix, unix-bulk, unix-rtt, tls-bulk or tls-rtt", ph)
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", ph, err))
		}
		if *asJSON {
			json.NewEncoder(os.Stdout).Encode(r)
		} else {
			fmt.Println(r)
		}
	}
}

// clientConfig trusts dir's ca.pem for the server name the demo's certificates carry.
func clientConfig(dir string) (*tls.Config, error) {
	ca, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, fmt.Errorf("-tls-dir: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("-tls-dir: no certificate in %s", filepath.Join(dir, "ca.pem"))
	}
	return &tls.Config{RootCAs: pool, ServerName: testcert.ServerName}, nil
}

func need(v, flag, phase string) string {
	if v == "" {
		fail(fmt.Errorf("phase %s needs %s", phase, flag))
	}
	return v
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
