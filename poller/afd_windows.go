package poller

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/aioloop/aioloop/internal/wsa"
)

// The AFD ("ancillary function driver", Winsock's kernel side) poll interface, as mio, wepoll and
// libuv use it: an IOCTL_AFD_POLL request on a helper handle opened on \Device\Afd completes, through
// the completion port the handle is associated with, when one of the asked events holds for the
// socket. It is one-shot; the poller re-issues it after each completion. Undocumented but stable
// since Windows Vista; Wine models it too (its own WSAPoll uses it).
const (
	ioctlAFDPoll = 0x00012024

	afdPollReceive     = 0x0001
	afdPollSend        = 0x0004
	afdPollDisconnect  = 0x0008
	afdPollAbort       = 0x0010
	afdPollLocalClose  = 0x0020
	afdPollAccept      = 0x0080
	afdPollConnectFail = 0x0100

	// What each interest asks of AFD (mio's mapping). A peer's reset (abort) and a failed connect
	// make a socket both readable and writable, as epoll reports them; local close is asked always
	// so that a socket closed while registered gives its request back.
	afdReadable = afdPollReceive | afdPollDisconnect | afdPollAccept | afdPollAbort | afdPollConnectFail
	afdWritable = afdPollSend | afdPollAbort | afdPollConnectFail

	statusSuccess   = 0
	statusPending   = 0x00000103
	statusCancelled = 0xC0000120
	statusNotFound  = 0xC0000225

	statusInvalidHandle = 0xC0000008 // the socket's handle is closed
	statusTypeMismatch  = 0xC0000024 // the handle is closed and its number taken by another object

	// Winsock ioctls that find the base (provider) socket under layered service providers; AFD
	// polls only the base. wepoll's order: the first that works.
	sioBaseHandle       = 0x48000022
	sioBSPHandlePoll    = 0x4800001D
	sioBSPHandleSelect  = 0x4800001C
	fileSkipSetEventOnH = 0x2    // FILE_SKIP_SET_EVENT_ON_HANDLE
	soType              = 0x1008 // SO_TYPE
)

// ioStatusBlock is IO_STATUS_BLOCK, with the status union as a plain integer.
type ioStatusBlock struct {
	Status      uintptr
	Information uintptr
}

// overlappedEntry is OVERLAPPED_ENTRY. lpOverlapped carries the request's number, which the
// poller chose, never a pointer: nothing the kernel hands back is turned into a Go pointer.
type overlappedEntry struct {
	Key        uintptr
	Overlapped uintptr
	Internal   uintptr // the request's final NTSTATUS
	Bytes      uint32
}

var (
	ntdll                         = windows.NewLazySystemDLL("ntdll.dll")
	kernel32                      = windows.NewLazySystemDLL("kernel32.dll")
	procNtDeviceIoControlFile     = ntdll.NewProc("NtDeviceIoControlFile")
	procNtCancelIoFileEx          = ntdll.NewProc("NtCancelIoFileEx")
	procGetQueuedCompletionStatEx = kernel32.NewProc("GetQueuedCompletionStatusEx")
)

