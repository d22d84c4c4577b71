package wsa_test

import (
	"testing"

	"github.com/aioloop/aioloop/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
