package interop

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"govrrp/internal/keepalived"
)

// TestImportedKeepalivedPair: keepalived runs its own keepalived.conf on one
// router; govrrpd runs `govrrp import keepalived` of the same file, with
// that router's priorities, on the other (VRRPv3, 100 ms adverts, garp
// settings and accept carried over by the importer). Two VRIDs, one master
// each; no complaint in either log; when either side stops, the other takes
// both.
func TestImportedKeepalivedPair(t *testing.T) {
	l := NewLab(t, 2)
	vr := func(id uint8, prio uint8, vip string) VR {
		return VR{VRID: id, Version: 3, Family: IPv4, Priority: prio, Interval: interval,
			VIPs: []netip.Prefix{netip.MustParsePrefix(vip)}}
	}
	a, b := VRKey{51, IPv4}, VRKey{52, IPv4}
	ka := NewKeepalived(t, l.Routers[0], l.Dir, vr(51, 150, "10.77.0.251/24"), vr(52, 100, "10.77.0.252/24"))
	// The same file for the other router: only the priorities differ.
	other := NewKeepalived(t, l.Routers[1], l.Dir, vr(51, 100, "10.77.0.251/24"), vr(52, 150, "10.77.0.252/24"))
	src := filepath.Join(l.Dir, "other-keepalived.conf")
	if err := os.WriteFile(src, []byte(other.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := keepalived.Import(src, keepalived.Options{})
	if err != nil || res.Routers != 2 {
		t.Fatalf("import: %v, %d routers", err, res.Routers)
	}
	for _, n := range res.Notes {
		t.Logf("import note: %s", n)
	}
	gv := NewGovrrp(t, l.Routers[1], l.Dir, vr(51, 100, "10.77.0.251/24"), vr(52, 150, "10.77.0.252/24"))
	gv.UseImported(string(res.YAML))

	l.Start(t, ka)
	l.Start(t, gv)
	l.WaitMaster(t, ka, a, converge)
	l.WaitMaster(t, gv, b, converge)
	checkClean(t, l, cleanOpts{})

	// keepalived stops: govrrpd takes both.
	ka.Stop(t)
	l.WaitMaster(t, gv, a, takeover, ka)
	l.WaitMaster(t, gv, b, takeover, ka)

	// Back to one master each, then govrrpd stops: keepalived takes both.
	ka.Start(t)
	l.WaitMaster(t, ka, a, converge)
	l.WaitMaster(t, gv, b, converge)
	gv.Stop(t)
	l.WaitMaster(t, ka, a, takeover, gv)
	l.WaitMaster(t, ka, b, takeover, gv)
	checkClean(t, l, cleanOpts{})
}
