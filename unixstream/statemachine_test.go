//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package unixstream_test

import (
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aioloop/aioloop/unixstream"
)

// streamActions are what a protocol may do to its own transport from inside a callback. Each
// returns how many bytes it had Write accept.
var streamActions = map[string]func(t *unixstream.Transport) int{
	"Close":             func(t *unixstream.Transport) int { t.Close(); return 0 },
	"Close twice":       func(t *unixstream.Transport) int { t.Close(); t.Close(); return 0 },
	"Abort":             func(t *unixstream.Transport) int { t.Abort(); return 0 },
	"Abort twice":       func(t *unixstream.Transport) int { t.Abort(); t.Abort(); return 0 },
	"Close, Abort":      func(t *unixstream.Transport) int { t.Close(); t.Abort(); return 0 },
	"Abort, Close":      func(t *unixstream.Transport) int { t.Abort(); t.Close(); return 0 },
	"Write, Close":      func(t *unixstream.Transport) int { t.Write([]byte("last")); t.Close(); return 4 },
	"WriteEOF x2 Close": func(t *unixstream.Transport) int { t.WriteEOF(); t.WriteEOF(); t.Close(); return 0 },
	"Pause, Close":      func(t *unixstream.Transport) int { t.PauseReading(); t.Close(); t.ResumeReading(); return 0 },
}

// From DataReceived, EOFReceived, PauseWriting and ResumeWriting, every action ends the
// connection one way: ConnectionLost exactly once and last, no callback after it, Write refused
// with net.ErrClosed, and after Close (not Abort) every byte Write accepted reaches the peer,
// followed by EOF.
func TestEveryStreamActionFromEveryCallback(t *testing.T) {
	const bulk = 1 << 20
	for _, from := range []string{"DataReceived", "EOFReceived", "PauseWriting", "ResumeWriting"} {
		for name, act := range streamActions {
			t.Run(from+"/"+name, func(t *testing.T) {
				l := newLoop(t)
				fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
				if err != nil {
					t.Fatal(err)
				}
				mine := os.NewFile(uintptr(fds[0]), "mine")
				pf := os.NewFile(uintptr(fds[1]), "peer")
				peer, err := net.FileConn(pf) // a duplicate
				pf.Close()
				if err != nil {
					t.Fatal(err)
				}
				defer peer.Close()
				c := &conn{keepOpen: true}
				tr, _, err := unixstream.CreateUnixConnection(l, func() unixstream.BaseProtocol { return flowConn{c} }, "",
					unixstream.ConnOptions{Sock: mine})
				mine.Close()
				if err != nil {
					t.Fatal(err)
				}
				acted, accepted := false, 0
				do := func(what string) {
					if len(c.lost) > 0 {
						t.Errorf("%s after ConnectionLost", what)
					}
					if from == what && !acted {
						acted = true
						accepted += act(tr)
					}
				}
				c.onData = func(*conn, []byte) { do("DataReceived") }
				c.onEOF = func(*conn) { do("EOFReceived") }
				c.onPause = func(*conn) { do("PauseWriting") }
				c.onResume = func(*conn) { do("ResumeWriting") }
				c.onLost = func(*conn, error) { l.CallLater(30*time.Millisecond, l.Stop) }
				// The peer reads everything until EOF, from when the flow-control cases need it.
				read := make(chan int, 1)
				startReading := func() {
					go func() {
						peer.SetReadDeadline(time.Now().Add(10 * time.Second))
						n, _ := io.Copy(io.Discard, peer)
						read <- int(n)
					}()
				}
				switch from {
				case "DataReceived":
					startReading()
					peer.Write([]byte("hello"))
				case "EOFReceived":
					startReading()
					peer.(*net.UnixConn).CloseWrite()
				case "PauseWriting", "ResumeWriting":
					tr.SetWriteBufferLimits(4096, 1024)
					l.CallSoon(func() {
						tr.Write(make([]byte, bulk)) // beyond the socket buffer: PauseWriting here
						accepted += bulk
						startReading()
					})
				}
				run(t, l)
				if !acted || len(c.lost) != 1 || c.events[len(c.events)-1] != "lost" {
					t.Fatalf("acted %v, ConnectionLost %v, events %v", acted, c.lost, c.events)
				}
				if err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("Write after ConnectionLost = %v", err)
				}
				var n int
				select {
				case n = <-read:
				case <-time.After(10 * time.Second):
					t.Fatal("the peer never saw the connection end")
				}
				if !strings.HasPrefix(name, "Abort") && !strings.Contains(name, "Abort") && n != accepted {
					t.Fatalf("the peer read %d bytes; Write accepted %d", n, accepted)
				}
			})
		}
	}
}
