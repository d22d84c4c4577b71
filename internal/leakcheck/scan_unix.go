//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package leakcheck

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// scanFDs asks fcntl about every descriptor number below the soft limit (at most 1<<16) and
// returns the open ones with their kind from fstat.
func scanFDs() map[string]string {
	var rl unix.Rlimit
	limit := uint64(1024)
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 {
		limit = min(uint64(rl.Cur), 1<<16)
	}
	fds := make(map[string]string)
	for fd := range int(limit) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue
		}
		kind := "?"
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFSOCK:
				kind = "socket"
			case unix.S_IFIFO:
				kind = "pipe"
			case unix.S_IFREG:
				kind = "file"
			case unix.S_IFDIR:
				kind = "directory"
			case unix.S_IFCHR:
				kind = "device"
			}
		}
		fds[strconv.Itoa(fd)] = kind
	}
	return fds
}
