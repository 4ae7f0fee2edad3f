package interop

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"govrrp/internal/keepalived"
)

// syncVRs are two VRRPv3 IPv4 VRs in sync group fw, one per LAN: VRID 61
// on eth0 and VRID 62 on eth1 (lab.LAN.AddSecondLAN).
func syncVRs(prio uint8) []VR {
	return []VR{
		{VRID: 61, Version: 3, Family: IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.61/24")}, SyncGroup: "fw"},
		{VRID: 62, Version: 3, Family: IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{netip.MustParsePrefix("10.78.0.62/24")}, SyncGroup: "fw", Interface: "eth1"},
	}
}

// keepalived on one router and govrrpd on the other run the same sync group
// of two VRs on two LANs. Pulling the Master's cable on the second LAN
// moves both VRs to the other implementation (the pulled side puts its
// whole group in Fault), and its return moves both back; in both
// directions, and neither side complains about the other's adverts.
//
// In the imported run govrrpd runs `govrrp import keepalived` of the
// keepalived.conf keepalived would run there (vrrp_sync_group included).
func TestSyncGroupKeepalived(t *testing.T) {
	for _, c := range []struct {
		govrrpMaster, imported bool
	}{{true, false}, {false, false}, {true, true}} {
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
				src := filepath.Join(l.Dir, "govrrp-side-keepalived.conf")
				if err := os.WriteFile(src, []byte(NewKeepalived(t, l.Routers[0], l.Dir, syncVRs(hi)...).Config()), 0o644); err != nil {
					t.Fatal(err)
				}
				res, err := keepalived.Import(src, keepalived.Options{})
				if err != nil || res.Routers != 2 || !strings.Contains(string(res.YAML), "sync_groups:") {
					t.Fatalf("import: %v, %d routers:\n%s", err, res.Routers, res.YAML)
				}
				g.UseImported(string(res.YAML))
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
			checkClean(t, l, cleanOpts{})
		})
	}
}
