package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMain builds govrrpd from the tree under test, with the race detector,
// once for every scenario.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "govrrp-interop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	GovrrpdBin = filepath.Join(dir, "govrrpd")
	if out, err := exec.Command("go", "build", "-race", "-o", GovrrpdBin, "govrrp/cmd/govrrpd").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build govrrpd: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
