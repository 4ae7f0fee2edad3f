// Package version holds what the build knows about itself, set by `make
// build` and `make package` with -ldflags "-X govrrp/internal/version.Version=...
// -X ...Commit=... -X ...Date=..." (scripts/version.sh derives them from git).
package version

import (
	"fmt"
	"runtime"
)

// Set at link time; "dev" and "unknown" for a plain go build.
var (
	// Version is the release, from the git tag: 0.2.0 at tag v0.2.0,
	// 0.2.0+3.gabc1234 three commits later (a valid Debian version too).
	Version = "dev"
	// Commit is the full git commit hash the binary was built from.
	Commit = "unknown"
	// Date is the build date, RFC 3339 in UTC: SOURCE_DATE_EPOCH when set,
	// else the commit's time, so that the same commit builds the same bytes.
	Date = "unknown"
)

// String is what `--version` prints: the program, the version, the commit,
// the Go version and the build date, on one line.
func String(prog string) string {
	return fmt.Sprintf("%s %s (commit %s, %s, built %s)", prog, Version, Commit, runtime.Version(), Date)
}
