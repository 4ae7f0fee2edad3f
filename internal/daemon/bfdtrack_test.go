package daemon

import (
	"slices"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/internal/api"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
)

// The runner's reports, as bfdrun.Change: Up, a failure (detection time
// expired), the peer's AdminDown, ours.
func bfdUp(name string) bfdrun.Change {
	return bfdrun.Change{Name: name, From: bfd.Init, To: bfd.Up}
}

func bfdFailed(name string) bfdrun.Change {
	return bfdrun.Change{Name: name, From: bfd.Up, To: bfd.Down, Diag: bfd.DiagDetectExpired, Failure: true}
}

func bfdPeerAdminDown(name string) bfdrun.Change {
	return bfdrun.Change{Name: name, From: bfd.Up, To: bfd.Down, Diag: bfd.DiagNeighborDown, PeerAdminDown: true}
}

func bfdOurAdminDown(name string) bfdrun.Change {
	return bfdrun.Change{Name: name, From: bfd.Up, To: bfd.AdminDown, Diag: bfd.DiagAdminDown}
}

// trackedOf returns the router's tracked object kind:name.
func trackedOf(t *testing.T, d *Daemon, router, kind, name string) api.Tracked {
	t.Helper()
	det, _ := d.Router(router)
	i := slices.IndexFunc(det.Tracked, func(o api.Tracked) bool { return o.Kind == kind && o.Name == name })
	if i < 0 {
		t.Fatalf("%s tracks no %s %s: %+v", router, kind, name, det.Tracked)
	}
	return det.Tracked[i]
}

// A tracked BFD session reaches the state machine as a tracked script
// does: not yet Up at start counts as down (the weight applies), Up
// clears it, a failure applies it again. AdminDown, the peer's or ours, is
// no failure (RFC 5882 §3.2): the router keeps the priority it had.
func TestDaemonTrackBFD(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.BFD = []config.TrackBFD{{Name: "s1", Weight: -20}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()

	wantRouter(t, d, fn, "vr", 1, "Master", 80) // never Up: down
	d.bfdChanged(bfdUp("s1"))
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	if tr := trackedOf(t, d, "vr", "bfd", "s1"); tr.Failed || tr.State != "Up" || tr.Weight != -20 {
		t.Fatalf("tracked: %+v", tr)
	}
	d.bfdChanged(bfdFailed("s1"))
	wantRouter(t, d, fn, "vr", 1, "Master", 80)
	d.bfdChanged(bfdUp("s1"))
	wantRouter(t, d, fn, "vr", 1, "Master", 100)

	// The peer's AdminDown: the session is Down, the router stays at 100.
	d.bfdChanged(bfdPeerAdminDown("s1"))
	waitUntil(t, 5*time.Second, "state Down", func() bool { return trackedOf(t, d, "vr", "bfd", "s1").State == "Down" })
	if tr := trackedOf(t, d, "vr", "bfd", "s1"); tr.Failed {
		t.Fatalf("the peer's AdminDown failed the session: %+v", tr)
	}
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	d.bfdChanged(bfdrun.Change{Name: "s1", From: bfd.Down, To: bfd.Up})
	// Ours (an operator's shutdown): no failure either.
	d.bfdChanged(bfdOurAdminDown("s1"))
	waitUntil(t, 5*time.Second, "state AdminDown", func() bool { return trackedOf(t, d, "vr", "bfd", "s1").State == "AdminDown" })
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	if _, n := d.bfdTrack.status("s1"); n != 2 {
		t.Fatalf("AdminDowns %d, want 2", n)
	}
	// A session restarted (a reload changed its peer) is down until Up.
	d.bfdRestarted("s1")
	wantRouter(t, d, fn, "vr", 1, "Master", 80)
}

// Weight 0: Fault while the session is down, reason track-fault; reverse
// inverts the session (keepalived's track_bfd reverse): its weight applies
// while it is Up.
func TestDaemonTrackBFDFaultAndReverse(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.BFD = []config.TrackBFD{{Name: "s1"}}
	r := routerCfg("rev", 2, 100, 10*time.Millisecond)
	r.Track.BFD = []config.TrackBFD{{Name: "s2", Weight: -30, Reverse: true}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c, r}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()

	wantRouter(t, d, fn, "vr", 1, "Fault", 0)
	if det, _ := d.Router("vr"); det.FaultReason != "track-fault" {
		t.Fatalf("fault reason %q, want track-fault", det.FaultReason)
	}
	wantRouter(t, d, fn, "rev", 2, "Master", 100)
	d.bfdChanged(bfdUp("s1"))
	d.bfdChanged(bfdUp("s2"))
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	wantRouter(t, d, fn, "rev", 2, "Master", 70)
	d.bfdChanged(bfdFailed("s1"))
	d.bfdChanged(bfdFailed("s2"))
	wantRouter(t, d, fn, "vr", 1, "Fault", 0)
	wantRouter(t, d, fn, "rev", 2, "Master", 100)
	// The peer's AdminDown keeps Up: still no Fault after it.
	d.bfdChanged(bfdUp("s1"))
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	d.bfdChanged(bfdPeerAdminDown("s1"))
	waitUntil(t, 5*time.Second, "state Down", func() bool { return trackedOf(t, d, "vr", "bfd", "s1").State == "Down" })
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}

// A reload that adds a tracked session applies its state at once (an Up
// session adds nothing, a session down its weight); one that drops it
// gives its weight back; reverse changed in place reads the state afresh.
// In place: no restart.
func TestReloadRetracksBFD(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	d.bfdChanged(bfdUp("up"))
	apply := func(items ...config.TrackBFD) {
		t.Helper()
		c.Track.BFD = items
		if res := d.Apply(&config.Config{Routers: []config.Router{c}}); !res.OK || !slices.Equal(res.Updated, []string{"vr"}) {
			t.Fatalf("reload: %+v, want vr updated in place", res)
		}
	}
	apply(config.TrackBFD{Name: "up", Weight: -10}, config.TrackBFD{Name: "down", Weight: -5})
	wantRouter(t, d, fn, "vr", 1, "Master", 95)
	apply(config.TrackBFD{Name: "up", Weight: -10, Reverse: true}, config.TrackBFD{Name: "down", Weight: -5})
	wantRouter(t, d, fn, "vr", 1, "Master", 85)
	// The change reaches the router after the reload too.
	d.bfdChanged(bfdUp("down"))
	wantRouter(t, d, fn, "vr", 1, "Master", 90)
	apply()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
	d.bfdChanged(bfdFailed("up"))
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}

// The runner's callback never waits for the daemon's lock: a reload holds
// it while it waits on the runner's loop (reloadBFD), so a callback that
// took it would deadlock the two. Reports made meanwhile reach the router
// once the lock is free, the latest state winning.
func TestBFDChangedDoesNotBlock(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.BFD = []config.TrackBFD{{Name: "s1", Weight: -20}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "vr", 1, "Master", 80)

	d.mu.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.bfdChanged(bfdUp("s1"))
		d.bfdChanged(bfdFailed("s1"))
		d.bfdChanged(bfdUp("s1"))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		d.mu.Unlock()
		t.Fatal("the callback waited for the daemon's lock")
	}
	d.mu.Unlock()
	wantRouter(t, d, fn, "vr", 1, "Master", 100)
}
