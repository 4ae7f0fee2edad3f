package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/config"
)

// TestImportExitStatus: 0 all translated, 3 written with something left
// out, 1 nothing usable, 2 usage; -o writes the file, which validates.
func TestImportExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.conf", "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  10.77.0.9/24\n }\n}\n")
	part := write("part.conf", "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n dont_track_primary\n virtual_ipaddress {\n  10.77.0.9/24\n }\n}\n")
	none := write("none.conf", "virtual_server 10.77.0.1 80 {\n}\n")
	out := filepath.Join(dir, "out.yaml")
	for _, tc := range []struct {
		args   []string
		want   int
		stderr string
	}{
		{[]string{"import", "keepalived", full, "-o", out}, 0, ""},
		{[]string{"import", "keepalived", part, "--config-id", "x"}, 3, "part.conf:4: dont_track_primary: govrrpd always tracks its interface"},
		{[]string{"import", "keepalived", none}, 1, "virtual_server: LVS"},
		{[]string{"import", "keepalived", filepath.Join(dir, "missing.conf")}, 1, "no such file"},
		{[]string{"import", full}, 2, "Usage: govrrp import keepalived"},
	} {
		var so, se bytes.Buffer
		if got := run(tc.args, &so, &se); got != tc.want || !strings.Contains(se.String(), tc.stderr) {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", tc.args, got, tc.want, se.String())
		}
	}
	if _, err := config.Load(out); err != nil {
		t.Errorf("-o file: %v", err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("-o file mode: %v %v", fi, err)
	}
}
