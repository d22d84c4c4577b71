package wsa

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Winsock calls x/sys/windows does not bind, or binds with an allocation per call.
var (
	ws2           = windows.NewLazySystemDLL("ws2_32.dll")
	procAccept    = ws2.NewProc("accept")
	procIoctl     = ws2.NewProc("ioctlsocket")
	procRecv      = ws2.NewProc("recv")
	procSend      = ws2.NewProc("send")
	procRecvfrom  = ws2.NewProc("recvfrom")
	procSendto    = ws2.NewProc("sendto")
	invalidSocket = ^uintptr(0)        // INVALID_SOCKET, accept's failure (a SOCKET is pointer-sized)
	fionbio       = uint32(0x8004667e) // FIONBIO
)

// Accept takes a connection off the listening socket s.
func Accept(s windows.Handle) (windows.Handle, error) {
	r, _, e := syscall.SyscallN(procAccept.Addr(), uintptr(s), 0, 0)
	if r == invalidSocket {
		return windows.InvalidHandle, os.NewSyscallError("accept", Errno(e))
	}
	return windows.Handle(r), nil
}

// SetNonblock puts s in non-blocking mode (ioctlsocket FIONBIO).
func SetNonblock(s windows.Handle) error {
	on := uint32(1)
	r, _, e := syscall.SyscallN(procIoctl.Addr(), uintptr(s), uintptr(fionbio), uintptr(unsafe.Pointer(&on)))
	if failed(r) {
		return os.NewSyscallError("ioctlsocket", Errno(e))
	}
	return nil
}

// Recv receives into p from the connected socket s. A would-block matches syscall.EAGAIN.
func Recv(s windows.Handle, p []byte) (int, error) {
	var b *byte
	if len(p) > 0 {
		b = &p[0]
	}
	r, _, e := syscall.SyscallN(procRecv.Addr(), uintptr(s), uintptr(unsafe.Pointer(b)), uintptr(len(p)), 0)
	if failed(r) {
		return 0, os.NewSyscallError("recv", Errno(e))
	}
	return int(int32(r)), nil
}

// Send sends p on the connected socket s.
func Send(s windows.Handle, p []byte) (int, error) {
	var b *byte
	if len(p) > 0 {
		b = &p[0]
	}
	r, _, e := syscall.SyscallN(procSend.Addr(), uintptr(s), uintptr(unsafe.Pointer(b)), uintptr(len(p)), 0)
	if failed(r) {
		return 0, os.NewSyscallError("send", Errno(e))
	}
	return int(int32(r)), nil
}

// RecvFrom receives one datagram into p and its source into the raw sockaddr buffer from (whose
// length *fromLen gives, and which it updates); it allocates nothing.
func RecvFrom(s windows.Handle, p []byte, flags int, from unsafe.Pointer, fromLen *int32) (int, syscall.Errno) {
	var b *byte
	if len(p) > 0 {
		b = &p[0]
	}
	r, _, e := syscall.SyscallN(procRecvfrom.Addr(), uintptr(s), uintptr(unsafe.Pointer(b)), uintptr(len(p)),
		uintptr(flags), uintptr(from), uintptr(unsafe.Pointer(fromLen)))
	if failed(r) {
		return 0, e
	}
	return int(int32(r)), 0
}

// SendTo sends p to the raw sockaddr to (toLen bytes; nil for the connected peer).
func SendTo(s windows.Handle, p []byte, to unsafe.Pointer, toLen int32) (int, syscall.Errno) {
	var b *byte
	if len(p) > 0 {
		b = &p[0]
	}
	r, _, e := syscall.SyscallN(procSendto.Addr(), uintptr(s), uintptr(unsafe.Pointer(b)), uintptr(len(p)),
		0, uintptr(to), uintptr(toLen))
	if failed(r) {
		return 0, e
	}
	return int(int32(r)), 0
}

var (
	procBind        = ws2.NewProc("bind")
	procConnect     = ws2.NewProc("connect")
	procGetsockname = ws2.NewProc("getsockname")
	procGetpeername = ws2.NewProc("getpeername")
	procWSAPoll     = ws2.NewProc("WSAPoll")
)

// Bind binds s to the raw sockaddr sa of n bytes.
func Bind(s windows.Handle, sa unsafe.Pointer, n int32) error {
	if r, _, e := syscall.SyscallN(procBind.Addr(), uintptr(s), uintptr(sa), uintptr(n)); failed(r) {
		return os.NewSyscallError("bind", Errno(e))
	}
	return nil
}

// Connect connects s to the raw sockaddr sa of n bytes. The raw errno comes back, for the caller
// to tell "in progress" apart.
func Connect(s windows.Handle, sa unsafe.Pointer, n int32) syscall.Errno {
	if r, _, e := syscall.SyscallN(procConnect.Addr(), uintptr(s), uintptr(sa), uintptr(n)); failed(r) {
		return e
	}
	return 0
}

// Getsockname writes s's bound address to the raw sockaddr sa (*n bytes, updated).
func Getsockname(s windows.Handle, sa unsafe.Pointer, n *int32) error {
	if r, _, e := syscall.SyscallN(procGetsockname.Addr(), uintptr(s), uintptr(sa), uintptr(unsafe.Pointer(n))); failed(r) {
		return os.NewSyscallError("getsockname", Errno(e))
	}
	return nil
}

// Getpeername writes s's peer address to the raw sockaddr sa (*n bytes, updated).
func Getpeername(s windows.Handle, sa unsafe.Pointer, n *int32) error {
	if r, _, e := syscall.SyscallN(procGetpeername.Addr(), uintptr(s), uintptr(sa), uintptr(unsafe.Pointer(n))); failed(r) {
		return os.NewSyscallError("getpeername", Errno(e))
	}
	return nil
}

// PollFD is WSAPOLLFD.
type PollFD struct {
	FD      windows.Handle
	Events  int16
	REvents int16
}

// PollOut is POLLWRNORM, what a connecting socket waits for.
const PollOut = 0x0010

// Poll is WSAPoll: it waits up to ms milliseconds for fds and returns how many are ready.
func Poll(fds []PollFD, ms int) (int, error) {
	r, _, e := syscall.SyscallN(procWSAPoll.Addr(), uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(ms))
	if int32(r) < 0 {
		return 0, os.NewSyscallError("WSAPoll", Errno(e))
	}
	return int(int32(r)), nil
}

// failed reports SOCKET_ERROR: the calls that return a C int set only its 32 bits, so -1 is
// 0xFFFFFFFF in the register whatever the upper half holds.
func failed(r uintptr) bool { return int32(r) == -1 }
