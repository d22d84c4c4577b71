package sock_test

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/internal/sock"
)

// cmsg appends one control message as the kernel lays it out.
func cmsg(b []byte, level, typ int, data []byte) []byte {
	h := make([]byte, unix.CmsgSpace(len(data)))
	l := unix.CmsgLen(len(data))
	if unix.SizeofCmsghdr == 16 {
		binary.NativeEndian.PutUint64(h, uint64(l))
	} else {
		binary.NativeEndian.PutUint32(h, uint32(l))
	}
	binary.NativeEndian.PutUint32(h[unix.SizeofCmsghdr-8:], uint32(level))
	binary.NativeEndian.PutUint32(h[unix.SizeofCmsghdr-4:], uint32(typ))
	copy(h[unix.SizeofCmsghdr:], data)
	return append(b, h...)
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// everyKind is one of each control message ParseRecvInfo reads, in the kernel's layout.
func everyKind() []byte {
	var b []byte
	pk4 := make([]byte, unix.SizeofInet4Pktinfo)
	binary.NativeEndian.PutUint32(pk4, 3)
	copy(pk4[4:], []byte{10, 0, 0, 9})  // spec_dst: not the destination
	copy(pk4[8:], []byte{127, 0, 0, 2}) // addr: the destination
	b = cmsg(b, unix.IPPROTO_IP, unix.IP_PKTINFO, pk4)
	b = cmsg(b, unix.IPPROTO_IP, unix.IP_TOS, []byte{0xb9})
	b = cmsg(b, unix.IPPROTO_IP, unix.IP_TTL, u32(63))
	ts := binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, 1700000000), 5)
	b = cmsg(b, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, ts)
	return b
}

