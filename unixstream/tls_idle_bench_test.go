//go:build linux

package unixstream_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/testcert"
	"github.com/aioloop/aioloop/unixstream"
)

// idleConns is how many idle TLS connections BenchmarkTLSIdleMemory holds open.
var idleConns = envInt("AIOLOOP_IDLE_N", 10_000)

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return n
	}
	return def
}

// TestIdleTLSClientsHelper is not a test: BenchmarkTLSIdleMemory runs this binary again with
// AIOLOOP_IDLE_CLIENTS=path,n as a separate client process, so that the clients' memory is not the
// server's. It makes n TLS connections (crypto/tls), says "ready", and holds them until its input
// closes.
func TestIdleTLSClientsHelper(t *testing.T) {
	spec := os.Getenv("AIOLOOP_IDLE_CLIENTS")
	if spec == "" {
		t.Skip("a helper process of BenchmarkTLSIdleMemory, not a test")
	}
	parts := strings.SplitN(spec, ",", 3) // n, the directory with the server's ca.pem, the path
	n, err := strconv.Atoi(parts[0])
	if err != nil || len(parts) != 3 {
		t.Fatalf("AIOLOOP_IDLE_CLIENTS=%q", spec)
	}
	ca, err := os.ReadFile(filepath.Join(parts[1], "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	path := parts[2]
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cc := &tls.Config{RootCAs: pool, ServerName: testcert.ServerName, MinVersion: tls.VersionTLS13}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				nc, err := net.Dial("unix", path)
				if err != nil {
					t.Error(err)
					return
				}
				c := tls.Client(nc, cc)
				if err := c.Handshake(); err != nil {
					t.Error(err)
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// BenchmarkTLSIdleMemory: the server's memory for 10,000 idle TLS 1.3 connections (handshake done,
// nothing sent), heap and goroutine stacks per connection, aioloop against crypto/tls over
// net.UnixListener with a goroutine per connection blocked in Read with a 4 KiB buffer. The
// clients are another process. One op makes all the connections.
func BenchmarkTLSIdleMemory(b *testing.B) {
	measure := func(b *testing.B, serve func(path string, accepted *atomic.Int64) (stop func())) {
		for range b.N {
			path := sockPath(b, "idle.sock")
			var accepted atomic.Int64
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			g0 := runtime.NumGoroutine()
			stop := serve(path, &accepted)
			cmd := exec.Command(os.Args[0], "-test.run=^TestIdleTLSClientsHelper$", "-test.count=1")
			dir := b.TempDir()
			if err := testcert.Get().WriteFiles(dir); err != nil {
				b.Fatal(err)
			}
			cmd.Env = append(os.Environ(), "AIOLOOP_IDLE_CLIENTS="+strconv.Itoa(idleConns)+","+dir+","+path)
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			for sc.Scan() && sc.Text() != "ready" {
			}
			for deadline := time.Now().Add(guard); accepted.Load() < int64(idleConns) && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if accepted.Load() < int64(idleConns) {
				b.Fatalf("%d of %d connections", accepted.Load(), idleConns)
			}
			time.Sleep(100 * time.Millisecond) // the handshake goroutines end
			runtime.GC()
			runtime.ReadMemStats(&after)
			g1 := runtime.NumGoroutine()
			b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(idleConns), "heap-B/conn")
			b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/float64(idleConns), "stack-B/conn")
			b.ReportMetric(float64(g1-g0)/float64(idleConns), "goroutines/conn")
			in.Close()
			go io.Copy(io.Discard, out)
			cmd.Wait()
			stop()
		}
	}
	b.Run("aioloop", func(b *testing.B) {
		measure(b, func(path string, accepted *atomic.Int64) func() {
			return serveLoopTLS(b, path, func() unixstream.BaseProtocol { accepted.Add(1); return &leanEcho{} })
		})
	})
	b.Run("std", func(b *testing.B) {
		measure(b, func(path string, accepted *atomic.Int64) func() {
			return serveStdTLS(b, path, func(c net.Conn) {
				accepted.Add(1)
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(buf[:n])
				}
			})
		})
	})
}
