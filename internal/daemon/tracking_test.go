package daemon

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/internal/testenv"
)

// Unit tests of the wiring from internal/track to the state machine: what
// a tracked object reports must reach fsm.Router as its priority (and so
// the adverts on the wire) or as a Fault. The namespace suite covers the
// same end to end; these run without root.

// lastAdvert returns the priority of the latest advert the router of vrid
// wrote on eth0, and whether it wrote any.
func lastAdvert(fn *fakeNet, vrid uint8) (uint8, bool) {
	s := fn.sock("eth0")
	if s == nil {
		return 0, false
	}
	out := s.written()
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].VRID == vrid {
			return out[i].Priority, true
		}
	}
	return 0, false
}

// wantRouter waits until router name is in state and, unless Fault, runs
// at priority prio and has put it in an advert.
func wantRouter(t *testing.T, d *Daemon, fn *fakeNet, name string, vrid uint8, state string, prio uint8) {
	t.Helper()
	waitUntil(t, 5*time.Second, name+" "+state, func() bool {
		det, ok := d.Router(name)
		if !ok || det.State != state {
			return false
		}
		if state == "Fault" {
			return true
		}
		p, sent := lastAdvert(fn, vrid)
		return det.EffectivePriority == prio && sent && p == prio
	})
}

// Tracking scripts reach the state machine: a failing
// script's weight lowers the priority the Master advertises, a failing
// weight-0 script puts the router in Fault, and both clear when the
// scripts pass again. A reload that changes a weight applies it in place:
// no restart, no transition; the scripts run on, except one the
// configuration no longer has.
func TestDaemonTrackScript(t *testing.T) {
	dir := t.TempDir()
	up, down := filepath.Join(dir, "up"), filepath.Join(dir, "down")
	touch := func(p string) {
		t.Helper()
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rm := func(p string) {
		t.Helper()
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	sh := testenv.RequireTool(t, "sh")
	script := func(cond string) config.Script {
		return config.Script{Exec: []string{sh, "-c", cond}, Interval: 10 * time.Millisecond, Timeout: 5 * time.Second, Rise: 1, Fall: 1}
	}
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Scripts = []config.TrackItem{{Name: "up", Weight: -30}, {Name: "down"}}
	scripts := map[string]config.Script{"up": script("test -e " + up), "down": script("test ! -e " + down)}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}, Scripts: scripts})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()

	wantRouter(t, d, fn, "vr", 1, "Master", 70) // "up" fails: 100-30
	touch(up)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	touch(down)
	wantRouter(t, d, fn, "vr", 1, "Fault", 0)
	if det, _ := d.Router("vr"); det.FaultReason != "track-fault" {
		t.Fatalf("fault reason %q, want track-fault", det.FaultReason)
	}
	// A Master that enters Fault with its link up resigns: priority 0.
	if p, _ := lastAdvert(fn, 1); p != 0 {
		t.Fatalf("last advert before the Fault at priority %d, want 0", p)
	}
	rm(down)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	rm(up)
	wantRouter(t, d, fn, "vr", 1, "Master", 70)

	det, _ := d.Router("vr")
	before := len(det.Transitions)
	// A new slice: the running configuration holds the old one.
	c.Track.Scripts = []config.TrackItem{{Name: "up", Weight: -50}, {Name: "down"}}
	res := d.Apply(&config.Config{Routers: []config.Router{c}, Scripts: scripts})
	if !res.OK || !slices.Equal(res.Updated, []string{"vr"}) {
		t.Fatalf("reload: %+v, want vr updated in place", res)
	}
	wantRouter(t, d, fn, "vr", 1, "Master", 50)
	if det, _ := d.Router("vr"); len(det.Transitions) != before {
		t.Fatalf("a weight change moved the router: %+v", det.Transitions[before:])
	}
	// The scripts still run after the reload (it stopped them all).
	touch(up)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	rm(up)
	wantRouter(t, d, fn, "vr", 1, "Master", 50)

	// A script the configuration no longer has is stopped (its process
	// killed); the others run on.
	c.Track.Scripts = []config.TrackItem{{Name: "up", Weight: -50}}
	if res := d.Apply(&config.Config{Routers: []config.Router{c}, Scripts: map[string]config.Script{"up": scripts["up"]}}); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	d.mu.RLock()
	_, downRuns := d.scripts["down"]
	_, upRuns := d.scripts["up"]
	d.mu.RUnlock()
	if downRuns || !upRuns {
		t.Fatalf("after a reload that drops the script down: down runs %v, up runs %v", downRuns, upRuns)
	}
	touch(up)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}

