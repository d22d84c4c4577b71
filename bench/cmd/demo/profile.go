package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// profile runs aioloop's UDP and Unix servers under load with pprof profiles and prints the top
// of each profile.
func (c *config) profile(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	im := allImpls[0]
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	path := filepath.Join(c.tmp, "echo.sock")
	runs := []struct {
		name             string
		server, loadArgs []string
	}{
		{"udp", []string{"-udp", addr}, []string{"-udp", addr, "-phases", "udp"}},
		{"unix", []string{"-unix", path}, []string{"-unix", path, "-phases", "unix,unix-bulk"}},
	}
	for _, r := range runs {
		cpu := filepath.Join(dir, r.name+"-cpu.pprof")
		mem := filepath.Join(dir, r.name+"-alloc.pprof")
		fmt.Fprintf(os.Stderr, "profiling aioloop %s echo for %v per phase\n", r.name, c.duration)
		phases := make(map[string]phase)
		args := append(append([]string{}, r.server...), "-cpuprofile", cpu, "-memprofile", mem)
		rep, err := c.serve(im, args, r.loadArgs, phases, nil)
		if err != nil {
			return err
		}
		for _, p := range phases {
			fmt.Printf("%s: %.0f msgs/s, %.1f MB/s, server busy %.0f%%, generator busy %.0f%%\n",
				p.Phase, p.perSecond(), p.mbPerSecond(), 100*p.Server, 100*p.Busy)
		}
		fmt.Printf("server: %d allocations in %.1f s\n\n", rep.Mallocs, rep.Seconds)
		for _, top := range [][]string{
			{"-top", "-nodecount=25", cpu},
			{"-top", "-nodecount=15", "-sample_index=alloc_objects", mem},
		} {
			fmt.Printf("$ go tool pprof %s\n", joinArgs(top))
			cmd := exec.Command("go", append([]string{"tool", "pprof"}, top...)...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("go tool pprof: %w", err)
			}
			fmt.Println()
		}
	}
	return nil
}

func joinArgs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}
