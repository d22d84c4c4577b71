//go:build windows && 386

package poller

// afdPollInfo is AFD_POLL_INFO with one handle. C aligns the struct to its LARGE_INTEGER (8 bytes),
// so it is 32 bytes; Go aligns int64 to 4 on 386 and would make it 28: the tail is
// padded explicitly.
type afdPollInfo struct {
	Timeout         int64
	NumberOfHandles uint32
	Exclusive       uint32
	Handle          uintptr
	Events          uint32
	Status          uint32
	_               uint32
}
