package unixstream_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/aioloop/aioloop/loop"
	"github.com/aioloop/aioloop/unixstream"
)

// Out of descriptors, the server does not spin on a listener that stays readable: it reports
// EMFILE, stops accepting for a while, and accepts the waiting connections once it can.
//
// Fault: EMFILE on accept → reported once, accepting rests and resumes; no spin; the waiting clients are served
func TestAcceptPausesOnEMFILE(t *testing.T) {
	l := newLoop(t)
	accepted := threeWaiting(t, l, sockPath(t, "emfile.sock"))
	var old unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &old)
	ents, _ := os.ReadDir("/proc/self/fd")
	low := unix.Rlimit{Cur: uint64(len(ents) - 1), Max: old.Max} // ReadDir's own descriptor is closed again
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
		}
	}
	defer restore()
	var reports []loop.Exception
	l.SetExceptionHandler(func(e loop.Exception) {
		reports = append(reports, e)
		restore() // descriptors again; accepting resumes after the pause
	})
	acceptRested(t, l, accepted, &reports, syscall.EMFILE)
}

// threeWaiting starts a server at path whose third accepted connection stops l, with three clients
// already waiting in its backlog, and returns the count of connections it accepted.
func threeWaiting(t *testing.T, l *loop.Loop, path string) *int {
	accepted := new(int)
	server(t, l, path, func() unixstream.BaseProtocol {
		*accepted++
		return &conn{onMade: func(*conn) {
			if *accepted == 3 {
				l.Stop()
			}
		}}
	})
	for range 3 {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
			t.Fatal(err)
		}
	}
	return accepted
}

// acceptRested runs l and checks that the three waiting clients were accepted after one report
// of errno that said accepting pauses, and that the accept loop did not spin meanwhile.
func acceptRested(t *testing.T, l *loop.Loop, accepted *int, reports *[]loop.Exception, errno syscall.Errno) {
	t.Helper()
	before := l.Stats().Events
	run(t, l)
	if *accepted != 3 {
		t.Fatalf("accepted %d of 3", *accepted)
	}
	if len(*reports) != 1 || !errors.Is((*reports)[0].Err, errno) || !strings.Contains((*reports)[0].Message, "pausing accept") {
		t.Fatalf("reports %+v", *reports)
	}
	if ev := l.Stats().Events - before; ev > 20 {
		t.Fatalf("%d readiness events while accept failed with %v: the accept loop spins", ev, errno)
	}
}
