package unixstream_test

import (
	"flag"
	"fmt"
	"testing"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

// TestMain runs every test, or, on a system without AF_UNIX stream sockets (Wine; Windows before
// 10 1803), only those named TestWithoutUnixSockets, which need none.
func TestMain(m *testing.M) {
	if reason := noUnixSockets(); reason != "" {
		flag.Parse()
		fmt.Println("unixstream: only the tests that need no socket run:", reason)
		flag.Set("test.run", "^TestWithoutUnixSockets")
	}
	leakcheck.Main(m)
}
