//go:build linux

package load

import (
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var s []time.Duration
	for i := 1000; i >= 1; i-- {
		s = append(s, time.Duration(i))
	}
	var r Result
	percentiles(&r, s)
	if r.P50 != 501 || r.P99 != 991 || r.P999 != 1000 {
		t.Fatalf("p50 %v p99 %v p999 %v", r.P50, r.P99, r.P999)
	}
	r = Result{}
	percentiles(&r, nil)
	if r.P50 != 0 {
		t.Fatal("percentiles of nothing")
	}
}

// Bad parameters are refused before any socket, with the field named.
func TestBadPhasesAreRefused(t *testing.T) {
	span := Span{Duration: time.Second}
	for _, c := range []struct {
		run  func() (Result, error)
		want string
	}{
		{UDP{Addr: "localhost:9", Span: span}.Run, `UDP address "localhost:9"`},
		{UDP{Addr: "127.0.0.1:9", Size: 70000, Span: span}.Run, "UDP Size 70000"},
		{UDP{Addr: "127.0.0.1:9"}.Run, "needs a Duration or a Count"},
		{Stream{Span: span}.Run, "Stream needs a Path"},
		{Stream{Path: "/x", Msg: 64, Window: 32, Span: span}.Run, "Window 32"},
		{Stream{Path: "/x", Chunk: 1 << 20, Span: span}.Run, "Chunk 1048576"},
		{RTT{Network: "tcp", Addr: "x", Span: span}.Run, `RTT Network "tcp"`},
		{RTT{Network: "unix", Addr: t.TempDir() + "/none.sock", Span: span}.Run, "connect"},
		{UDPRecv{Addr: "127.0.0.1:9", Size: 70000, Span: span}.Run, "UDPRecv Size 70000"},
		{UDPRecv{Addr: "127.0.0.1:9", Segments: 65, Span: span}.Run, "UDPRecv Segments 65"},
		{UDPRecv{Addr: "127.0.0.1:9"}.Run, "UDPRecv needs a Duration"},
		{UDPBurst{Addr: "127.0.0.1:9", Burst: 70000, Span: span}.Run, "UDPBurst: wire: a burst"},
		{UDPBurst{Addr: "127.0.0.1:9", Sockets: 100, Span: span}.Run, "UDPBurst Sockets 100"},
		{UDPBurst{Addr: "x", Span: span}.Run, `UDP address "x"`},
	} {
		_, err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one naming %q", err, c.want)
		}
	}
}

func TestResultString(t *testing.T) {
	r := Result{Phase: "udp", Messages: 2000, Bytes: 128000, Elapsed: time.Second, Busy: 0.5, ServerBusy: 0.25, Lost: 3}
	if s := r.String(); !strings.Contains(s, "2000 msg/s") || !strings.Contains(s, "lost 3") ||
		!strings.Contains(s, "loadgen busy 50%, server busy 25%") {
		t.Fatal(s)
	}
}
