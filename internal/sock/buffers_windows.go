package sock

import (
	"os"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// SetBuffers asks for socket buffers of rcv and snd bytes (SO_RCVBUF, SO_SNDBUF); 0 leaves one as
// it is.
func SetBuffers(fd, rcv, snd int) error {
	if rcv > 0 {
		if err := setsockopt("SO_RCVBUF", fd, windows.SOL_SOCKET, windows.SO_RCVBUF, rcv); err != nil {
			return err
		}
	}
	if snd > 0 {
		return setsockopt("SO_SNDBUF", fd, windows.SOL_SOCKET, windows.SO_SNDBUF, snd)
	}
	return nil
}

// Buffers returns the receive and send buffer sizes granted.
func Buffers(fd int) (rcv, snd int, err error) {
	if rcv, err = windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_RCVBUF); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt SO_RCVBUF", wsa.Translate(err))
	}
	if snd, err = windows.GetsockoptInt(windows.Handle(fd), windows.SOL_SOCKET, windows.SO_SNDBUF); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt SO_SNDBUF", wsa.Translate(err))
	}
	return rcv, snd, nil
}
