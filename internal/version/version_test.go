package version

import (
	"runtime"
	"testing"
)

// --version says the version, the commit, the Go version and the build date
// (issue 15).
func TestString(t *testing.T) {
	defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
	Version, Commit, Date = "0.2.0", "0123abc", "2026-12-01T00:00:00Z"
	want := "govrrpd 0.2.0 (commit 0123abc, " + runtime.Version() + ", built 2026-12-01T00:00:00Z)"
	if got := String("govrrpd"); got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
