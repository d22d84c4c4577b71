package sock

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// UDP segmentation offload (Linux): GRO hands a receiver several datagrams of one flow as one
// buffer, with their size in a UDP_GRO control message; GSO sends a run of equal-size datagrams
// to one destination in one sendmsg with a UDP_SEGMENT control message.

// MaxSegments is the most datagrams one GSO send carries (the portable limit; newer kernels take
// 128).
const MaxSegments = 64

// SetGRO turns UDP_GRO on (the kernel may coalesce datagrams of one flow into one receive) or
// off.
func SetGRO(fd int, on bool) error {
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt UDP_GRO", unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO, v))
}

// ProbeGSO reports whether the kernel has UDP GSO (a getsockopt of UDP_SEGMENT answers), and why
// not when it has not, or has a known-broken version. The socket option is read, never left set.
func ProbeGSO(fd int) (ok bool, why string) {
	if _, err := unix.GetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT); err != nil {
		return false, "the kernel has no UDP_SEGMENT: " + err.Error()
	}
	if r := kernelRelease(); brokenGSO(r) {
		return false, "kernel " + r + " corrupts GSO runs of equal segments (7.0-rc1 to 7.1-rc4)"
	}
	return true, ""
}

func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return string(u.Release[:bytes.IndexByte(u.Release[:], 0)])
}

// brokenGSO: Linux 7.0-rc1 to 7.1-rc4 corrupt GSO runs whose segments are all equal (tailscale
// #19918). release is uname's: "7.1.0-rc3-foo", "6.18.5".
func brokenGSO(release string) bool {
	num := func(s string) (int, string) {
		end := 0
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		n, err := strconv.Atoi(s[:end])
		if err != nil {
			return -1, s
		}
		return n, s[end:]
	}
	major, rest := num(release)
	if major != 7 || !strings.HasPrefix(rest, ".") {
		return false
	}
	minor, rest := num(rest[1:])
	switch minor {
	case 0:
		return true // every 7.0, its release candidates included
	case 1:
		if i := strings.Index(rest, "-rc"); i >= 0 {
			rc, _ := num(rest[i+3:])
			return rc >= 1 && rc <= 4
		}
	}
	return false
}

// GROSize returns the segment size of a coalesced receive (the UDP_GRO control message), or 0.
func GROSize(b []byte) int {
	for {
		level, typ, d, rest, ok := nextCmsg(b)
		if !ok {
			return 0
		}
		if level == unix.SOL_UDP && typ == unix.UDP_GRO && len(d) >= 4 {
			return int(int32(binary.NativeEndian.Uint32(d)))
		}
		b = rest
	}
}

// putSegment appends a UDP_SEGMENT control message (a u16) to a slot's control bytes at n.
func putSegment(b []byte, n, size int) int {
	d, end := putCmsg(b, n, unix.SOL_UDP, unix.UDP_SEGMENT, 2)
	binary.NativeEndian.PutUint16(d, uint16(size))
	return end
}

// GSOFault, when set (tests only), is consulted before every GSO send: a non-zero errno fails the
// send as the kernel would (EIO from a device without checksum offload, EINVAL).
var GSOFault func(fd int) syscall.Errno
