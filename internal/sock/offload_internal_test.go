//go:build linux

package sock

import "testing"

func TestBrokenGSOKernels(t *testing.T) {
	for release, broken := range map[string]bool{
		"6.18.5": false, "7.0.0-rc1": true, "7.0.3": true, "7.1.0-rc2-foo": true, "7.1.0-rc4": true,
		"7.1.0-rc5": false, "7.1.0": false, "7.2.1": false, "5.4.0": false, "": false, "x": false,
	} {
		if got := brokenGSO(release); got != broken {
			t.Errorf("brokenGSO(%q) = %v, want %v", release, got, broken)
		}
	}
}
