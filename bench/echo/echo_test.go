//go:build linux

package echo_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aioloop/aioloop/bench/echo"
	"github.com/aioloop/aioloop/bench/load"
)

// start starts impl on a free UDP port and a Unix socket in a temporary directory, closed when
// the test ends.
func start(t testing.TB, impl string) (echo.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "echo.sock")
	s, err := echo.Start(impl, echo.Config{UDP: "127.0.0.1:0", Unix: path})
	if err != nil {
		t.Fatalf("%s: %v", impl, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("%s: Close: %v", impl, err)
		}
	})
	return s, path
}

// Every implementation echoes every phase of the load generator, and counts what it echoed.
func TestEveryImplementationEchoesEveryPhase(t *testing.T) {
	for _, impl := range echo.Impls {
		t.Run(impl, func(t *testing.T) {
			s, path := start(t, impl)
			span := load.Span{Count: 2000, Duration: 20 * time.Second}
			phases := []func() (load.Result, error){
				load.UDP{Addr: s.UDPAddr(), Span: span}.Run,
				load.RTT{Network: "udp", Addr: s.UDPAddr(), Span: load.Span{Count: 200, Duration: 20 * time.Second}}.Run,
				load.Stream{Path: path, Span: span}.Run,
				load.Stream{Path: path, Chunk: 4096, Span: span}.Run,
				load.RTT{Network: "unix", Addr: path, Span: load.Span{Count: 200, Duration: 20 * time.Second}}.Run,
			}
			for _, run := range phases {
				r, err := run()
				if err != nil {
					t.Fatal(err)
				}
				if r.Messages < span.Count/10 || r.Bytes <= 0 || r.Elapsed <= 0 {
					t.Fatalf("%s: %+v", r.Phase, r)
				}
				if strings.HasSuffix(r.Phase, "rtt") && (r.P50 <= 0 || r.P99 < r.P50 || r.P999 < r.P99) {
					t.Fatalf("%s: percentiles %v %v %v", r.Phase, r.P50, r.P99, r.P999)
				}
			}
			st := s.Stats()
			if st.Datagrams < 2200 || st.UDPBytes != 64*st.Datagrams || st.StreamBytes < 2200*64 || st.Conns < 8 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	for _, c := range []struct {
		impl string
		cfg  echo.Config
		want string
	}{
		{"aioloop", echo.Config{}, "nothing to serve"},
		{"nope", echo.Config{UDP: "127.0.0.1:0"}, `unknown implementation "nope"`},
		{"std", echo.Config{UDP: "127.0.0.1:0", Loops: 2}, "Loops, PollSpin and NoOffload are aioloop's"},
		{"gnet", echo.Config{UDP: "127.0.0.1:0", PollSpin: time.Microsecond}, "Loops, PollSpin and NoOffload are aioloop's"},
		{"aioloop", echo.Config{UDP: "127.0.0.1:0", Loops: -1}, "Loops is -1"},
	} {
		s, err := echo.Start(c.impl, c.cfg)
		if err == nil {
			s.Close()
			t.Fatalf("%s %+v: no error", c.impl, c.cfg)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s %+v: %v, want %q", c.impl, c.cfg, err, c.want)
		}
	}
}

// Several aioloop loops share the UDP port; each answers.
func TestAioloopLoopsShareThePort(t *testing.T) {
	s, err := echo.Start("aioloop", echo.Config{UDP: "127.0.0.1:0", Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := load.UDP{Addr: s.UDPAddr(), Sockets: 16, Span: load.Span{Count: 5000, Duration: 20 * time.Second}}.Run()
	if err != nil || r.Messages < 5000 {
		t.Fatalf("%+v %v", r, err)
	}
}

// Every implementation serves the bulk port: the one-way phase's count matches what the server
// sunk, and every burst datagram the generator counts (GRO buffers split by their segment size)
// was sent by the server.
func TestEveryImplementationServesTheBulkPort(t *testing.T) {
	for _, impl := range echo.Impls {
		t.Run(impl, func(t *testing.T) {
			s, err := echo.Start(impl, echo.Config{BulkUDP: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			recv, err := load.UDPRecv{Addr: s.BulkAddr(), Span: load.Span{Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond}}.Run()
			if err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if recv.Messages <= 0 || uint64(recv.Messages) > st.Sunk || recv.Bytes != 1200*recv.Messages {
				t.Fatalf("udp-recv %+v; the server sunk %d", recv, st.Sunk)
			}
			burst, err := load.UDPBurst{Addr: s.BulkAddr(), Span: load.Span{Count: 5000, Duration: 20 * time.Second}}.Run()
			if err != nil {
				t.Fatal(err)
			}
			st = s.Stats()
			if burst.Messages < 5000 || uint64(burst.Messages) > st.BurstSent || st.BurstSent%32 != 0 {
				t.Fatalf("udp-burst %+v; the server sent %d in bursts", burst, st.BurstSent)
			}
		})
	}
}
