package sock

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Drops returns how many datagrams the kernel dropped for the socket, for want of buffer room
// mostly (SO_MEMINFO's SK_MEMINFO_DROPS: the drops column of /proc/net/udp). Cheap: one
// getsockopt.
func Drops(fd int) (uint64, error) {
	var mem [unix.SK_MEMINFO_VARS]uint32
	n := uint32(unsafe.Sizeof(mem))
	_, _, e := syscall.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&mem)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return 0, os.NewSyscallError("getsockopt SO_MEMINFO", e)
	}
	return uint64(mem[unix.SK_MEMINFO_DROPS]), nil
}

// SetDontFragment sets the Don't Fragment bit on what the socket sends and turns path-MTU
// discovery on (IP_MTU_DISCOVER and IPV6_MTU_DISCOVER at PMTUDISC_DO): a datagram larger than the
// path MTU fails with EMSGSIZE instead of leaving in fragments. An IPv6 socket gets both (its IPv4
// traffic, if dual-stack).
func SetDontFragment(fd, family int) error {
	if family == unix.AF_INET || family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO); err != nil && family == unix.AF_INET {
			return os.NewSyscallError("setsockopt IP_MTU_DISCOVER", err)
		}
	}
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_DO); err != nil {
			return os.NewSyscallError("setsockopt IPV6_MTU_DISCOVER", err)
		}
	}
	return nil
}
