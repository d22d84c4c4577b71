//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || windows)

package sock

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"
)

// ErrUnsupported: no socket layer for this operating system yet (Windows arrives with IOCP).
var ErrUnsupported = errors.New("sock: not supported on this operating system yet")

// ErrPathTooLong is returned for a Unix socket path longer than sockaddr_un can hold.
var ErrPathTooLong = errors.New("path too long for a Unix socket address")

// MaxPathLen is the longest Unix socket path.
const MaxPathLen = 107

// PathLimit is the longest Unix address of path's kind.
func PathLimit(string) int { return MaxPathLen }

// Zones stands in for the zone cache of the Unix implementation.
type Zones struct{}

// Sockaddr stands in for the raw address of the Unix implementation.
type Sockaddr struct{}

func (*Sockaddr) Len() int                                     { return 0 }
func (*Sockaddr) Family() int                                  { return 0 }
func (*Sockaddr) SetAddrPort(netip.AddrPort, int, *Zones) bool { return false }
func (*Sockaddr) SetPath(string) bool                          { return false }
func (*Sockaddr) AddrPort(*Zones) (netip.AddrPort, bool)       { return netip.AddrPort{}, false }
func (*Sockaddr) Path() ([]byte, bool)                         { return nil, false }
func Socket(family, sotype, proto int) (int, error)            { return -1, ErrUnsupported }
func SetReusePort(int) error                                   { return ErrUnsupported }
func SetBroadcast(int) error                                   { return ErrUnsupported }
func SetV6Only(int, bool) error                                { return ErrUnsupported }
func Bind(int, int, netip.AddrPort, string) error              { return ErrUnsupported }
func Connect(int, int, netip.AddrPort, string) error           { return ErrUnsupported }
func LocalAddr(int) (netip.AddrPort, string, error)            { return netip.AddrPort{}, "", ErrUnsupported }
func PeerAddr(int) (netip.AddrPort, string, bool)              { return netip.AddrPort{}, "", false }
func Close(int) error                                          { return ErrUnsupported }
func DupFile(int, string) (*os.File, error)                    { return nil, ErrUnsupported }
func Bound(string) (bool, error)                               { return false, ErrUnsupported }
func Temporary(error) bool                                     { return false }
func SendTo(int, []byte, *Sockaddr) error                      { return ErrUnsupported }
func NewRecvBatch(n, size int) *RecvBatch                      { return &RecvBatch{} }
func NewSendBatch(n int) *SendBatch                            { return &SendBatch{} }
func (*RecvBatch) Cap() int                                    { return 0 }
func (*RecvBatch) Recv(int) (int, error)                       { return 0, ErrUnsupported }
func (*RecvBatch) Msg(int) ([]byte, *Sockaddr, bool)           { return nil, nil, false }
func (*SendBatch) Send(int, []Datagram) (int, error)           { return 0, ErrUnsupported }
func Adopt(syscall.RawConn) (Info, error)                      { return Info{}, ErrUnsupported }

// Info is what a socket handed over by a caller turns out to be.
type Info struct{ FD, Family, Type int }

// Datagram is one outgoing datagram.
type Datagram struct {
	Data []byte
	To   Sockaddr
}

// RecvBatch stands in for the Unix implementation.
type RecvBatch struct{}

// SendBatch stands in for the Unix implementation.
type SendBatch struct{}

// Credentials are a Unix socket peer's ids.
type Credentials struct {
	PID      int
	UID, GID uint32
}

// Writer stands in for the Unix implementation.
type Writer struct{}

func NewWriter(int) *Writer                       { return &Writer{} }
func (*Writer) Writev(int, [][]byte) (int, error) { return 0, ErrUnsupported }
func Read(int, []byte) (int, error)               { return 0, ErrUnsupported }
func Write(int, []byte) (int, error)              { return 0, ErrUnsupported }
func Accept(int) (int, error)                     { return -1, ErrUnsupported }
func Listen(int, int) error                       { return ErrUnsupported }
func ShutdownWrite(int) error                     { return ErrUnsupported }
func Shutdown(int) error                          { return ErrUnsupported }
func WaitConnected(int, time.Duration) error      { return ErrUnsupported }
func InProgress(error) bool                       { return false }
func PeerCredentials(int) (Credentials, error)    { return Credentials{}, ErrUnsupported }
func Errno(error) syscall.Errno                   { return 0 }
