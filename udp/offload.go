package udp

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"

	"github.com/aioloop/aioloop/internal/sock"
)

// Offload says whether a UDP segmentation offload is used: Options.GRO and Options.GSO (asyncio
// has neither).
type Offload uint8

const (
	// OffloadAuto, the default: on when the kernel has it (Linux: GRO from 5.0, GSO from 4.18,
	// GSO refused on the kernels known to corrupt it), off otherwise. Users see no difference
	// but speed: GRO's coalesced buffers are split into datagrams before DatagramReceived, and a
	// GSO send that fails falls back to plain sends.
	OffloadAuto Offload = iota
	// OffloadOff: never.
	OffloadOff
	// OffloadOn: required; the creation fails where the kernel lacks it.
	OffloadOn
)

// OffloadState is what Transport.Offload reports: whether each offload is on, and why not.
type OffloadState struct {
	GRO, GSO             bool
	GROWhyNot, GSOWhyNot string
	// GSOFallbacks counts the destinations for which GSO failed (EIO, EINVAL) and plain sends
	// took over for good.
	GSOFallbacks int
	// GROBuffers counts the coalesced buffers received (each split into its datagrams).
	GROBuffers uint64
}

// Offload reports the transport's segmentation offloads. Loop-only.
func (t *Transport) Offload() OffloadState { return t.off }

// setOffload applies Options.GRO and Options.GSO to an IP socket, new or handed over (adopted).
func (t *Transport) setOffload(fd int, opts *Options, adopted bool) error {
	t.off = OffloadState{GROWhyNot: "off (Options.GRO)", GSOWhyNot: "off (Options.GSO)"}
	if opts.GRO == OffloadOff && adopted {
		// A socket handed over may have GRO on: coalesced buffers must not reach the protocol
		// unsplit. A kernel without UDP_GRO has it off anyway.
		sock.SetGRO(fd, false)
	}
	if opts.GRO != OffloadOff {
		if err := sock.SetGRO(fd, true); err != nil {
			if opts.GRO == OffloadOn {
				return err
			}
			t.off.GROWhyNot = err.Error()
		} else {
			t.off.GRO, t.off.GROWhyNot = true, ""
		}
	}
	if opts.GSO != OffloadOff {
		ok, why := sock.ProbeGSO(fd)
		if !ok && opts.GSO == OffloadOn {
			return errors.New("GSO unavailable: " + why)
		}
		t.off.GSO, t.off.GSOWhyNot = ok, why
	}
	return nil
}

// segments returns the GRO segment size of slot i of the last receive, or 0.
func (t *Transport) segments(i int) int {
	if !t.off.GRO {
		return 0
	}
	ctrl, _ := t.recv.Control(i)
	return sock.GROSize(ctrl)
}

// SendSegments sends data as a run of datagrams of segment bytes each, the last possibly shorter,
// to one destination (to, or the remote address when to is the zero Addr): what a QUIC stack builds
// for a burst. With GSO on (Offload) one send carries the whole run; without it, for a single
// datagram, or for a destination where GSO failed, each datagram goes as SendTo sends it. At most
// 64 datagrams, and data must fit one UDP send (65,507 bytes over IPv4, 65,527 over IPv6).
// Replies staged during a received batch leave first, so that order is kept. Nothing is lost or
// sent twice when GSO fails: the run is sent again as single datagrams. Loop-only.
func (t *Transport) SendSegments(data []byte, segment int, to Addr) error {
	switch {
	case t.closing:
		return errClosed
	case segment <= 0:
		return fmt.Errorf("%w: SendSegments with segment size %d", ErrDestination, segment)
	case len(data) == 0:
		return fmt.Errorf("%w: SendSegments with no data", ErrDestination)
	case (len(data)+segment-1)/segment > sock.MaxSegments:
		return fmt.Errorf("%w: SendSegments of %d bytes in %d-byte segments: more than %d datagrams", ErrDestination, len(data), segment, sock.MaxSegments)
	case len(data) > 65527:
		return fmt.Errorf("%w: SendSegments of %d bytes: more than one UDP send holds", ErrDestination, len(data))
	}
	var sa sock.Sockaddr
	if err := t.encodeDest(&sa, to); err != nil {
		return err
	}
	if len(data) <= segment || !t.off.GSO || t.gsoFailed(&sa) || t.family == syscall.AF_UNIX {
		return t.sendEach(data, segment, to)
	}
	if t.batching && len(t.replies.msgs) > 0 {
		t.flushReplies() // what was staged before goes before
	}
	if t.head == len(t.queue) {
		err := t.sendNow(data, &sa, &noInfo, segment)
		if err != nil && t.queuedErrorMet(err) {
			err = t.sendNow(data, &sa, &noInfo, segment)
		}
		switch {
		case err == nil:
			return nil
		case gsoFailure(err):
			t.noGSOFor(&sa)
			return t.sendEach(data, segment, to)
		case !sock.Temporary(err):
			t.sendFailed(err)
			return nil
		}
	}
	return t.enqueue(data, &sa, &noInfo, segment)
}

// sendEach sends a run as single datagrams.
func (t *Transport) sendEach(data []byte, segment int, to Addr) error {
	for off := 0; off < len(data); off += segment {
		if err := t.SendTo(data[off:min(off+segment, len(data))], to); err != nil {
			return err
		}
	}
	return nil
}

// gsoFailure: what a kernel or device that cannot do GSO answers a segmented send.
func gsoFailure(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL)
}

// gsoFailed reports whether GSO failed before for the destination sa.
func (t *Transport) gsoFailed(sa *sock.Sockaddr) bool {
	_, ok := t.noGSO[*sa]
	return ok
}

// noGSOFor records that GSO failed for sa: plain sends for good there.
func (t *Transport) noGSOFor(sa *sock.Sockaddr) {
	if t.noGSO == nil {
		t.noGSO = make(map[sock.Sockaddr]struct{})
	}
	if _, ok := t.noGSO[*sa]; !ok {
		t.noGSO[*sa] = struct{}{}
		t.off.GSOFallbacks++
	}
}

// splitHead replaces the GSO run at the head of the queue by its datagrams, in order.
func (t *Transport) splitHead() {
	d := t.queue[t.head]
	var pieces []sock.Datagram
	for off := 0; off < len(d.Data); off += d.Segment {
		// Each its own copy: pop hands every datagram's buffer to the spares.
		p := bytes.Clone(d.Data[off:min(off+d.Segment, len(d.Data))])
		pieces = append(pieces, sock.Datagram{Data: p, To: d.To, Info: d.Info})
		t.size += overhead // each now counts its own overhead
	}
	t.size -= overhead
	rest := append(pieces, t.queue[t.head+1:]...)
	t.queue = append(t.queue[:t.head], rest...)
}
