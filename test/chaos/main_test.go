package chaos

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"govrrp/test/interop"
)

// bin holds the binaries under test, built as shipped (no race detector,
// which slows the daemon about tenfold and would be what the floods
// measure).
var bin struct{ govrrpd, govrrp string }

func TestMain(m *testing.M) {
	flag.Parse()
	if !*flagReport {
		os.Exit(m.Run()) // TestChaos skips; no build for make test
	}
	dir, err := os.MkdirTemp("", "govrrp-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.govrrpd, bin.govrrp = filepath.Join(dir, "govrrpd"), filepath.Join(dir, "govrrp")
	for _, b := range [][2]string{{bin.govrrpd, "govrrp/cmd/govrrpd"}, {bin.govrrp, "govrrp/cmd/govrrp"}} {
		if out, err := exec.Command("go", "build", "-trimpath", "-o", b[0], b[1]).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b[1], err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	interop.GovrrpdBin = bin.govrrpd
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
