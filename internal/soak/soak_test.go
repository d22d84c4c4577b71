//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package soak

import (
	"testing"
	"time"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// The short soak of make test: a few seconds of everything at once, every promise checked.
func TestShortSoak(t *testing.T) {
	d := 3 * time.Second
	if testing.Short() {
		d = time.Second
	}
	r, err := Run(Config{Duration: d, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if !r.OK() {
		t.Fatal(r)
	}
	for _, k := range kindNames {
		if r.Sessions[k] == 0 && k != "tls-garbage" {
			t.Errorf("no %s session ran", k)
		}
	}
}

func TestBadConfig(t *testing.T) {
	if _, err := Run(Config{}); err == nil {
		t.Fatal("a soak of no duration ran")
	}
}
