//go:build race

package unixstream_test

// raceEnabled: the race detector's instrumentation makes crypto/tls allocate where it otherwise
// does not, so allocation counts are checked without it (make allocs).
const raceEnabled = true
