//go:build linux

package udp_test

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"github.com/aioloop/aioloop/udp"
)

// Addresses come from outside (configuration, command lines): whatever the strings, family and
// flags, CreateDatagramEndpoint either makes a working endpoint or returns an error that starts
// with the package's name. It never panics and never resolves a name (the flags forbid it).
func FuzzOptions(f *testing.F) {
	for _, s := range [][2]string{
		{"127.0.0.1:0", ""}, {"", "127.0.0.1:9"}, {"[::1]:0", "[::1]:9"}, {":0", ""}, {"@fuzz", ""},
		{"/nonexistent/dir/x.sock", ""}, {"127.0.0.1", ""}, {"[::1", ""}, {"1.2.3.4:99999", ""},
		{"[fe80::1%lo]:0", ""}, {"\x00abstract", ""}, {"localhost:0", ""}, {"127.0.0.1:domain", ""},
	} {
		f.Add(s[0], s[1], 0, 0)
	}
	f.Add(":0", "", syscall.AF_INET6, 0)
	f.Add("/tmp/x", "", syscall.AF_INET, 0)
	f.Chdir(f.TempDir()) // a relative Unix path (the family may come from the other address) lands here
	l := newLoop(f)
	f.Fuzz(func(t *testing.T, local, remote string, family, flags int) {
		opts := udp.Options{LocalAddr: local, RemoteAddr: remote, Family: family,
			Flags: flags | udp.FlagNumericHost | udp.FlagNumericServ}
		if strings.HasPrefix(local, "/") || strings.HasPrefix(local, ".") ||
			(family == syscall.AF_UNIX && local != "" && local[0] != '@' && local[0] != 0) {
			return // a filesystem path would be created wherever the fuzzer says
		}
		tr, _, err := udp.CreateDatagramEndpoint(context.Background(), l, func() udp.Protocol { return &recorder{} }, opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "udp: ") {
				t.Fatalf("error without the package's name: %v", err)
			}
			return
		}
		closeAndDrain(l, tr)
	})
}
