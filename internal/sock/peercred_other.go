//go:build dragonfly || netbsd || openbsd

package sock

import "errors"

// PeerCredentials is not wired up on this system yet: x/sys offers no getpeereid here.
func PeerCredentials(fd int) (Credentials, error) {
	return Credentials{}, errors.New("sock: peer credentials are not supported on this system yet")
}
