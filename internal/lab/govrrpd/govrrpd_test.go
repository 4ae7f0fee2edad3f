package govrrpd_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/lab/govrrpd"
)

const routers = `log: {level: debug}
routers:
  - {name: gw, interface: eth0, vrid: 51, priority: 150, advert_interval: 100ms, addresses: [10.77.0.254/24]}
`

// The harness's life cycle on a real daemon: start and wait for the API,
// wait for a state, kill -9, start again over what the killed one left,
// stop with SIGTERM and exit 0, a clean log.
func TestLifeCycle(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	bin := filepath.Join(t.TempDir(), "govrrpd")
	if out, err := exec.Command("go", "build", "-o", bin, "govrrp/cmd/govrrpd").CombinedOutput(); err != nil {
		t.Fatalf("build govrrpd: %v\n%s", err, out)
	}
	d := govrrpd.NewT(t, lan.Nodes[0], "r1/govrrp", bin, t.TempDir())
	d.StartT(t, routers)
	if _, err := d.WaitState("gw", "Master", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	pid := d.PID()
	if u := d.Usage(); u.RSS == 0 {
		t.Errorf("usage %+v", u)
	}
	if err := d.Kill(); err != nil || d.Running() {
		t.Fatalf("kill: %v, running %v", err, d.Running())
	}
	d.LaunchT(t)
	if d.PID() == pid {
		t.Fatal("same pid after a restart")
	}
	if _, err := d.WaitState("gw", "Master", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if strings.Count(d.Logs(), "=== ") != 2 || d.CheckLog() != "" {
		t.Errorf("log: two starts, nothing bad wanted:\n%s", d.LogTail(20))
	}
}
