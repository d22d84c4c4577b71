//go:build !windows

package unixstream_test

// noUnixSockets: every Unix has them.
func noUnixSockets() string { return "" }
