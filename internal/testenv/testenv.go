// Package testenv decides what a test does when the machine lacks something
// it needs: under CI (CI=true) a missing privilege or tool is a failure, never
// a skip; elsewhere the test skips with a one-line reason. It also holds the
// few checks on the machine's state that tests of several packages share.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing stops the test for a lack of the machine's (a user, a file):
// a failure under CI, a skip with reason elsewhere.
func Missing(t testing.TB, reason string) {
	t.Helper()
	missing(t, reason)
}

func missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true: %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot stops the test unless it runs as root (network namespaces,
// raw sockets, netlink changes need it).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root (network namespaces and raw sockets); run `sudo make test`")
	}
}

// RequireTool returns the path of an external program, stopping the test
// when it is not installed. `make test` installs the Debian packages.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" is not installed; `make deps` (as root) installs it")
	}
	return p
}
