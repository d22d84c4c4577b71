// Package testpeer finds and runs the real peers that aioloop's interoperation tests run against,
// programs nobody here wrote.
package testpeer

import (
	"os"
	"os/exec"
	"testing"
)

// Python3 returns the path of python3, the asyncio peer. A missing interpreter fails the test
// under CI (CI set, as .ci/run's environment has it, and .ci/run installs python3) and skips it,
// with the reason, elsewhere.
func Python3(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is missing: CI must install it (.ci/run does)")
		}
		t.Skip("skipped: python3 not found; it is the asyncio peer of this test")
	}
	return p
}

// OpenSSL returns the path of the openssl command, the TLS peer nobody here wrote. Missing, it
// fails the test under CI (.ci/run installs it) and skips it elsewhere, as Python3 does.
func OpenSSL(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is missing: CI must install it (.ci/run does)")
		}
		t.Skip("skipped: openssl not found; it is the TLS peer of this test")
	}
	return p
}
