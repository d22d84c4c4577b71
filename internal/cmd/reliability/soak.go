package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aioloop/aioloop/internal/soak"
)

// soakOnce runs a soak, records it and rewrites RELIABILITY.md; a broken promise fails it.
func soakOnce(d time.Duration) error {
	fmt.Fprintf(os.Stderr, "soak: %v of UDP, Unix and TLS echo through one loop\n", d)
	r, err := soak.Run(soak.Config{Duration: d})
	if err != nil {
		return err
	}
	fmt.Print(r)
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	result := "ok"
	if !r.OK() {
		result = "FAIL: " + strings.Join(r.Failures, "; ")
	}
	var sessions []string
	for _, k := range []string{"echo", "half-close", "vanish", "silent", "never-reads", "tls-garbage"} {
		sessions = append(sessions, fmt.Sprintf("%s %d", k, r.Sessions[k]))
	}
	mib := func(b uint64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
	line := strings.Join([]string{
		time.Now().UTC().Format(time.RFC3339), strings.TrimSpace(string(commit)), fmt.Sprint(int(r.Duration.Seconds())),
		fmt.Sprint(r.UDPSent), fmt.Sprint(r.UDPAcked), fmt.Sprint(r.UDPLost),
		fmt.Sprint(r.StreamBytes), fmt.Sprint(r.TLSBytes), fmt.Sprint(r.ServerConns), strings.Join(sessions, ", "),
		fmt.Sprintf("%d/%d/%d", r.Before.Goroutines, r.Middle.Goroutines, r.After.Goroutines),
		fmt.Sprintf("%d/%d/%d", r.Before.FDs, r.Middle.FDs, r.After.FDs),
		fmt.Sprintf("%s/%s/%s", mib(r.Before.Heap), mib(r.Middle.Heap), mib(r.After.Heap)),
		result,
	}, "\t")
	if err := os.MkdirAll("reliability", 0o755); err != nil {
		return err
	}
	if err := appendLine(soakLog, line); err != nil {
		return err
	}
	if err := writeDoc("RELIABILITY.md"); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("the soak broke a promise: %s", strings.Join(r.Failures, "; "))
	}
	return nil
}
