// Command reliability runs aioloop's fuzz targets for a chosen time, records what they did, and
// writes RELIABILITY.md from the records, so that the document is generated, never typed.
//
//	go run ./internal/cmd/reliability fuzz [-time 1m] [-run REGEXP]   # make fuzz
//	go run ./internal/cmd/reliability soak [-time 10m]                 # make soak
//	go run ./internal/cmd/reliability doc                              # make reliability
//
// fuzz runs every fuzz target of the module (go test -list '^Fuzz' ./...) one after another, each
// for -time, and appends one line per target to reliability/fuzz.tsv: when, the package, the
// target, seconds, executions, ok or FAIL, and the failing input Go wrote to the package's
// testdata/fuzz (commit it: it is a regression test from then on). soak runs internal/soak for
// -time, prints its report and appends it to reliability/soak.tsv. doc reads the records and
// writes RELIABILITY.md (fuzz and soak write it too).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const (
	fuzzLog     = "reliability/fuzz.tsv"
	soakLog     = "reliability/soak.tsv"
	findingsLog = "reliability/findings.tsv" // what each failing input found, as the fixer wrote it
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: reliability fuzz [-time D] [-run REGEXP] | reliability soak [-time D] | reliability doc"))
	}
	var err error
	switch os.Args[1] {
	case "fuzz":
		fs := flag.NewFlagSet("fuzz", flag.ExitOnError)
		d := fs.Duration("time", time.Minute, "how long each target runs")
		run := fs.String("run", ".", "only the targets whose name matches")
		fs.Parse(os.Args[2:])
		err = fuzzAll(*d, *run)
	case "soak":
		fs := flag.NewFlagSet("soak", flag.ExitOnError)
		d := fs.Duration("time", 10*time.Minute, "how long the clients run")
		fs.Parse(os.Args[2:])
		err = soakOnce(*d)
	case "doc":
		err = writeDoc("RELIABILITY.md")
	default:
		err = fmt.Errorf("unknown command %q; want fuzz, soak or doc", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

type target struct{ pkg, name string }

// targets lists the module's fuzz targets, package by package.
func targets(match *regexp.Regexp) ([]target, error) {
	out, err := exec.Command("go", "test", "-list", "^Fuzz", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go test -list: %w", err)
	}
	var ts, pending []target
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && strings.HasPrefix(f[0], "Fuzz"):
			pending = append(pending, target{name: f[0]})
		case len(f) >= 2 && f[0] == "ok":
			for _, t := range pending {
				if match.MatchString(t.name) {
					ts = append(ts, target{pkg: f[1], name: t.name})
				}
			}
			pending = nil
		}
	}
	return ts, nil
}

var (
	progress = regexp.MustCompile(`fuzz: elapsed: (\S+), execs: (\d+) `) // elapsed is a Go duration: 1m3s
	failing  = regexp.MustCompile(`Failing input written to (\S+)`)
)

func fuzzAll(d time.Duration, run string) error {
	match, err := regexp.Compile(run)
	if err != nil {
		return fmt.Errorf("-run: %w", err)
	}
	ts, err := targets(match)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return fmt.Errorf("no fuzz target matches %q", run)
	}
	if err := os.MkdirAll(filepath.Dir(fuzzLog), 0o755); err != nil {
		return err
	}
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	var failed []string
	for _, t := range ts {
		fmt.Fprintf(os.Stderr, "fuzz: %s %s for %v\n", t.pkg, t.name, d)
		cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", d.String(), t.pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		runErr := cmd.Run()
		secs, execs := int(time.Since(start).Seconds()), "0"
		for _, m := range progress.FindAllStringSubmatch(out.String(), -1) {
			if el, err := time.ParseDuration(m[1]); err == nil {
				secs = int(el.Seconds())
			}
			execs = m[2]
		}
		result, input := "ok", "-"
		if runErr != nil {
			result = "FAIL"
			if m := failing.FindStringSubmatch(out.String()); m != nil {
				input = m[1]
			}
			failed = append(failed, t.name)
			os.Stderr.Write(out.Bytes())
		}
		line := strings.Join([]string{time.Now().UTC().Format(time.RFC3339), t.pkg, t.name, fmt.Sprint(secs), execs,
			result, input, strings.TrimSpace(string(commit))}, "\t")
		if err := appendLine(fuzzLog, line); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "fuzz: %s: %s s, %s executions, %s\n", t.name, fmt.Sprint(secs), execs, result)
	}
	if err := writeDoc("RELIABILITY.md"); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("failing: %s (the inputs are in each package's testdata/fuzz)", strings.Join(failed, ", "))
	}
	return nil
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readTSV reads a record file's rows; a missing file is no rows.
func readTSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	return rows, sc.Err()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "reliability:", err)
	os.Exit(1)
}
