package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/testenv"
)

// TestScriptInitUnknown: a script with init unknown (keepalived's without
// init_fail) has no state until its first result, which decides at once
// despite rise 3. Until then a router tracking it with weight 0 waits in
// Initialize, sending nothing, as keepalived holds the instance in INIT;
// one tracking it with a weight runs at its configured priority. A script
// with init failed (the default, keepalived's init_fail) lowers the
// priority until rise successes.
func TestScriptInitUnknown(t *testing.T) {
	sh := testenv.RequireTool(t, "sh")
	flag := filepath.Join(t.TempDir(), "flag")
	// The first run lasts until the test creates the flag; later ones pass.
	slow := []string{sh, "-c", "while [ ! -e " + flag + " ]; do sleep 0.01; done"}
	script := func(unknown bool) config.Script {
		return config.Script{Exec: slow, Interval: 20 * time.Millisecond, Timeout: 10 * time.Second, Rise: 3, Fall: 1, InitUnknown: unknown}
	}
	hold := routerCfg("hold", 1, 100, 10*time.Millisecond)
	hold.Track.Scripts = []config.TrackItem{{Name: "unknown"}}
	weighted := routerCfg("weighted", 2, 100, 10*time.Millisecond)
	weighted.Track.Scripts = []config.TrackItem{{Name: "unknown", Weight: -10}}
	failed := routerCfg("failed", 3, 100, 10*time.Millisecond)
	failed.Track.Scripts = []config.TrackItem{{Name: "failed", Weight: -10}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{hold, weighted, failed},
		Scripts: map[string]config.Script{"unknown": script(true), "failed": script(false)}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "weighted", 2, "Master", 100)
	wantRouter(t, d, fn, "failed", 3, "Master", 90)
	// Both are Master, past Master_Down_Interval: the held one has not
	// started.
	if det, _ := d.Router("hold"); det.State != "Initialize" {
		t.Fatalf("hold is %s before the script's first result, want Initialize", det.State)
	}
	if _, sent := lastAdvert(fn, 1); sent {
		t.Fatal("hold sent an advert before the script's first result")
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantRouter(t, d, fn, "hold", 1, "Master", 100)
	wantRouter(t, d, fn, "weighted", 2, "Master", 100)
	wantRouter(t, d, fn, "failed", 3, "Master", 100)
}

// TestReloadTracksRunningScriptState: a reload that makes a running router
// track a script already running for another starts it from the script's
// state now. The script reports only changes, so a router that started
// from "failed" kept the lowered priority while the script passed.
func TestReloadTracksRunningScriptState(t *testing.T) {
	tr := testenv.RequireTool(t, "true")
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	z := routerCfg("z", 2, 100, 10*time.Millisecond)
	z.Track.Scripts = []config.TrackItem{{Name: "chk", Weight: -10}}
	scripts := map[string]config.Script{"chk": {Exec: []string{tr}, Interval: 20 * time.Millisecond, Timeout: time.Second, Rise: 1, Fall: 1}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a, z}, Scripts: scripts})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "z", 2, "Master", 100)
	wantRouter(t, d, fn, "a", 1, "Master", 100)
	a.Track.Scripts = []config.TrackItem{{Name: "chk", Weight: -10}}
	if res := d.Apply(&config.Config{Routers: []config.Router{a, z}, Scripts: scripts}); !res.OK || len(res.Updated) != 1 {
		t.Fatalf("reload: %+v", res)
	}
	if det, _ := d.Router("a"); det.EffectivePriority != 100 {
		t.Fatalf("a tracks a passing script at priority %d, want 100", det.EffectivePriority)
	}
}

// TestReloadReleasesHeldRouter: a router waiting in Initialize for its
// init-unknown weight-0 script starts when a reload stops it waiting: the
// tracking removed, or its weight made non-zero (a weighted script that
// has not reported counts as passing). It stayed in Initialize until the
// script's first result, which here never comes.
func TestReloadReleasesHeldRouter(t *testing.T) {
	sh := testenv.RequireTool(t, "sh")
	flag := filepath.Join(t.TempDir(), "flag")
	slow := []string{sh, "-c", "while [ ! -e " + flag + " ]; do sleep 0.01; done"}
	defer os.WriteFile(flag, nil, 0o644) // lets the script's run end
	scripts := map[string]config.Script{"chk": {Exec: slow, Interval: 20 * time.Millisecond, Timeout: 10 * time.Second, Rise: 1, Fall: 1, InitUnknown: true}}
	gone := routerCfg("gone", 1, 100, 10*time.Millisecond)
	gone.Track.Scripts = []config.TrackItem{{Name: "chk"}}
	weighted := routerCfg("weighted", 2, 100, 10*time.Millisecond)
	weighted.Track.Scripts = []config.TrackItem{{Name: "chk"}}
	other := routerCfg("other", 3, 100, 10*time.Millisecond)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{gone, weighted, other}, Scripts: scripts})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "other", 3, "Master", 100)
	for _, name := range []string{"gone", "weighted"} {
		if det, _ := d.Router(name); det.State != "Initialize" {
			t.Fatalf("%s is %s before the script's first result, want Initialize", name, det.State)
		}
	}
	gone.Track.Scripts = nil
	weighted.Track.Scripts = []config.TrackItem{{Name: "chk", Weight: -10}}
	if res := d.Apply(&config.Config{Routers: []config.Router{gone, weighted, other}, Scripts: scripts}); !res.OK || len(res.Updated) != 2 {
		t.Fatalf("reload: %+v", res)
	}
	wantRouter(t, d, fn, "gone", 1, "Master", 100)
	wantRouter(t, d, fn, "weighted", 2, "Master", 100)
}
