package daemon

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"govrrp/internal/config"
)

// Reload re-reads the daemon's file: a file that fails validation is
// refused with its place and the running configuration stays (no router
// touched); a valid one is applied like Apply.
func TestDaemonReloadFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "govrrpd.yaml")
	yaml := func(prio string) string {
		return "routers:\n  - name: vr\n    interface: eth0\n    vrid: 1\n    priority: " + prio +
			"\n    advert_interval: 10ms\n    addresses: [10.78.0.1/24]\n"
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(yaml("100"))
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	d, fn := fakeDaemon(cfg)
	d.file = file
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	det, _ := d.Router("vr")
	before := len(det.Transitions)

	if res := d.Reload(); !res.OK || !slices.Equal(res.Unchanged, []string{"vr"}) {
		t.Fatalf("reload of the same file: %+v", res)
	}
	write(yaml("300"))
	res := d.Reload()
	if res.OK || !strings.Contains(res.Error, file+":5:") {
		t.Fatalf("reload of a bad file: %+v, want refused at line 5", res)
	}
	write(yaml("150"))
	if res := d.Reload(); !res.OK || !slices.Equal(res.Updated, []string{"vr"}) {
		t.Fatalf("reload: %+v", res)
	}
	wantRouter(t, d, fn, "vr", 1, "Master", 150)
	if det, _ := d.Router("vr"); len(det.Transitions) != before {
		t.Fatalf("the reloads moved the router: %+v", det.Transitions[before:])
	}
}
