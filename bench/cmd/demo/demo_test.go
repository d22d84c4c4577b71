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
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/aioloop/aioloop/bench/cmd/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
		if !strings.Contains(table, "\n"+im.name+" ") {
			t.Errorf("no row for %s in\n%s", im.name, table)
		}
		if !strings.Contains(stderr.String(), "round 1 "+im.name) {
			t.Errorf("no progress line for %s in\n%s", im.name, stderr.String())
		}
	}
	std := table[strings.Index(table, "\nstd "):]
	if std = std[:strings.Index(std[1:], "\n")+1]; strings.Count(std, "(1.00x)") != 7 {
		t.Errorf("std's ratios to itself are not 1.00: %q", std)
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
