package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aioloop/aioloop/internal/leakcheck"
	"github.com/aioloop/aioloop/internal/testfd"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestFuzzTableSums(t *testing.T) {
	rows := [][]string{
		{"2026-11-30T08:00:00Z", "github.com/aioloop/aioloop/udp", "FuzzOptions", "60", "1000", "ok", "-", "abc"},
		{"2026-11-30T09:00:00Z", "github.com/aioloop/aioloop/udp", "FuzzOptions", "30", "500", "FAIL", "testdata/fuzz/FuzzOptions/123", "abd"},
		{"2026-11-30T09:00:00Z", "github.com/aioloop/aioloop/internal/sock", "FuzzParseRecvInfo", "3510", "98500", "ok", "-", "abd"},
	}
	got := fuzzTable(rows, [][]string{{"testdata/fuzz/FuzzOptions/123", "a test bug"}})
	for _, want := range []string{
		"In all: 1.0 hours, 100000 executions, over 3 runs",
		"| udp | FuzzOptions | 2 | 1m30s | 1500 | 1 | 2026-11-30T09:00:00Z |",
		"| internal/sock | FuzzParseRecvInfo | 1 | 58m30s | 98500 | 0 |",
		"- FuzzOptions: `testdata/fuzz/FuzzOptions/123`: a test bug",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the table lacks %q:\n%s", want, got)
		}
	}
}

func TestProgressLineParses(t *testing.T) {
	m := progress.FindAllStringSubmatch("fuzz: elapsed: 3s, execs: 10 (3/sec), new interesting: 0 (total: 5)\n"+
		"fuzz: elapsed: 9m57s, execs: 489 (60/sec), new interesting: 5 (total: 10)\n", -1)
	if len(m) != 2 || m[1][1] != "9m57s" || m[1][2] != "489" {
		t.Fatalf("matches %q", m)
	}
	if f := failing.FindStringSubmatch("    Failing input written to testdata/fuzz/FuzzX/0123abcd\n"); f == nil || f[1] != "testdata/fuzz/FuzzX/0123abcd" {
		t.Fatalf("failing input %q", f)
	}
}

func TestSoakSection(t *testing.T) {
	if got := soakSection(nil); !strings.Contains(got, "No soak recorded yet") {
		t.Fatalf("no rows: %s", got)
	}
	row := []string{"2026-11-30T09:00:00Z", "abc1234", "600", "9000", "8990", "10", "123456", "7890", "4200",
		"echo 1, half-close 2, vanish 3, silent 4, never-reads 5, tls-garbage 6", "3/15/3", "14/36/14", "4.9/7.2/5.1", "ok"}
	got := soakSection([][]string{row})
	for _, want := range []string{"The last soak (2026-11-30T09:00:00Z, commit abc1234): 600 s", "8990 echoed and checked, 10 lost",
		"Goroutines 3/15/3", "| 2026-11-30T09:00:00Z | abc1234 | 600 | 8990 | 123456 | 7890 | 4200 | 3/15/3 | 14/36/14 | 4.9/7.2/5.1 | ok |"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
}

func TestFaultLinesAreCollected(t *testing.T) {
	if v, ok := testfd.Wine(); ok {
		t.Skipf("under Wine %s, t.TempDir's cleanup fails to unlink the file it wrote (Invalid function)", v)
	}
	dir := t.TempDir()
	src := "package x\n\n// Doc.\n//\n// Fault: a peer resets → ConnectionLost(err)\nfunc TestA(t *testing.T) {}\n\n" +
		"// Fault: not followed by a test → nothing\nvar x = 1\n\nfunc TestB(t *testing.T) {}\n"
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkg", "a_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := faults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].class != "a peer resets" || fs[0].outcome != "ConnectionLost(err)" || fs[0].test != "TestA" {
		t.Fatalf("faults %+v", fs)
	}
	if tab := faultTable(fs); !strings.Contains(tab, "| a peer resets | ConnectionLost(err) | `TestA` |") {
		t.Fatalf("table %s", tab)
	}
}
