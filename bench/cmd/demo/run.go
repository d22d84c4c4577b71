package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aioloop/aioloop/bench/load"
)

// phase is one loadgen result line (load.Result's JSON).
type phase struct {
	Phase    string  `json:"phase"`
	Messages int64   `json:"messages"`
	Bytes    int64   `json:"bytes"`
	Lost     int64   `json:"lost"`
	Elapsed  int64   `json:"elapsed_ns"`
	Busy     float64 `json:"busy"`
	Server   float64 `json:"server_busy"`
	P50      int64   `json:"p50_ns"`
	P99      int64   `json:"p99_ns"`
	P999     int64   `json:"p999_ns"`
}

func (p phase) perSecond() float64 { return float64(p.Messages) / (float64(p.Elapsed) / 1e9) }
func (p phase) mbPerSecond() float64 {
	return float64(p.Bytes) / 1e6 / (float64(p.Elapsed) / 1e9)
}

// report is echoserver's final JSON line.
type report struct {
	Impl       string  `json:"impl"`
	Datagrams  uint64  `json:"datagrams"`
	Mallocs    uint64  `json:"mallocs"`
	AllocsPerD float64 `json:"allocs_per_datagram"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// sample is one implementation's figures in one round.
type sample struct {
	phases    map[string]phase
	udpServer report
	idle      float64 // the UDP server's CPU use, in cores, while nobody sent it anything
}

func (c *config) run() (map[string][]sample, error) {
	res := make(map[string][]sample)
	total := c.rounds * len(c.impls)
	start := time.Now()
	for r := range c.rounds {
		for i := range c.impls {
			im := c.impls[(i+r)%len(c.impls)] // each round starts with the next implementation
			n := r*len(c.impls) + i + 1
			fmt.Fprintf(os.Stderr, "[%2d/%d %5.1fs] round %d %-13s", n, total, time.Since(start).Seconds(), r+1, im.name)
			s, err := c.one(im)
			if err != nil {
				fmt.Fprintln(os.Stderr)
				return nil, fmt.Errorf("%s: %w", im.name, err)
			}
			p := s.phases
			fmt.Fprintf(os.Stderr, " udp %4.0fk/s %s p99 %5.1fµs", p["udp"].perSecond()/1e3, busy(p["udp"]), float64(p["udp-rtt"].P99)/1e3)
			if _, ok := p["udp-recv"]; ok {
				fmt.Fprintf(os.Stderr, " | 1200B recv %4.0fk/s %s burst %4.0fk/s %s",
					p["udp-recv"].perSecond()/1e3, busy(p["udp-recv"]), p["udp-burst"].perSecond()/1e3, busy(p["udp-burst"]))
			}
			if _, ok := p["unix"]; ok {
				fmt.Fprintf(os.Stderr, " | unix %4.0f MB/s %s bulk %4.0f MB/s %s p99 %5.1fµs",
					p["unix"].mbPerSecond(), busy(p["unix"]), p["unix-bulk"].mbPerSecond(), busy(p["unix-bulk"]),
					float64(p["unix-rtt"].P99)/1e3)
			}
			if tb, ok := p["tls-bulk"]; ok {
				fmt.Fprintf(os.Stderr, " | tls %4.0f MB/s %s p99 %5.1fµs", tb.mbPerSecond(), busy(tb), float64(p["tls-rtt"].P99)/1e3)
			}
			fmt.Fprintln(os.Stderr)
			res[im.name] = append(res[im.name], s)
		}
	}
	return res, nil
}

// busy shows how much of a core the server and the generator used: "(srv 95% gen 80%)".
func busy(p phase) string {
	return fmt.Sprintf("(srv %3.0f%% gen %3.0f%%)", 100*p.Server, 100*p.Busy)
}

// one runs one implementation: a UDP echo server and its phases, a bulk UDP server and the
// QUIC-sized phases, a Unix server and its phases, then a TLS server and its phases; a udpOnly
// implementation the first alone.
func (c *config) one(im impl) (sample, error) {
	s := sample{phases: make(map[string]phase)}
	port, err := freePort()
	if err != nil {
		return s, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	rep, err := c.serve(im, []string{"-udp", addr}, []string{"-udp", addr, "-phases", "udp,udp-rtt"}, s.phases, &s.idle)
	if err != nil {
		return s, err
	}
	s.udpServer = rep
	if im.udpOnly {
		return s, nil // the table shows its other figures as "—"
	}
	if port, err = freePort(); err != nil {
		return s, err
	}
	bulk := fmt.Sprintf("127.0.0.1:%d", port)
	if _, err = c.serve(im, []string{"-bulk-udp", bulk}, []string{"-bulk-udp", bulk, "-phases", "udp-recv,udp-burst"}, s.phases, nil); err != nil {
		return s, err
	}
	path := filepath.Join(c.tmp, "echo.sock")
	if _, err = c.serve(im, []string{"-unix", path}, []string{"-unix", path, "-phases", "unix,unix-bulk,unix-rtt"}, s.phases, nil); err != nil {
		return s, err
	}
	if im.name == "gnet" {
		return s, nil // no TLS: the table says so
	}
	tlsPath := filepath.Join(c.tmp, "tls.sock")
	_, err = c.serve(im, []string{"-tls-unix", tlsPath, "-tls-dir", c.tmp},
		[]string{"-tls-unix", tlsPath, "-tls-dir", c.tmp, "-phases", "tls-bulk,tls-rtt"}, s.phases, nil)
	return s, err
}

// serve starts echoserver with serverArgs, runs loadgen with loadArgs against it, stops the
// server and returns its report; loadgen's results go into phases. With idle, it first measures
// the server's CPU use for c.idle before any load.
func (c *config) serve(im impl, serverArgs, loadArgs []string, phases map[string]phase, idle *float64) (report, error) {
	var rep report
	args := append(append(append([]string{}, im.args...), serverArgs...), "-json")
	srv := c.command(c.serverCPU, im.program(), args...)
	var serr bytes.Buffer
	srv.Stderr = &serr
	out, err := srv.StdoutPipe()
	if err != nil {
		return rep, err
	}
	if err := srv.Start(); err != nil {
		return rep, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.Process.Kill()
			srv.Wait()
		}
	}()
	if err := awaitReady(out, 10*time.Second); err != nil {
		srv.Process.Kill()
		srv.Wait()
		stopped = true
		return rep, fmt.Errorf("echoserver: %w: %s", err, strings.TrimSpace(serr.String()))
	}
	if idle != nil && c.idle > 0 {
		cpu0 := load.ProcessCPU(srv.Process.Pid)
		time.Sleep(c.idle)
		*idle = float64(load.ProcessCPU(srv.Process.Pid)-cpu0) / float64(c.idle)
	}
	args = append([]string{"-json", "-duration", c.duration.String(), "-rtt-duration", c.rtt.String(),
		"-warmup", c.warmup.String(), "-server-pid", fmt.Sprint(srv.Process.Pid)}, loadArgs...)
	lg := c.command(c.loadCPU, "loadgen", args...)
	var lerr bytes.Buffer
	lg.Stderr = &lerr
	lout, err := lg.Output()
	if err != nil {
		return rep, fmt.Errorf("loadgen: %v: %s", err, strings.TrimSpace(lerr.String()))
	}
	if err := parsePhases(lout, loadArgs[len(loadArgs)-1], phases); err != nil {
		return rep, err
	}
	srv.Process.Signal(syscall.SIGINT)
	rest, _ := io.ReadAll(out) // the report after "ready"
	werr := srv.Wait()
	stopped = true
	if werr != nil {
		return rep, fmt.Errorf("echoserver: %v: %s", werr, strings.TrimSpace(serr.String()))
	}
	if err := json.Unmarshal(bytes.TrimSpace(rest), &rep); err != nil {
		return rep, fmt.Errorf("echoserver's report %q: %w", rest, err)
	}
	return rep, nil
}

// awaitReady reads the server's output up to its line "ready".
func awaitReady(out io.Reader, timeout time.Duration) error {
	ready := make(chan error, 1)
	go func() {
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				ready <- fmt.Errorf("exited before it printed ready")
				return
			}
			if strings.TrimSpace(line) == "ready" {
				ready <- nil
				return
			}
		}
	}()
	select {
	case err := <-ready:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("not ready after %v", timeout)
	}
}

// parsePhases reads loadgen's JSON lines, one per phase of the comma-separated list want.
func parsePhases(out []byte, want string, phases map[string]phase) error {
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var p phase
		if err := json.Unmarshal(line, &p); err != nil {
			return fmt.Errorf("loadgen printed %q: %w", line, err)
		}
		phases[p.Phase] = p
	}
	for _, w := range strings.Split(want, ",") {
		if _, ok := phases[w]; !ok {
			return errors.New("loadgen did not report " + w)
		}
	}
	return nil
}

// command runs a binary of c.bin, pinned to cpu with taskset when cpu is set.
func (c *config) command(cpu, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(c.bin, name)
	if cpu == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpu, bin}, args...)...)
}

func haveTaskset() bool {
	_, err := exec.LookPath("taskset")
	return err == nil
}

// freePort finds a UDP port nobody uses now on 127.0.0.1.
func freePort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
