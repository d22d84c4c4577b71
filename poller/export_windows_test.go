package poller

import "unsafe"

// Requests counts the Windows poller's requests: with a poll in flight, and free for reuse.
func (p *Poller) Requests() (inFlight, free, all int) {
	for _, r := range p.reqs {
		if r.asked != 0 {
			inFlight++
		}
	}
	return inFlight, len(p.free), len(p.reqs)
}

// AFDPollInfoSize is sizeof(AFD_POLL_INFO) with one handle as this build lays it out (C: 32 bytes
// on every architecture).
const AFDPollInfoSize = unsafe.Sizeof(afdPollInfo{})

// Cancels counts the cancels the poller asked for.
func (p *Poller) Cancels() int { return p.cancels }
