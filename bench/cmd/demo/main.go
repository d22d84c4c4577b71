// Command demo runs the side-by-side benchmark: every echo server implementation in turn, pinned
// to one core with the load generator on another, interleaved over repeated rounds so that drift
// of a shared machine hits all alike, and prints one table of medians with each figure's ratio to
// the standard library's.
//
//	demo [-rounds N] [-duration D] [-long] [-markdown FILE]
//	demo -profile DIR
//
// It runs the echoserver and loadgen binaries found next to its own (make demo builds all three).
// Each round starts, for each implementation, one server for UDP (phases udp, udp-rtt), one for
// the Unix socket (unix, unix-bulk, unix-rtt) and one for TLS over a Unix socket (tls-bulk,
// tls-rtt; not gnet, which has no TLS), so that the allocations per datagram are those of UDP echo
// alone.
//
// With -profile, it runs aioloop's server once under the same load with CPU and allocation
// profiles, writes them to DIR and prints the top of each (go tool pprof -top).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/testcert"
)

type config struct {
	rounds      int
	duration    time.Duration // throughput phases
	rtt         time.Duration // ping-pong phases
	warmup      time.Duration
	idle        time.Duration // how long the idle UDP server's CPU use is measured
	impls       []impl
	bin         string
	serverCPU   string
	loadCPU     string
	markdown    string
	tmp         string
	commandLine string
}

// impl is one row of the table: a server program (echoserver unless bin says otherwise) and its
// flags. A udpOnly server runs the UDP echo phases alone.
type impl struct {
	name    string
	args    []string
	bin     string
	udpOnly bool
}

// cRef is the C reference row: bench/cref/udpecho.c, built by make bench-build where a C
// compiler exists.
const cRef = "c-epoll"

var allImpls = []impl{
	{name: "aioloop", args: []string{"-impl", "aioloop"}},
	{name: "aioloop-spin", args: []string{"-impl", "aioloop", "-spin", "10us"}},
	{name: "aioloop-nooffload", args: []string{"-impl", "aioloop", "-offload=false"}},
	{name: "std", args: []string{"-impl", "std"}},
	{name: "gnet", args: []string{"-impl", "gnet"}},
	{name: cRef, bin: "udpecho", udpOnly: true},
}

func (im impl) program() string {
	if im.bin != "" {
		return im.bin
	}
	return "echoserver"
}

func main() {
	var c config
	long := flag.Bool("long", false, "a longer, steadier run: 7 rounds of 3 s phases (about 17 minutes)")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds; each runs every implementation once")
	flag.DurationVar(&c.duration, "duration", time.Second, "measured time of each throughput phase")
	flag.DurationVar(&c.rtt, "rtt", 500*time.Millisecond, "measured time of each ping-pong phase")
	flag.DurationVar(&c.idle, "idle", 300*time.Millisecond, "how long to measure each UDP server's CPU use before any load (0: not)")
	flag.DurationVar(&c.warmup, "warmup", 150*time.Millisecond, "unmeasured time before each phase")
	names := flag.String("impls", "", "implementations, in table order (default aioloop,aioloop-spin,aioloop-nooffload,std,gnet,"+cRef+"; "+cRef+" only where built)")
	flag.StringVar(&c.bin, "bin", "", "directory of echoserver and loadgen (default: this program's)")
	cpus := flag.String("cpus", "", "server core,load generator core (default: the second and first this process may use; pinned when taskset exists)")
	flag.StringVar(&c.markdown, "markdown", "", "also write BENCHMARKS.md-style results to this file")
	profile := flag.String("profile", "", "instead of the table: profile aioloop's server under load into this directory")
	flag.Parse()
	if *long {
		c.rounds, c.duration, c.rtt = 7, 3*time.Second, 2*time.Second
	}
	c.commandLine = strings.Join(append([]string{"demo"}, os.Args[1:]...), " ")
	if err := c.setup(*names, *cpus); err != nil {
		fail(err)
	}
	defer os.RemoveAll(c.tmp)
	if *profile != "" {
		if err := c.profile(*profile); err != nil {
			fail(err)
		}
		return
	}
	res, err := c.run()
	if err != nil {
		fail(err)
	}
	tab := c.table(res)
	fmt.Println()
	fmt.Print(tab.text())
	if c.markdown != "" {
		if err := os.WriteFile(c.markdown, []byte(c.document(tab)), 0o644); err != nil {
			fail(err)
		}
		fmt.Fprintln(os.Stderr, "demo: wrote", c.markdown)
	}
}

func (c *config) setup(names, cpus string) error {
	if c.rounds < 1 || c.duration <= 0 || c.rtt <= 0 || c.warmup < 0 {
		return fmt.Errorf("-rounds, -duration and -rtt must be positive")
	}
	if c.bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		c.bin = filepath.Dir(exe)
	}
	if names == "" {
		names = "aioloop,aioloop-spin,aioloop-nooffload,std,gnet," + cRef
		if _, err := os.Stat(filepath.Join(c.bin, "udpecho")); err != nil {
			names = strings.TrimSuffix(names, ","+cRef)
			fmt.Fprintf(os.Stderr, "demo: no udpecho in %s (make bench-build builds it where a C compiler exists): no %s row\n", c.bin, cRef)
		}
	}
	for _, n := range strings.Split(names, ",") {
		found := false
		for _, im := range allImpls {
			if im.name == n {
				c.impls, found = append(c.impls, im), true
			}
		}
		if !found {
			return fmt.Errorf("-impls: unknown implementation %q", n)
		}
	}
	if c.impls[0].name != "std" && !hasStd(c.impls) {
		return fmt.Errorf("-impls must include std: every ratio is to it")
	}
	bins := []string{"loadgen"}
	for _, im := range c.impls {
		bins = append(bins, im.program())
	}
	for _, b := range bins {
		if _, err := os.Stat(filepath.Join(c.bin, b)); err != nil {
			return fmt.Errorf("%s not found in %s (make demo builds it): %w", b, c.bin, err)
		}
	}
	if cpus == "" {
		cpus = defaultCPUs()
	}
	switch parts := strings.Split(cpus, ","); {
	case cpus == "" || !haveTaskset():
		fmt.Fprintln(os.Stderr, "demo: one core or no taskset: server and load generator are not pinned")
	case len(parts) != 2 || parts[0] == parts[1]:
		return fmt.Errorf("-cpus %q: want two different cores, SERVER,LOADGEN", cpus)
	default:
		c.serverCPU, c.loadCPU = parts[0], parts[1]
	}
	var err error
	if c.tmp, err = os.MkdirTemp("", "aioloop-demo-"); err != nil {
		return err
	}
	return testcert.Get().WriteFiles(c.tmp) // the TLS phases' certificates
}

// defaultCPUs is "second,first" of the cores this process may run on, or "" with fewer than two.
func defaultCPUs() string {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return ""
	}
	var ids []int
	for i := 0; i < len(set)*64 && len(ids) < 2; i++ {
		if set.IsSet(i) {
			ids = append(ids, i)
		}
	}
	if len(ids) < 2 {
		return ""
	}
	return fmt.Sprintf("%d,%d", ids[1], ids[0])
}

func hasStd(ims []impl) bool {
	for _, im := range ims {
		if im.name == "std" {
			return true
		}
	}
	return false
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demo:", err)
	os.Exit(1)
}