// The tracked interfaces' state at start is applied before the router
// starts: an owner tracking a missing interface with weight 0
// starts in Fault, not Master with an advert and a GARP burst [5798-6.4.1-a], and a router tracking
// one with a weight starts at the lowered priority, which its first
// transition records. The link watcher's first report comes later, so the
// router cannot wait for it.
func TestDaemonTrackedInterfaceDownAtStart(t *testing.T) {
	o := routerCfg("owner", 1, 255, 10*time.Millisecond)
	o.Track.Interfaces = []config.TrackItem{{Name: "uplink"}}
	w := routerCfg("weighted", 2, 100, 10*time.Millisecond)
	w.Track.Interfaces = []config.TrackItem{{Name: "uplink", Weight: -30}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{o, w}})
	fn.setIndex("uplink", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "weighted", 2, "Master", 70)
	det, _ := d.Router("owner")
	if det.State != "Fault" || det.FaultReason != "track-fault" {
		t.Fatalf("owner %s (%q), want Fault (track-fault): its tracked interface is missing", det.State, det.FaultReason)
	}
	for _, tr := range det.Transitions {
		if tr.To == "Master" {
			t.Fatalf("owner was Master with its tracked interface missing: %+v", det.Transitions)
		}
	}
	if _, sent := lastAdvert(fn, 1); sent {
		t.Fatal("owner sent an advert with its tracked interface missing")
	}
	// (An owner's addresses are the interface's own: never installed.)
	waitUntil(t, 5*time.Second, "weighted's address", func() bool { return fn.addrs.count() == 1 })
	wdet, _ := d.Router("weighted")
	for _, tr := range wdet.Transitions {
		if tr.Priority != 70 {
			t.Fatalf("weighted ran at priority %d before tracking applied: %+v", tr.Priority, wdet.Transitions)
		}
	}

	// The interface appears: both run on their own priority.
	d.linkChanged(fn.setIndex("uplink", 3))
	wantRouter(t, d, fn, "owner", 1, "Master", 255)
	wantRouter(t, d, fn, "weighted", 2, "Master", 100)
}

