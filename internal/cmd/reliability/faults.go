package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A fault test says what it injects and what the user sees in a line of its doc comment:
//
//	// Fault: the peer resets mid-write → ConnectionLost(ECONNRESET), once; nothing reported
//
// faults collects those lines from every test file under root, so that RELIABILITY.md's table of
// fault classes is the tests' own words.
type fault struct{ class, outcome, test, pkg string }

var (
	faultLine = regexp.MustCompile(`^// Fault: (.+?) → (.+)$`)
	testFunc  = regexp.MustCompile(`^func (Test\w+)\(`)
)

func faults(root string) ([]fault, error) {
	var out []fault
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bench") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var pending []fault
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := faultLine.FindStringSubmatch(line); m != nil {
				pending = append(pending, fault{class: m[1], outcome: m[2]})
				continue
			}
			if m := testFunc.FindStringSubmatch(line); m != nil {
				for _, p := range pending {
					p.test, p.pkg = m[1], filepath.ToSlash(filepath.Dir(path))
					out = append(out, p)
				}
			}
			if !strings.HasPrefix(line, "//") {
				pending = nil
			}
		}
		return sc.Err()
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].pkg < out[j].pkg })
	return out, err
}

// faultTable is the markdown table of the fault tests.
func faultTable(fs []fault) string {
	if len(fs) == 0 {
		return "No fault test is marked yet.\n"
	}
	var b strings.Builder
	b.WriteString("| package | fault injected | what the user sees | test |\n| --- | --- | --- | --- |\n")
	for _, f := range fs {
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` |\n", f.pkg, f.class, f.outcome, f.test)
	}
	fmt.Fprintf(&b, "\n%d fault tests, all run by `make test` (`go test -run 'TEST' ./PACKAGE` runs one).\n", len(fs))
	return b.String()
}
