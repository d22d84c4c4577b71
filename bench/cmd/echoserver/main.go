// Command echoserver is aioloop's public benchmark target: a UDP and Unix-stream echo server with
// one of three implementations, so that any load generator can compare them.
//
//	echoserver [-impl aioloop|std|gnet] [-udp HOST:PORT] [-unix PATH] [-tls-unix PATH -tls-dir DIR] [-bulk-udp HOST:PORT] [-loops N] [-spin D] [-offload=false]
//
// -bulk-udp serves the QUIC-sized phases' port (package wire): it counts what it receives,
// answers a count query, and answers a burst request with a burst of datagrams.
//
// -tls-unix serves TLS echo on a second Unix socket, with DIR's server.pem and server.key (gnet
// has no TLS: it refuses).
//
// It prints "ready" on standard output once every socket is serving. On SIGINT or SIGTERM it
// stops, prints what it echoed (datagrams, bytes, Unix stream bytes), its heap allocations counted
// from "ready" on and their number per echoed datagram, and its CPU time, and exits 0. With -json the final report is one JSON object.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/bench/echo"
)

// Report is what echoserver prints when it stops.
type Report struct {
	Impl        string  `json:"impl"`
	Datagrams   uint64  `json:"datagrams"`
	UDPBytes    uint64  `json:"udp_bytes"`
	StreamBytes uint64  `json:"stream_bytes"`
	Conns       uint64  `json:"conns"`
	Sunk        uint64  `json:"sunk"`       // datagrams counted on the bulk port
	BurstSent   uint64  `json:"burst_sent"` // datagrams sent in bursts from the bulk port
	Mallocs     uint64  `json:"mallocs"`    // heap allocations since ready
	AllocsPerDg float64 `json:"allocs_per_datagram"`
	Seconds     float64 `json:"seconds"`     // wall time since ready
	CPUSeconds  float64 `json:"cpu_seconds"` // user+system CPU time since ready
}

func main() {
	impl := flag.String("impl", "aioloop", "implementation: aioloop, std or gnet")
	udpAddr := flag.String("udp", "", "UDP address to echo on, HOST:PORT")
	unixPath := flag.String("unix", "", "Unix stream socket path to echo on")
	tlsPath := flag.String("tls-unix", "", "Unix stream socket path to echo on with TLS")
	tlsDir := flag.String("tls-dir", "", "with -tls-unix: the directory of server.pem and server.key")
	bulkAddr := flag.String("bulk-udp", "", "UDP address of the bulk port (sink, count query, bursts), HOST:PORT")
	loops := flag.Int("loops", 1, "aioloop: loops sharing the UDP port (SO_REUSEPORT)")
	spin := flag.Duration("spin", 0, "aioloop: loop.Options.PollSpin, e.g. 10us")
	offload := flag.Bool("offload", true, "aioloop: UDP GRO and GSO where the kernel has them (false: udp.OffloadOff)")
	asJSON := flag.Bool("json", false, "print the final report as JSON")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile, from ready to exit, to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile at exit to this file")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)

	cfg := echo.Config{UDP: *udpAddr, Unix: *unixPath, Loops: *loops, PollSpin: *spin, NoOffload: !*offload, TLSUnix: *tlsPath, BulkUDP: *bulkAddr}
	if *tlsPath != "" {
		cert, err := tls.LoadX509KeyPair(filepath.Join(*tlsDir, "server.pem"), filepath.Join(*tlsDir, "server.key"))
		if err != nil {
			fail(fmt.Errorf("-tls-dir: %w", err))
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	srv, err := echo.Start(*impl, cfg)
	if err != nil {
		fail(err)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			srv.Close()
			fail(err)
		}
		defer f.Close()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, t0 := cpuTime(), time.Now()
	if a := srv.UDPAddr(); a != "" {
		fmt.Fprintln(os.Stderr, "echoserver:", *impl, "udp", a)
	}
	if a := srv.BulkAddr(); a != "" {
		fmt.Fprintln(os.Stderr, "echoserver:", *impl, "bulk udp", a)
	}
	fmt.Println("ready")

	<-stop
	runtime.ReadMemStats(&ms1)
	rep := Report{Impl: *impl, Mallocs: ms1.Mallocs - ms0.Mallocs, Seconds: time.Since(t0).Seconds(),
		CPUSeconds: (cpuTime() - cpu0).Seconds()}
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	st := srv.Stats()
	err = srv.Close()
	rep.Datagrams, rep.UDPBytes, rep.StreamBytes, rep.Conns = st.Datagrams, st.UDPBytes, st.StreamBytes, st.Conns
	rep.Sunk, rep.BurstSent = st.Sunk, st.BurstSent
	if st.Datagrams > 0 {
		rep.AllocsPerDg = float64(rep.Mallocs) / float64(st.Datagrams)
	}
	if *memProfile != "" {
		if werr := writeHeap(*memProfile); werr != nil && err == nil {
			err = werr
		}
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(rep)
	} else {
		fmt.Printf("%s echoed %d datagrams (%d bytes) and %d Unix stream bytes on %d connections\n",
			rep.Impl, rep.Datagrams, rep.UDPBytes, rep.StreamBytes, rep.Conns)
		if *bulkAddr != "" {
			fmt.Printf("bulk port: %d datagrams sunk, %d sent in bursts\n", rep.Sunk, rep.BurstSent)
		}
		fmt.Printf("%d allocations since ready (%.3f per datagram); CPU %.2f s in %.2f s\n",
			rep.Mallocs, rep.AllocsPerDg, rep.CPUSeconds, rep.Seconds)
	}
	if err != nil {
		fail(err)
	}
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "echoserver:", err)
	os.Exit(1)
}
