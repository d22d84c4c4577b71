//go:build !race

package unixstream_test

const raceEnabled = false
