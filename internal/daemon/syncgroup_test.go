package daemon

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
)

// syncPair is a sync group of two routers on two interfaces, so on two
// loops: out on eth0, in on eth1; the interfaces in missing do not exist
// at start.
func syncPair(t *testing.T, interval time.Duration, missing ...string) (*Daemon, *fakeNet, func(string) api.RouterDetail) {
	return syncPairGroup(t, interval, config.SyncGroup{}, func(fn *fakeNet) {
		for _, name := range missing {
			fn.setIndex(name, 0)
		}
	})
}

// syncPairGroup is syncPair with g's hooks; prep (may be nil) sets up the
// interfaces before the start.
func syncPairGroup(t *testing.T, interval time.Duration, g config.SyncGroup, prep func(*fakeNet)) (*Daemon, *fakeNet, func(string) api.RouterDetail) {
	t.Helper()
	a := routerCfg("out", 1, 100, interval)
	b := routerCfg("in", 2, 100, interval)
	b.Interface = "eth1"
	g.Name, g.Routers = "fw", []string{"out", "in"}
	cfg := &config.Config{Routers: []config.Router{a, b}, SyncGroups: []config.SyncGroup{g}}
	d, fn := fakeDaemon(cfg)
	if prep != nil {
		prep(fn)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, fn, func(name string) api.RouterDetail {
		det, ok := d.Router(name)
		if !ok {
			t.Fatalf("no router %s", name)
		}
		return det
	}
}

func linkDown(fn *fakeNet, name string) (st linux.LinkState) {
	st = fn.link(name)
	st.Up = false
	return st
}

// A member's own Fault (its link down) puts the other member, on another
// interface, in Fault too; both come back when the link does
// (keepalived vrrp_sync_fault, try_up_instance).
func TestSyncGroupFaultFollows(t *testing.T) {
	d, fn, get := syncPair(t, 10*time.Millisecond)
	waitUntil(t, 2*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	d.linkChanged(linkDown(fn, "eth1"))
	waitUntil(t, 2*time.Second, "both Fault", func() bool { return get("out").State == "Fault" && get("in").State == "Fault" })
	if r := get("out").FaultReason; r != "sync-group-fault" {
		t.Fatalf("out: fault reason %q, want sync-group-fault", r)
	}
	if g := get("in").SyncGroup; g != "fw" {
		t.Fatalf("in: sync group %q in its status, want fw", g)
	}
	if r := get("in").FaultReason; r != "link-down" {
		t.Fatalf("in: fault reason %q, want link-down", r)
	}
	// The Master of out resigned: a priority-0 advert on eth0 [5798-6.4.2-h].
	zero := false
	for _, s := range fn.sock("eth0").written() {
		zero = zero || s.Priority == 0
	}
	if !zero {
		t.Fatal("out left Master without a priority-0 advert")
	}
	d.linkChanged(fn.link("eth1"))
	waitUntil(t, 2*time.Second, "both Master again", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
}

// A member whose interface is missing at start holds the whole group in
// Fault (keepalived vrrp_sync_set_group: a member down at start puts the
// group in FAULT); it starts when the interface appears, and so does the
// group.
func TestSyncGroupMemberDownAtStart(t *testing.T) {
	d, fn, get := syncPair(t, 100*time.Millisecond, "eth1")
	waitUntil(t, 2*time.Second, "out in Fault", func() bool { return get("out").State == "Fault" })
	d.linkChanged(fn.setIndex("eth1", 3))
	waitUntil(t, 3*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	// out went to Fault before its first Master_Down_Interval ended: it
	// never was Master while in could not run.
	var path []string
	for _, e := range get("out").Transitions {
		path = append(path, e.To)
	}
	if want := "Backup Fault Initialize Backup Master"; strings.Join(path, " ") != want {
		t.Fatalf("out went %v, want %s", path, want)
	}
}

// issue 13: a member whose link is down at start (the interface exists,
// with its address, but has no carrier) holds the whole group in Fault
// from the start, as a missing one does and as keepalived 2.2.7 does
// (interop:TestSyncGroupAloneMatchesKeepalived): the other member, on
// another interface, never becomes Master on its own. When the link comes
// up, both become Master together.
func TestSyncGroupMemberLinkDownAtStart(t *testing.T) {
	d, fn, get := syncPairGroup(t, 10*time.Millisecond, config.SyncGroup{}, func(fn *fakeNet) { fn.setUp("eth1", false) })
	waitUntil(t, 2*time.Second, "both in Fault", func() bool { return get("out").State == "Fault" && get("in").State == "Fault" })
	// Many Master_Down_Intervals (about 35 ms) later, still both in Fault.
	held := time.Now()
	waitUntil(t, 2*time.Second, "both held in Fault for 200 ms", func() bool {
		if out, in := get("out"), get("in"); out.State != "Fault" || in.State != "Fault" {
			t.Fatalf("out %s, in %s while eth1 is down", out.State, in.State)
		}
		return time.Since(held) > 200*time.Millisecond
	})
	if out, in := get("out").FaultReason, get("in").FaultReason; out != "sync-group-fault" || in != "link-down" {
		t.Fatalf("fault reasons out %q, in %q; want sync-group-fault, link-down", out, in)
	}
	for _, s := range fn.sock("eth0").written() {
		if s.Priority != 0 {
			t.Fatalf("out advertised (priority %d) while its group was in Fault", s.Priority)
		}
	}
	d.linkChanged(fn.setUp("eth1", true))
	waitUntil(t, 2*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	for _, name := range []string{"out", "in"} {
		var path []string
		for _, e := range get(name).Transitions {
			path = append(path, e.To)
		}
		if p := strings.Join(path, " "); !strings.HasSuffix(p, "Fault Initialize Backup Master") || strings.Count(p, "Master") != 1 {
			t.Fatalf("%s went %s, want Master only after the link came up", name, p)
		}
	}
}

// A Master member that hears a better Master goes Backup, and takes the
// other member, on another interface, to Backup with it (keepalived
// vrrp_sync_backup).
func TestSyncGroupBackupFollows(t *testing.T) {
	_, fn, get := syncPair(t, 10*time.Millisecond)
	waitUntil(t, 2*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	peer := netip.MustParseAddr("10.77.0.9")
	fn.sock("eth0").deliver(pkt(advert(1, 200, peer, 10*time.Millisecond, vipOf(1)), peer, 0))
	waitUntil(t, 2*time.Second, "in to follow out to Backup", func() bool {
		for _, e := range get("in").Transitions {
			if e.From == "Master" && e.To == "Backup" && e.Reason == "sync-group-backup" {
				return true
			}
		}
		return false
	})
}

// The group's notify hooks run once per change of the group's state, with
// GROUP FROM TO REASON, the reason that of the member that caused it; and
// so do keepalived's forms, with TYPE GROUP and priority 0.
func TestSyncGroupNotifyOnce(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "calls")
	hook := filepath.Join(dir, "hook")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$@\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, fn, get := syncPairGroup(t, 10*time.Millisecond, config.SyncGroup{Notify: [][]string{{hook}}, Hooks: config.KeepalivedHooks{Generic: [][]string{{hook, "ka"}}, Master: [][]string{{hook, "master"}}}}, nil)
	waitUntil(t, 2*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	d.linkChanged(linkDown(fn, "eth1"))
	waitUntil(t, 2*time.Second, "both Fault", func() bool { return get("out").State == "Fault" && get("in").State == "Fault" })
	calls := func() string { b, _ := os.ReadFile(out); return string(b) }
	waitUntil(t, 2*time.Second, "seven group hook calls", func() bool { return strings.Count(calls(), "\n") >= 7 })
	// Each change of the group is one call, whichever member's loop
	// reports first.
	got := strings.Split(strings.TrimSpace(calls()), "\n")
	// keepalived's forms first (notify_<state>, its generic notify with
	// GROUP NAME STATE 0), then ours, as keepalived orders them.
	want := []string{"ka GROUP fw BACKUP 0", "fw Initialize Backup startup",
		"master", "ka GROUP fw MASTER 0", "fw Backup Master master-no-response",
		"ka GROUP fw FAULT 0", "fw Master Fault link-down"}
	if len(got) != len(want) {
		t.Fatalf("group hook calls %q, want %q", got, want)
	}
	for i := range want {
		if !regexp.MustCompile("^" + want[i] + "$").MatchString(got[i]) {
			t.Fatalf("group hook calls %q, want %q", got, want)
		}
	}
}

// A member waiting for its interface that a reload removes stops holding
// its group in Fault.
func TestSyncGroupRemovedWaitingMember(t *testing.T) {
	d, _, get := syncPair(t, 10*time.Millisecond, "eth1")
	waitUntil(t, 2*time.Second, "out in Fault", func() bool { return get("out").State == "Fault" })
	if res := d.Apply(&config.Config{Routers: []config.Router{routerCfg("out", 1, 100, 10*time.Millisecond)}}); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	waitUntil(t, 2*time.Second, "out Master", func() bool { return get("out").State == "Master" })
}

// A member that would become Master waits while another member hears a
// Master (keepalived vrrp_sync_can_goto_master); when that Master resigns,
// both become Master together (vrrp_sync_master).
func TestSyncGroupMasterTogether(t *testing.T) {
	_, fn, get := syncPair(t, 10*time.Millisecond)
	peer := netip.MustParseAddr("10.77.0.9")
	// A Master on eth0 with a 1 s interval: out stays Backup for 3.6 s.
	fn.sock("eth0").deliver(pkt(advert(1, 200, peer, time.Second, vipOf(1)), peer, 0))
	waitUntil(t, 2*time.Second, "out to follow the peer", func() bool { return get("out").Master == peer.String() })
	// in hears nobody: its Master_Down_Interval (about 35 ms) passes many
	// times, and the group holds it in Backup.
	held := time.Now()
	waitUntil(t, 2*time.Second, "in held in Backup for 300 ms", func() bool {
		if st := get("in").State; st != "Backup" {
			t.Fatalf("in %s while out hears a Master", st)
		}
		return time.Since(held) > 300*time.Millisecond
	})
	// It resigns: out takes over after Skew_Time (0.6 s), and in with it.
	fn.sock("eth0").deliver(pkt(advert(1, 0, peer, time.Second, vipOf(1)), peer, 0))
	waitUntil(t, 3*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
}
