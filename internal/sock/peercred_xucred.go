//go:build darwin || freebsd

package sock

import (
	"os"

	"golang.org/x/sys/unix"
)

// PeerCredentials returns the peer's user and group (LOCAL_PEERCRED's xucred; no PID).
func PeerCredentials(fd int) (Credentials, error) {
	x, err := unix.GetsockoptXucred(fd, 0 /* SOL_LOCAL */, unix.LOCAL_PEERCRED)
	if err != nil {
		return Credentials{}, os.NewSyscallError("getsockopt LOCAL_PEERCRED", err)
	}
	c := Credentials{UID: x.Uid}
	if x.Ngroups > 0 {
		c.GID = x.Groups[0]
	}
	return c, nil
}