// A reload that tracks another interface, changes a weight or stops
// tracking one applies it in place, from the interfaces' current state,
// and keeps the state of what stays tracked.
func TestReloadRetracks(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Interfaces = []config.TrackItem{{Name: "a", Weight: -10}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	d.linkChanged(fn.setIndex("a", 0))
	wantRouter(t, d, fn, "vr", 1, "Master", 90)
	det, _ := d.Router("vr")
	before := len(det.Transitions)

	apply := func(items ...config.TrackItem) {
		t.Helper()
		c.Track.Interfaces = items
		if res := d.Apply(&config.Config{Routers: []config.Router{c}}); !res.OK || !slices.Equal(res.Updated, []string{"vr"}) {
			t.Fatalf("reload: %+v, want vr updated in place", res)
		}
	}
	// "a" is still down (kept), "b" is missing now (read at the reload).
	fn.setIndex("b", 0)
	apply(config.TrackItem{Name: "a", Weight: -20}, config.TrackItem{Name: "b", Weight: -5})
	wantRouter(t, d, fn, "vr", 1, "Master", 75)
	// "b" with weight 0: Fault.
	apply(config.TrackItem{Name: "a", Weight: -20}, config.TrackItem{Name: "b"})
	wantRouter(t, d, fn, "vr", 1, "Fault", 0)
	// Neither tracked: back to 100.
	apply()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	det, _ = d.Router("vr")
	got := []string{}
	for _, tr := range det.Transitions[before:] {
		got = append(got, tr.From+"->"+tr.To)
	}
	if !slices.Equal(got, []string{"Master->Fault", "Fault->Initialize", "Initialize->Backup", "Backup->Master"}) {
		t.Fatalf("transitions over the reloads %v", got)
	}
}

// The fault reason says which cause holds the router in Fault now (it said
// the one it entered Fault for, link-down with the link up again), and the
// router leaves Fault only when every cause has cleared: its own link down
// (link-down, no resigning advert: nothing can be sent), a tracked
// interface with weight 0 down (track-fault), both, then neither. No
// address stays installed in Fault.
func TestDaemonFaultReasons(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Interfaces = []config.TrackItem{{Name: "uplink"}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	eth0 := linux.LinkState{Name: "eth0", Exists: true, Index: 2, Primary: self4}
	uplink := linux.LinkState{Name: "uplink", Exists: true, Index: 3}
	fault := func(reason string) {
		t.Helper()
		waitUntil(t, 5*time.Second, "Fault "+reason, func() bool {
			det, _ := d.Router("vr")
			return det.State == "Fault" && det.FaultReason == reason && fn.addrs.count() == 0
		})
	}
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	waitUntil(t, 5*time.Second, "the VIP installed", func() bool { return fn.addrs.count() == 1 })
	d.linkChanged(eth0) // down
	fault("link-down")
	d.linkChanged(uplink) // down as well
	eth0.Up = true
	d.linkChanged(eth0)
	fault("track-fault")
	eth0.Up = false
	d.linkChanged(eth0)
	uplink.Up = true
	d.linkChanged(uplink)
	fault("link-down")
	eth0.Up = true
	d.linkChanged(eth0)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}

// A tracked object's Fault is a member's own fault: its sync group
// follows it into Fault and out again, as for a link down (keepalived
// vrrp_sync_fault); a weight only moves that member's priority.
func TestSyncGroupFollowsTrackFault(t *testing.T) {
	out, in := routerCfg("out", 1, 100, 10*time.Millisecond), routerCfg("in", 2, 100, 10*time.Millisecond)
	in.Interface = "eth1"
	in.Track.Interfaces = []config.TrackItem{{Name: "uplink"}, {Name: "backup-link", Weight: -20}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{out, in}, SyncGroups: []config.SyncGroup{{Name: "fw", Routers: []string{"out", "in"}}}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	state := func(name string) (string, string) {
		det, _ := d.Router(name)
		return det.State, det.FaultReason
	}
	both := func(what string, outWant, inWant [2]string) {
		t.Helper()
		waitUntil(t, 5*time.Second, what, func() bool {
			outSt, outWhy := state("out")
			inSt, inWhy := state("in")
			return [2]string{outSt, outWhy} == outWant && [2]string{inSt, inWhy} == inWant
		})
	}
	both("both Master", [2]string{"Master", ""}, [2]string{"Master", ""})
	d.linkChanged(fn.setIndex("backup-link", 0))
	waitUntil(t, 5*time.Second, "in at 80", func() bool { det, _ := d.Router("in"); return det.EffectivePriority == 80 })
	both("both still Master", [2]string{"Master", ""}, [2]string{"Master", ""})
	d.linkChanged(fn.setIndex("uplink", 0))
	both("both Fault", [2]string{"Fault", "sync-group-fault"}, [2]string{"Fault", "track-fault"})
	d.linkChanged(fn.setIndex("uplink", 4))
	both("both Master again", [2]string{"Master", ""}, [2]string{"Master", ""})
}

// TestScriptReportsDuringReloads: a tracking script reports its changes on
// its own goroutine while reloads repoint the routers' configurations on
// their loops. Run with -race (as make test does): the report must not read
// a router's configuration off its loop. [found by the race detector in e2e]
func TestScriptReportsDuringReloads(t *testing.T) {
	sh := testenv.RequireTool(t, "sh")
	flag := filepath.Join(t.TempDir(), "flag")
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Scripts = []config.TrackItem{{Name: "flip", Weight: -10}}
	scripts := map[string]config.Script{"flip": {Exec: []string{sh, "-c", "test -e " + flag}, Interval: time.Millisecond, Timeout: 5 * time.Second, Rise: 1, Fall: 1}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}, Scripts: scripts})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "vr", 1, "Master", 90)
	for i := range 40 {
		if i%2 == 0 {
			os.WriteFile(flag, nil, 0o644)
		} else {
			os.Remove(flag)
		}
		c.Track.Scripts = []config.TrackItem{{Name: "flip", Weight: -10 - i%3}}
		if res := d.Apply(&config.Config{Routers: []config.Router{c}, Scripts: scripts}); !res.OK {
			t.Fatalf("reload %d: %+v", i, res)
		}
	}
	os.WriteFile(flag, nil, 0o644)
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}