func TestParseRecvInfo(t *testing.T) {
	var info sock.RecvInfo
	sock.ParseRecvInfo(everyKind(), &info)
	want := sock.RecvInfo{Dst: netip.MustParseAddr("127.0.0.2"), IfIndex: 3, TOS: 0xb9, HasTOS: true, TTL: 63, Time: 1700000000*1e9 + 5}
	if info != want {
		t.Fatalf("got %+v\nwant %+v", info, want)
	}
	var b []byte
	pk6 := make([]byte, unix.SizeofInet6Pktinfo)
	copy(pk6, netip.MustParseAddr("::ffff:127.0.0.3").AsSlice())
	binary.NativeEndian.PutUint32(pk6[16:], 1)
	b = cmsg(b, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, pk6)
	b = cmsg(b, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, u32(0x02))
	b = cmsg(b, unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT, u32(255))
	sock.ParseRecvInfo(b, &info)
	want = sock.RecvInfo{Dst: netip.MustParseAddr("127.0.0.3"), IfIndex: 1, TOS: 2, HasTOS: true, TTL: 255}
	if info != want {
		t.Fatalf("IPv6: got %+v\nwant %+v", info, want)
	}
	sock.ParseRecvInfo(nil, &info)
	if info != (sock.RecvInfo{TTL: -1}) {
		t.Fatalf("nothing: %+v", info)
	}
	b = everyKind()
	if n := testing.AllocsPerRun(100, func() { sock.ParseRecvInfo(b, &info) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// Arbitrary bytes, as a kernel bug or a truncated buffer might leave them: never a panic, never a
// read past the end.
func FuzzParseRecvInfo(f *testing.F) {
	f.Add(everyKind())
	f.Add(everyKind()[:20])
	f.Add([]byte{})
	f.Add(make([]byte, 15))
	f.Add(cmsg(nil, unix.IPPROTO_IP, unix.IP_PKTINFO, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var info sock.RecvInfo
		sock.ParseRecvInfo(b, &info)
		if info.Dst.IsValid() && !info.Dst.Is4() && !info.Dst.Is6() {
			t.Fatalf("Dst %v", info.Dst)
		}
	})
}

// On real sockets: a datagram sent with a source address and a TOS through SendBatch arrives
// with both, its destination, TTL and receive time reported, through the batch's control buffers.
func TestRecvInfoOnLoopback(t *testing.T) {
	open := func(family int, at string) (int, netip.AddrPort) {
		t.Helper()
		fd, err := sock.Socket(family, syscall.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sock.Close(fd) })
		if err := sock.Bind(fd, family, netip.MustParseAddrPort(at), ""); err != nil {
			t.Fatal(err)
		}
		ap, _, _ := sock.LocalAddr(fd)
		return fd, ap
	}
	for _, c := range []struct {
		name           string
		family         int
		recvAt, sendAt string
		dst, src       string
		v4             bool
	}{
		{"IPv4", syscall.AF_INET, "0.0.0.0:0", "127.0.0.1:0", "127.0.0.2", "127.0.0.3", true},
		{"dual-stack, IPv4 peer", syscall.AF_INET6, "[::]:0", "[::]:0", "127.0.0.2", "127.0.0.3", true},
		{"IPv6", syscall.AF_INET6, "[::]:0", "[::]:0", "::1", "::1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rfd, rap := open(c.family, c.recvAt)
			if err := sock.SetRecvInfo(rfd, c.family, sock.RecvDestination|sock.RecvTOS|sock.RecvTTL|sock.RecvTime); err != nil {
				t.Fatal(err)
			}
			sfd, _ := open(c.family, c.sendAt)
			var d sock.Datagram
			d.Data = []byte("with info")
			if !d.To.SetAddrPort(netip.AddrPortFrom(netip.MustParseAddr(c.dst), rap.Port()), c.family, nil) {
				t.Fatal("SetAddrPort")
			}
			d.Info = sock.SendInfo{Src: netip.MustParseAddr(c.src), TOS: 0x2a, SetTOS: true, IPv4: c.v4}
			before := time.Now()
			if n, err := sock.NewSendBatch(4).Send(sfd, []sock.Datagram{d}); n != 1 || err != nil {
				t.Fatalf("Send = %d, %v", n, err)
			}
			b := sock.NewRecvBatch(4, 2048)
			b.EnableControl()
			var n int
			var err error
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				if n, err = b.Recv(rfd); err == nil || !sock.Temporary(err) || time.Now().After(deadline) {
					break
				}
			}
			if n != 1 || err != nil {
				t.Fatalf("Recv = %d, %v", n, err)
			}
			data, from, _ := b.Msg(0)
			ctrl, ctrunc := b.Control(0)
			var info sock.RecvInfo
			sock.ParseRecvInfo(ctrl, &info)
			src, _ := from.AddrPort(nil)
			if string(data) != "with info" || ctrunc || src.Addr() != netip.MustParseAddr(c.src) {
				t.Fatalf("got %q from %v (control cut: %v)", data, src, ctrunc)
			}
			if info.Dst != netip.MustParseAddr(c.dst) || info.IfIndex == 0 || !info.HasTOS || info.TOS != 0x2a ||
				info.TTL <= 0 || info.Time < before.UnixNano()-int64(time.Second) {
				t.Fatalf("info %+v", info)
			}
		})
	}
}

// queuedErr is an IP_RECVERR message as the kernel writes it: sock_extended_err, then the
// offender's sockaddr_in (10.0.0.1).
func queuedErr() []byte {
	ee := make([]byte, 16+16)
	binary.NativeEndian.PutUint32(ee, uint32(syscall.EMSGSIZE))
	ee[4], ee[5], ee[6] = unix.SO_EE_ORIGIN_ICMP, 3, 4 // destination unreachable, fragmentation needed
	binary.NativeEndian.PutUint32(ee[8:], 1280)
	binary.NativeEndian.PutUint16(ee[16:], unix.AF_INET)
	copy(ee[20:], []byte{10, 0, 0, 1})
	return cmsg(nil, unix.IPPROTO_IP, unix.IP_RECVERR, ee)
}

func TestParseQueuedError(t *testing.T) {
	var e sock.QueuedError
	sock.ParseQueuedError(queuedErr(), &e)
	if e.Errno != syscall.EMSGSIZE || e.Origin != unix.SO_EE_ORIGIN_ICMP || e.Type != 3 || e.Code != 4 || e.Info != 1280 ||
		e.Offender != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("%+v", e)
	}
	b := queuedErr()
	if n := testing.AllocsPerRun(100, func() { sock.ParseQueuedError(b, &e) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzParseQueuedError(f *testing.F) {
	f.Add(queuedErr())
	f.Add(queuedErr()[:20])
	f.Add(everyKind())
	f.Fuzz(func(t *testing.T, b []byte) {
		var e sock.QueuedError
		sock.ParseQueuedError(b, &e)
	})
}
