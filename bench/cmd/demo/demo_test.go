//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The public tools end to end: build echoserver, loadgen and demo, run a short demo of every
// implementation, and check its table and BENCHMARKS.md.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs and runs a short demo")
	}
	dir := buildTools(t)
	md := filepath.Join(dir, "BENCHMARKS.md")
	demo := exec.Command(filepath.Join(dir, "demo"), "-rounds", "1", "-duration", "150ms", "-rtt", "100ms",
		"-warmup", "20ms", "-markdown", md)
	var stderr strings.Builder
	demo.Stderr = &stderr
	out, err := demo.Output()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	table := string(out)
	for _, im := range allImpls {
		if im.name == cRef && !haveC {
			continue
		}
		if !strings.Contains(table, "\n"+im.name+" ") {
			t.Errorf("no row for %s in\n%s", im.name, table)
		}
		if !strings.Contains(stderr.String(), "round 1 "+im.name) {
			t.Errorf("no progress line for %s in\n%s", im.name, stderr.String())
		}
	}
	std := table[strings.Index(table, "\nstd "):]
	if std = std[:strings.Index(std[1:], "\n")+1]; strings.Count(std, "(1.00x)") != 14 {
		t.Errorf("std's ratios to itself are not 1.00: %q", std)
	}
	if haveC {
		c := table[strings.Index(table, "\n"+cRef+" "):]
		if c = c[:strings.Index(c[1:], "\n")+1]; strings.Count(c, "—") != 11 || !strings.Contains(c, "x)") {
			t.Errorf("the C reference row should show UDP echo alone: %q", c)
		}
	}
	gnet := table[strings.Index(table, "\ngnet "):]
	if gnet = gnet[:strings.Index(gnet[1:], "\n")+1]; strings.Count(gnet, "—") != 3 {
		t.Errorf("gnet's TLS figures do not say it has none: %q", gnet)
	}
	doc, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Benchmarks", "## Method", "## Machine", "| aioloop |", "| gnet |", "make benchmarks"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("BENCHMARKS.md lacks %q", want)
		}
	}
}

// haveC: a C compiler built the C reference server (buildTools), whose row the demo then shows.
var haveC bool

// buildTools builds echoserver, loadgen and demo into a temporary directory, and the C reference
// server where a C compiler exists (as make bench-build does).
func buildTools(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/aioloop/aioloop/bench/cmd/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if cc, err := exec.LookPath("cc"); err == nil {
		out, err := exec.Command(cc, "-O2", "-Wall", "-o", filepath.Join(dir, "udpecho"), "../../cref/udpecho.c").CombinedOutput()
		if err != nil {
			t.Fatalf("cc udpecho.c: %v\n%s", err, out)
		}
		haveC = true
	} else {
		t.Log("no C compiler: the demo runs without the C reference row")
	}
	return dir
}

// make profile: the profiles are written and pprof's top of each is printed.
func TestProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three programs and profiles a short load")
	}
	dir := buildTools(t)
	profiles := filepath.Join(dir, "profiles")
	cmd := exec.Command(filepath.Join(dir, "demo"), "-profile", profiles, "-duration", "200ms", "-warmup", "20ms")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo -profile: %v\n%s", err, out)
	}
	for _, f := range []string{"udp-cpu.pprof", "udp-alloc.pprof", "unix-cpu.pprof", "unix-alloc.pprof"} {
		if st, err := os.Stat(filepath.Join(profiles, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if n := strings.Count(string(out), "flat  flat%"); n != 4 {
		t.Errorf("%d pprof tops in\n%s", n, out)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
