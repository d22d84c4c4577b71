package poller

// Requests counts the Windows poller's requests: with a poll in flight, and free for reuse.
func (p *Poller) Requests() (inFlight, free, all int) {
	for _, r := range p.reqs {
		if r.asked != 0 {
			inFlight++
		}
	}
	return inFlight, len(p.free), len(p.reqs)
}
