//go:build windows && !386

package poller

// afdPollInfo is AFD_POLL_INFO with one handle: 32 bytes, laid out as C lays it out.
type afdPollInfo struct {
	Timeout         int64
	NumberOfHandles uint32
	Exclusive       uint32
	Handle          uintptr
	Events          uint32
	Status          uint32
}
