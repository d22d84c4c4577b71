package testloop

import (
	"fmt"
	"math/rand/v2"
)

// Chooser makes a random run's choices: a seeded *rand.Rand in the seeded tests, the fuzzer's
// bytes (Bytes) in the fuzz targets, so that one run function serves both and the fuzzer's
// coverage-guided mutations become different sequences of actions.
type Chooser interface {
	IntN(n int) int
}

var _ Chooser = (*rand.Rand)(nil)

// Bytes is a Chooser that reads its choices from data: each IntN(n) takes as many bytes as n needs
// (one up to 256), and returns 0 once data is spent, so that every input is a finite run whose
// choices the input names.
func Bytes(data []byte) Chooser { return &byteChooser{data: data} }

type byteChooser struct{ data []byte }

func (b *byteChooser) IntN(n int) int {
	if n <= 0 {
		panic("testloop: IntN of a non-positive n")
	}
	v := 0
	for span := 1; span < n; span <<= 8 {
		if len(b.data) == 0 {
			break
		}
		v = v<<8 | int(b.data[0])
		b.data = b.data[1:]
	}
	return v % n
}

// WaterMarksPaired checks a protocol's events for asyncio's pairing of the flow-control calls:
// "pause" and "resume" alternate, starting with "pause" (other events are skipped).
func WaterMarksPaired(events []string) error {
	paused := false
	for i, e := range events {
		switch {
		case e == "pause" && paused, e == "resume" && !paused:
			return fmt.Errorf("event %d is %s while %s: %v", i, e, map[bool]string{true: "paused", false: "not paused"}[paused], events)
		case e == "pause", e == "resume":
			paused = e == "pause"
		}
	}
	return nil
}
