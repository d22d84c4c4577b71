package unixstream_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

func TestMain(m *testing.M) {
	if reason := noUnixSockets(); reason != "" {
		fmt.Println("unixstream: every test skipped:", reason)
		os.Exit(0)
	}
	leakcheck.Main(m)
}
