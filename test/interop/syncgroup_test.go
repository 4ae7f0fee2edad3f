package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/keepalived"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// syncVRs are two VRRPv3 IPv4 VRs in sync group fw, one per LAN: VRID 61
// on eth0 and VRID 62 on eth1 (lab.LAN.AddSecondLAN).
func syncVRs(prio uint8) []VR {
	return []VR{
		{VRID: 61, Version: 3, Family: IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.61/24")}, SyncGroup: "fw"},
		{VRID: 62, Version: 3, Family: IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{netip.MustParsePrefix("10.78.0.62/24")}, SyncGroup: "fw", Interface: "eth1"},
	}
}

// importConf writes conf, a keepalived.conf, to dir/name and returns what
// `govrrp import keepalived` makes of it: two routers in a sync group.
func importConf(t *testing.T, dir, name, conf string) string {
	t.Helper()
	src := filepath.Join(dir, name)
	if err := os.WriteFile(src, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil || res.Routers != 2 || !strings.Contains(string(res.YAML), "sync_groups:") {
		t.Fatalf("import: %v, %d routers:\n%s", err, res.Routers, res.YAML)
	}
	return string(res.YAML)
}

// keepalived on one router and govrrpd on the other run the same sync group
// of two VRs on two LANs. Pulling the Master's cable on the second LAN
// moves both VRs to the other implementation (the pulled side puts its
// whole group in Fault), and its return moves both back; then stopping the
// Master (SIGTERM: priority 0 on both LANs [5798-6.4.3-g]) makes the other
// Master of both members, the VRID on the first LAN within Skew_Time of
// the priority-0 advert [5798-6.4.2-h] (issue 13: "when either side is
// stopped, the other takes every VR"). In both directions, and neither
// side complains about the other's adverts.
//
// In the imported runs govrrpd runs `govrrp import keepalived` of the
// keepalived.conf keepalived would run there (vrrp_sync_group included).
func TestSyncGroupKeepalived(t *testing.T) {
	for _, c := range []struct {
		govrrpMaster, imported bool
	}{{true, false}, {false, false}, {true, true}, {false, true}} {
		govrrpMaster := c.govrrpMaster
		name := "govrrp-master"
		if !govrrpMaster {
			name = "keepalived-master"
		}
		if c.imported {
			name += "-imported"
		}
		t.Run(name, func(t *testing.T) {
			l := NewLab(t, 2)
			l.LAN.AddSecondLAN(t, l.Routers...)
			hi, lo := uint8(150), uint8(100)
			if !govrrpMaster {
				hi, lo = lo, hi
			}
			g := NewGovrrp(t, l.Routers[0], l.Dir, syncVRs(hi)...)
			if c.imported {
				g.UseImported(importConf(t, l.Dir, "govrrp-side-keepalived.conf", NewKeepalived(t, l.Routers[0], l.Dir, syncVRs(hi)...).Config()))
			}
			k := NewKeepalived(t, l.Routers[1], l.Dir, syncVRs(lo)...)
			l.Start(t, g)
			l.Start(t, k)
			var master, backup Peer = g, k
			if !govrrpMaster {
				master, backup = k, g
			}
			both := func(p Peer, st State) {
				t.Helper()
				for _, v := range syncVRs(0) {
					l.WaitState(t, p, v.Key(), st, converge)
				}
			}
			both(master, Master)
			both(backup, Backup)

			l.LAN.UnplugSecond(t, master.Node())
			both(backup, Master)
			both(master, Fault)

			l.LAN.PlugSecond(t, master.Node())
			both(master, Master)
			both(backup, Backup)
			first := syncVRs(0)[0].Key()
			l.WaitMaster(t, master, first, converge) // adverts on the wire again
			checkClean(t, l, cleanOpts{})

			stop := time.Now()
			master.Stop(t) // returns once the daemon has exited
			exited := time.Now()
			for _, v := range syncVRs(0) {
				l.WaitState(t, backup, v.Key(), Master, takeover)
			}
			t.Logf("%s Master of both members %v after %s exited", backup.Name(), time.Since(exited).Round(time.Millisecond), master.Name())
			// keepalived says Master before its first advert is on the
			// wire (and in the capture): wait for it, as the other
			// priority-0 checks do.
			l.WaitMaster(t, backup, first, takeover)
			checkSkewTakeover(t, l, first, master, backup, stop)
			checkClean(t, l, cleanOpts{})
		})
	}
}

// groupStates is what p says of the two members of syncVRs, in order
// ("Fault Fault").
func groupStates(p Peer) string {
	var out []string
	for _, v := range syncVRs(0) {
		st, _ := p.State(v.Key())
		out = append(out, st.String())
	}
	return strings.Join(out, " ")
}

// issue 13 (sync groups, "test them in namespaces against keepalived's
// behaviour for the same configuration"): keepalived 2.2.7 and govrrpd,
// each ALONE on the same node and topology, run the same vrrp_sync_group
// (govrrpd its import) of VRID 61 on eth0 and 62 on eth1, with group-level
// tracking: track_script (a file test) and track_interface (trk0), both
// unweighted. The group's states are recorded at each step and must be the
// same for both:
//
//  1. eth1 has no carrier at start (its cable is pulled; the interface
//     exists, with its address): the whole group is in Fault, and VRID 61
//     on eth0 never becomes Master on its own; plugged, both become Master;
//  2. the group's tracked interface goes down: both members Fault; up: both
//     Master;
//  3. the group's tracked script fails: both Fault; passes: both Master;
//  4. a better Master (priority 200, the other implementation) appears on
//     eth0's LAN only:
//     both members go Backup, and VRID 62, which hears nobody on eth1,
//     stays Backup; that Master stops (priority 0): both Master again;
//  5. the group's notify was called once per change of its state, the same
//     calls in the same order, STOP last when the daemon stops;
//  6. restarted with everything up: Backup, then Master (govrrpd's Fault
//     until the script's first run is a documented difference).
func TestSyncGroupAloneMatchesKeepalived(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	obs := map[string][]string{}
	for _, impl := range []string{"keepalived", "govrrp"} {
		t.Run(impl, func(t *testing.T) { obs[impl] = syncAlone(t, impl) })
	}
	ka, gv := obs["keepalived"], obs["govrrp"]
	t.Logf("keepalived:\n  %s", strings.Join(ka, "\n  "))
	if ka != nil && gv != nil && !slices.Equal(ka, gv) {
		t.Errorf("govrrpd's group:\n  %s\nkeepalived's:\n  %s", strings.Join(gv, "\n  "), strings.Join(ka, "\n  "))
	}
}

// syncAlone runs the steps of TestSyncGroupAloneMatchesKeepalived with impl
// and returns what it saw, one line a step.
func syncAlone(t *testing.T, impl string) []string {
	test := testenv.RequireTool(t, "test")
	l := NewLab(t, 2)
	r := l.Routers[0]
	l.LAN.AddSecondLAN(t, r)
	r.MustIP(t, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
	r.MustIP(t, "link", "set", "trk1", "up")
	r.MustIP(t, "link", "set", "trk0", "up")
	flag := filepath.Join(l.Dir, "flag")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	k := NewKeepalived(t, r, l.Dir, syncVRs(100)...)
	k.Top = fmt.Sprintf("\nvrrp_script chk_flag {\n  script \"%s -e %s\"\n  interval 1\n  fall 1\n  rise 1\n}\n", test, flag)
	hook, calls := writeHook(t, l.Dir)
	k.Group = "  track_script {\n    chk_flag\n  }\n  track_interface {\n    trk0\n  }\n  notify " + hook + "\n"
	var p Peer = k
	if impl == "govrrp" {
		g := NewGovrrp(t, r, l.Dir, syncVRs(100)...)
		g.UseImported(importConf(t, l.Dir, "fw.conf", k.Config()))
		p = g
	}

	var obs []string
	// step waits up to within for both members to be in want and records
	// what they are then.
	step := func(what string, want State, within time.Duration) {
		t.Helper()
		wantS := want.String() + " " + want.String()
		lab.Poll(within, 20*time.Millisecond, func() bool { return groupStates(p) == wantS })
		got := groupStates(p)
		obs = append(obs, what+": "+got)
		if got != wantS {
			t.Errorf("%s: %s, want both %v", what, got, want)
		}
	}
	// hold records every distinct state of the members for d (Unknown:
	// nothing said yet).
	hold := func(what string, d time.Duration) {
		t.Helper()
		var seen []string
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if s := groupStates(p); !strings.Contains(s, "Unknown") && (len(seen) == 0 || seen[len(seen)-1] != s) {
				seen = append(seen, s)
			}
			time.Sleep(10 * time.Millisecond)
		}
		obs = append(obs, what+": "+strings.Join(seen, ", then "))
	}

	// 1. A member's link down at start; 1.5 s is four Master_Down_Intervals.
	l.LAN.UnplugSecond(t, r)
	l.Start(t, p)
	hold("eth1 down at start, for 1.5 s", 1500*time.Millisecond)
	if last := obs[len(obs)-1]; !strings.HasSuffix(last, ": Fault Fault") || strings.Contains(last, "then") {
		t.Errorf("%s, want only Fault Fault", last)
	}
	l.LAN.PlugSecond(t, r)
	step("eth1 plugged", Master, takeover)

	// 2. The group's track_interface.
	r.MustIP(t, "link", "set", "trk0", "down")
	step("tracked interface down", Fault, takeover)
	r.MustIP(t, "link", "set", "trk0", "up")
	step("tracked interface up", Master, takeover)

	// 3. The group's track_script (run every second).
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	step("tracked script fails", Fault, takeover)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	step("tracked script passes", Master, takeover)

	// 4. A better Master on eth0's LAN only [5798-6.4.3-j], run by the
	// other implementation; its stop sends priority 0 [5798-6.4.3-g].
	better := syncVRs(200)[0]
	better.SyncGroup = ""
	var rival Peer = NewGovrrp(t, l.Routers[1], l.Dir, better)
	if impl == "govrrp" {
		rival = NewKeepalived(t, l.Routers[1], l.Dir, better)
	}
	l.Start(t, rival)
	step("better Master on eth0", Backup, takeover)
	hold("for 1 s after", time.Second)
	rival.Stop(t)
	step("it stops", Master, takeover)
	checkClean(t, l, cleanOpts{})

	// 5. The group's notify, called with GROUP fw STATE 0 once per change
	// of the group's state. notified stops p and returns the calls since
	// the last time, in order. keepalived forks its notify scripts without
	// waiting, so their calls may land in the file out of order: its order
	// is that of its notify FIFO, which it writes itself, and the calls
	// must be the same lines.
	fifoSeen := 0
	notified := func() string {
		t.Helper()
		p.Stop(t)
		var got, fifo []string
		done := lab.Poll(2*time.Second, 20*time.Millisecond, func() bool {
			got = strings.Split(strings.TrimSpace(lab.ReadFile(calls)), "\n")
			if impl == "keepalived" {
				fifo = nil
				for _, line := range k.Notified()[fifoSeen:] {
					if strings.HasPrefix(line, `GROUP "fw" `) {
						fifo = append(fifo, strings.ReplaceAll(line, `"`, ""))
					}
				}
				if !slices.Equal(slices.Sorted(slices.Values(fifo)), slices.Sorted(slices.Values(got))) {
					return false
				}
				got = fifo
			}
			return strings.HasSuffix(got[len(got)-1], " STOP 0")
		})
		if !done {
			t.Errorf("group notify: calls %q (keepalived's FIFO %q), want the same, STOP last", got, fifo)
		}
		fifoSeen = len(k.Notified())
		os.Remove(calls)
		return strings.Join(got, ", ")
	}
	obs = append(obs, "group notify: "+notified())

	// 6. Started again with every member up and every tracked object
	// passing: the group goes Backup, then Master. govrrpd runs the
	// import, whose script starts as keepalived's does (init: unknown:
	// the first result decides), so neither group notifies FAULT first.
	rival.Stop(t)
	l.Start(t, p)
	step("restarted", Master, takeover)
	calls2 := notified()
	return append(obs, "group notify: "+calls2)
}
