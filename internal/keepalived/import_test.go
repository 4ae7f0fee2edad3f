package keepalived

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestImportGolden imports every testdata/import/*.conf with config-id lb1
// and compares the YAML and the notes with the golden files; every YAML
// written must pass govrrpd's own checks (config.Parse, as validate runs them).
func TestImportGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/import/*.conf")
	if len(files) == 0 {
		t.Fatal("no corpus")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, err := Import(f, Options{ConfigID: "lb1"})
			if err != nil {
				t.Fatal(err)
			}
			var notes strings.Builder
			for _, n := range res.Notes {
				notes.WriteString(n.String() + "\n")
			}
			fmt.Fprintf(&notes, "outcome: %s\n", []string{"complete", "partial", "nothing"}[res.Outcome()])
			base := strings.TrimSuffix(f, ".conf")
			golden(t, base+".yaml", string(res.YAML))
			golden(t, base+".stderr", notes.String())
			if res.Routers > 0 {
				c, err := config.Parse(base+".yaml", res.YAML)
				if err != nil {
					t.Fatalf("the imported YAML fails govrrpd's checks:\n%v\n%s", err, res.YAML)
				}
				if len(c.Routers) != res.Routers {
					t.Errorf("%d routers parsed, %d written", len(c.Routers), res.Routers)
				}
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestImportScriptUserNotLookedUp: a vrrp_script's user is written as it is,
// whether or not this host has it: the import may run on another box than
// the target, where govrrp validate checks it.
func TestImportScriptUserNotLookedUp(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.conf")
	conf := "vrrp_script chk {\n script /bin/true\n user no-such-user-x no-such-group-x\n}\n" +
		"vrrp_instance A {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  10.77.0.9/24\n }\n track_script {\n  chk\n }\n}\n"
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Import(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != Complete || !strings.Contains(string(res.YAML), "user: no-such-user-x\n    group: no-such-group-x\n") {
		t.Errorf("outcome %d, notes %v, YAML:\n%s", res.Outcome(), res.Notes, res.YAML)
	}
}

// TestImportSyncMemberWeightedScript: keepalived 2.2.7 does not track a
// weighted script of a sync group member without sync_group_tracking_weight,
// and does not run a script no one tracks; the import leaves both out.
func TestImportSyncMemberWeightedScript(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k.conf")
	conf := "vrrp_script chk {\n script /bin/true\n weight -20\n}\nvrrp_sync_group G {\n group {\n  A\n }\n}\n" +
		"vrrp_instance A {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  10.77.0.9/24\n }\n track_script {\n  chk\n }\n}\n"
	if err := os.WriteFile(p, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Import(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if y := string(res.YAML); strings.Contains(y, "chk") {
		t.Errorf("the weighted script is still written:\n%s", y)
	}
	if _, err := config.Parse("k.yaml", res.YAML); err != nil {
		t.Error(err)
	}
}
