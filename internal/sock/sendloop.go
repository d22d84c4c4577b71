//go:build darwin || dragonfly || freebsd || netbsd || openbsd || windows

package sock

// SendBatch sends datagrams one sendto at a time where the system has no sendmmsg: the BSDs
// (FreeBSD's is a libc loop) and Windows.
type SendBatch struct{ n int }

// NewSendBatch makes a batch that sends at most n datagrams per Send.
func NewSendBatch(n int) *SendBatch { return &SendBatch{n: n} }

// Send sends up to n of msgs and returns how many went; the error is the first failure's.
func (s *SendBatch) Send(fd int, msgs []Datagram) (int, error) {
	for i := range min(len(msgs), s.n) {
		if err := SendTo(fd, msgs[i].Data, &msgs[i].To); err != nil {
			return i, err
		}
	}
	return min(len(msgs), s.n), nil
}
