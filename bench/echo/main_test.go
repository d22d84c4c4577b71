package echo_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

// gnet starts a package-level goroutine pool (ants) when it is imported, for the life of the
// process: its two goroutines are not the servers' to stop.
func TestMain(m *testing.M) {
	leakcheck.Main(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"))
}