// openAFD opens a helper handle on the AFD device, associates it with port under key, and asks
// the kernel not to signal the handle on completion (nobody waits on it).
func openAFD(port windows.Handle, key uintptr) (windows.Handle, error) {
	name, err := windows.NewNTUnicodeString(`\Device\Afd\aioloop`)
	if err != nil {
		return 0, err
	}
	oa := &windows.OBJECT_ATTRIBUTES{ObjectName: name}
	oa.Length = uint32(unsafe.Sizeof(*oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, windows.SYNCHRONIZE, oa, &iosb, nil, 0,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, windows.FILE_OPEN, 0, 0, 0)
	if err != nil {
		return 0, os.NewSyscallError(`NtCreateFile(\Device\Afd)`, err)
	}
	if _, err := windows.CreateIoCompletionPort(h, port, key, 0); err != nil {
		windows.CloseHandle(h)
		return 0, os.NewSyscallError("CreateIoCompletionPort", err)
	}
	if err := windows.SetFileCompletionNotificationModes(h, fileSkipSetEventOnH); err != nil {
		windows.CloseHandle(h)
		return 0, os.NewSyscallError("SetFileCompletionNotificationModes", err)
	}
	return h, nil
}

// baseHandle finds the socket AFD must be asked about. A handle that is not a socket fails with
// WSAENOTSOCK, which matches syscall.EBADF.
func baseHandle(s windows.Handle) (windows.Handle, error) {
	// Not every Winsock answers SIO_BASE_HANDLE for a handle that is not a socket (Wine returns
	// the handle itself): SO_TYPE tells sockets apart first.
	if _, err := windows.GetsockoptInt(s, windows.SOL_SOCKET, soType); err != nil {
		return 0, os.NewSyscallError("getsockopt SO_TYPE", wsa.Translate(err))
	}
	var err error
	for _, ioctl := range [...]uint32{sioBaseHandle, sioBSPHandlePoll, sioBSPHandleSelect} {
		var base windows.Handle
		var n uint32
		err = windows.WSAIoctl(s, ioctl, nil, 0, (*byte)(unsafe.Pointer(&base)), uint32(unsafe.Sizeof(base)), &n, nil, 0)
		if err == nil && base != 0 && base != windows.InvalidHandle {
			return base, nil
		}
		if err == windows.WSAENOTSOCK {
			break
		}
	}
	if err == nil {
		err = windows.WSAENOTSOCK
	}
	return 0, os.NewSyscallError("WSAIoctl(SIO_BASE_HANDLE)", wsa.Translate(err))
}

// ntstatus turns an NTSTATUS failure into an error that names it.
type ntstatus uint32

func (s ntstatus) Error() string { return windows.NTStatus(s).Error() }

// afdPoll issues the poll request r for base with events; it returns the request's NTSTATUS
// (pending, success, or a failure). apc is the number the completion packet will carry.
func afdPoll(afd windows.Handle, r *request, apc uintptr) uint32 {
	r.iosb.Status = statusPending
	r.iosb.Information = 0
	st, _, _ := syscall.SyscallN(procNtDeviceIoControlFile.Addr(), uintptr(afd), 0, 0, apc,
		uintptr(unsafe.Pointer(&r.iosb)), ioctlAFDPoll,
		uintptr(unsafe.Pointer(&r.info)), unsafe.Sizeof(r.info),
		uintptr(unsafe.Pointer(&r.info)), unsafe.Sizeof(r.info))
	return uint32(st)
}

// afdCancel asks the kernel to cancel r. The request's packet still comes (STATUS_CANCELLED, or
// its real result if it completed first); STATUS_NOT_FOUND means it had already completed.
func afdCancel(afd windows.Handle, r *request, scratch *ioStatusBlock) uint32 {
	st, _, _ := syscall.SyscallN(procNtCancelIoFileEx.Addr(), uintptr(afd),
		uintptr(unsafe.Pointer(&r.iosb)), uintptr(unsafe.Pointer(scratch)))
	return uint32(st)
}

// getQueued is GetQueuedCompletionStatusEx; it returns how many entries were dequeued, 0 on
// timeout.
func getQueued(port windows.Handle, entries []overlappedEntry, ms uint32) (int, error) {
	var n uint32
	r, _, e := syscall.SyscallN(procGetQueuedCompletionStatEx.Addr(), uintptr(port),
		uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)), uintptr(unsafe.Pointer(&n)),
		uintptr(ms), 0)
	if r == 0 {
		if e == windows.WAIT_TIMEOUT {
			return 0, nil
		}
		return 0, os.NewSyscallError("GetQueuedCompletionStatusEx", e)
	}
	return int(n), nil
}

// The kernel reads AFD_POLL_INFO as 32 bytes on every architecture: a build whose layout differs
// fails here (an array of negative length).
var (
	_ [32 - unsafe.Sizeof(afdPollInfo{})]byte
	_ [unsafe.Sizeof(afdPollInfo{}) - 32]byte
)
