package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"govrrp/internal/config"
)

// A tracked file (keepalived's track_file) moves the priority by value ×
// weight as it is written, weight 0 puts the router in Fault while the
// value is not 0, and a reload that tracks another file follows that one.
func TestDaemonTrackFile(t *testing.T) {
	dir := t.TempDir()
	drain, down, other := filepath.Join(dir, "drain"), filepath.Join(dir, "down"), filepath.Join(dir, "other")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(drain, "2\n") // read at start: 100 - 2*10
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Files = []config.TrackFile{{Path: drain, Weight: -10}, {Path: down, Weight: 0}}
	d, _ := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	want := func(state string, prio uint8) {
		t.Helper()
		waitUntil(t, 5*time.Second, "vr "+state, func() bool {
			det, _ := d.Router("vr")
			return det.State == state && (state == "Fault" || det.EffectivePriority == prio)
		})
	}
	want("Master", 80)
	write(drain, "0x3")
	want("Master", 70)
	write(down, "1")
	want("Fault", 0)
	if err := os.Remove(down); err != nil {
		t.Fatal(err)
	}
	want("Master", 70)

	write(other, "-5")
	c.Track.Files = []config.TrackFile{{Path: other, Weight: 2}}
	if res := d.Apply(&config.Config{Routers: []config.Router{c}}); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	want("Master", 90)
	write(other, "7")
	want("Master", 114)
}
