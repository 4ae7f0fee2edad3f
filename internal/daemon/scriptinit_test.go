package daemon

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
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

// waitingPair is syncPair's group (out on eth0, in on eth1) where in tracks
// an init-unknown script with weight 0 whose first run lasts until release
// is called; prep (may be nil) sets up the interfaces before the start.
func waitingPair(t *testing.T, prep func(*fakeNet)) (d *Daemon, fn *fakeNet, get func(string) api.RouterDetail, release func()) {
	t.Helper()
	sh := testenv.RequireTool(t, "sh")
	flag := filepath.Join(t.TempDir(), "flag")
	release = func() {
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	slow := []string{sh, "-c", "while [ ! -e " + flag + " ]; do sleep 0.01; done"}
	out := routerCfg("out", 1, 100, 10*time.Millisecond)
	in := routerCfg("in", 2, 100, 10*time.Millisecond)
	in.Interface = "eth1"
	in.Track.Scripts = []config.TrackItem{{Name: "chk"}}
	d, fn = fakeDaemon(&config.Config{Routers: []config.Router{out, in},
		SyncGroups: []config.SyncGroup{{Name: "fw", Routers: []string{"out", "in"}}},
		Scripts:    map[string]config.Script{"chk": {Exec: slow, Interval: 20 * time.Millisecond, Timeout: 10 * time.Second, Rise: 1, Fall: 1, InitUnknown: true}}})
	if prep != nil {
		prep(fn)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(); release() })
	get = func(name string) api.RouterDetail {
		det, ok := d.Router(name)
		if !ok {
			t.Fatalf("no router %s", name)
		}
		return det
	}
	return d, fn, get, release
}

// holdFor fails the test if ok stops holding within d, and returns once
// it has held that long (many Master_Down_Intervals of the 10 ms adverts).
func holdFor(t *testing.T, d time.Duration, what string, ok func() string) {
	t.Helper()
	since := time.Now()
	waitUntil(t, d+2*time.Second, what, func() bool {
		if bad := ok(); bad != "" {
			t.Fatal(bad)
		}
		return time.Since(since) > d
	})
}

// TestSyncGroupHeldByWaitingMember: a member waiting in Initialize for its
// init-unknown weight-0 script holds its whole group, as keepalived holds
// a vrrp_sync_group while a member's script is in its INIT state: the
// other member becomes no Master on its own (it counted a waiting member
// as ready, like one not started). Once the script reports, both become
// Master together.
func TestSyncGroupHeldByWaitingMember(t *testing.T) {
	_, fn, get, release := waitingPair(t, nil)
	waitUntil(t, 2*time.Second, "out Backup", func() bool { return get("out").State == "Backup" })
	holdFor(t, 200*time.Millisecond, "out held in Backup", func() string {
		if out, in := get("out").State, get("in").State; out == "Master" || in != "Initialize" {
			return "out " + out + ", in " + in + " while in waits for its script"
		}
		return ""
	})
	if p, sent := lastAdvert(fn, 1); sent && p != 0 {
		t.Fatalf("out advertised priority %d while its group waited", p)
	}
	release()
	waitUntil(t, 3*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
}

// TestSyncGroupWaitingMemberLinkDown: a waiting member whose link is down
// at start holds its group in Fault, as docs/CONFIG.md ("Sync groups")
// says of a member whose link is down at start; it did not, since it had
// not started. Its link up and its script's result start both.
func TestSyncGroupWaitingMemberLinkDown(t *testing.T) {
	d, fn, get, release := waitingPair(t, func(fn *fakeNet) { fn.setUp("eth1", false) })
	waitUntil(t, 2*time.Second, "out in Fault", func() bool { return get("out").State == "Fault" })
	if r := get("out").FaultReason; r != "sync-group-fault" {
		t.Fatalf("out's fault reason %q, want sync-group-fault", r)
	}
	holdFor(t, 100*time.Millisecond, "out held in Fault", func() string {
		if out := get("out").State; out != "Fault" {
			return "out " + out + " while in waits with its link down"
		}
		return ""
	})
	// Its link up, it still waits for the script: the group leaves Fault
	// but stays out of Master.
	d.linkChanged(fn.setUp("eth1", true))
	waitUntil(t, 2*time.Second, "out Backup", func() bool { return get("out").State == "Backup" })
	holdFor(t, 100*time.Millisecond, "out held in Backup", func() string {
		if out := get("out").State; out == "Master" {
			return "out Master while in waits for its script"
		}
		return ""
	})
	release()
	waitUntil(t, 3*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
}

// TestReloadTracksScriptResultDuringReload: a reload makes a running router
// track, with weight 0, an init-unknown script already running, and the script's first result (failed) arrives while the reload is
// under way: after reconfigure took the script's state, before its change
// reached the loop. The result counts: the router goes to Fault. It stayed
// Master: the script's report was dropped (the router did not track it
// yet) and the reload installed the state taken before it, unknown, which
// only the script's next change would have cleared.
func TestReloadTracksScriptResultDuringReload(t *testing.T) {
	sh := testenv.RequireTool(t, "sh")
	flag := filepath.Join(t.TempDir(), "flag")
	// Its first result, once the test creates the flag, is a failure.
	slow := []string{sh, "-c", "while [ ! -e " + flag + " ]; do sleep 0.01; done; exit 1"}
	scripts := map[string]config.Script{"chk": {Exec: slow, Interval: 20 * time.Millisecond, Timeout: 10 * time.Second, Rise: 1, Fall: 1, InitUnknown: true}}
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a}, Scripts: scripts})
	// The reload reads the link of eth9, which it makes a track, between
	// taking the script's state and applying the change on the loop:
	// there the script's result arrives, its report is on the loop first.
	var during atomic.Bool
	d.linkState = func(name string) linux.LinkState {
		if name == "eth9" && during.CompareAndSwap(true, false) {
			d.mu.RLock()
			l := d.routers["a"].l
			d.mu.RUnlock()
			running, unblock := make(chan struct{}), make(chan struct{})
			l.post(func() { close(running); <-unblock })
			<-running
			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 5*time.Second, "the script's report on a's loop", func() bool {
				l.mu.Lock()
				defer l.mu.Unlock()
				return len(l.inbox) > 0
			})
			close(unblock)
		}
		return fn.link(name)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "a", 1, "Master", 100)
	a.Track.Scripts = []config.TrackItem{{Name: "chk"}}
	a.Track.Interfaces = []config.TrackItem{{Name: "eth9"}}
	during.Store(true)
	if res := d.Apply(&config.Config{Routers: []config.Router{a}, Scripts: scripts}); !res.OK || len(res.Updated) != 1 {
		t.Fatalf("reload: %+v", res)
	}
	if during.Load() {
		t.Fatal("the reload did not read eth9")
	}
	wantRouter(t, d, fn, "a", 1, "Fault", 0)
}
