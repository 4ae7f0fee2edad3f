package interop

import (
	"regexp"
	"testing"
	"time"
)

// The VRRPv2/v3 interoperation mode (RFC 5798 §8.4, govrrp v2_compat) on a
// LAN being migrated: keepalived still on VRRPv2, FRR already on VRRPv3
// (neither has the mode), govrrp on VRRPv3 with v2_compat. All at 1 s, the
// shortest VRRPv2 interval.
//
// govrrp highest: it is the Master of all, keepalived following its
// VRRPv2 copies, FRR its VRRPv3 adverts [5798-8.4.2-c], and a second govrrp
// in the mode the VRRPv3 ones, ignoring the VRRPv2 copies [5798-8.4.2-d].
//
// keepalived highest: govrrp backs up to the VRRPv2 Master, timing out on
// its rate [9568-8.4.2-a]; when keepalived leaves (priority 0) govrrp takes
// over, and FRR, joining then, backs up to it. FRR is not on the LAN while
// keepalived is Master: it could hear no one (keepalived speaks only
// VRRPv2, a Backup sends nothing) and would be Master too, and keepalived
// 2.2.7 then sent no advert at all while FRR's arrived every second, so
// govrrp took over and the two flapped (docs/INTEROP.md).
func TestV2Compat(t *testing.T) {
	k := VRKey{51, IPv4}
	v3c := func(p uint8) VR { v := vr3(IPv4, p); v.Interval, v.V2Compat = time.Second, true; return v }
	v3 := func(p uint8) VR { v := vr3(IPv4, p); v.Interval, v.VMAC = time.Second, true; return v }
	// keepalived logs the VRRPv3 adverts it cannot read, FRR the VRRPv2
	// ones: that is the mixed LAN, not a fault.
	mixed := cleanOpts{peerLine: regexp.MustCompile(`(?i)version`)}

	t.Run("govrrp-master", func(t *testing.T) {
		l := NewLab(t, 4)
		g := NewGovrrp(t, l.Routers[0], l.Dir, v3c(200))
		ka := NewKeepalived(t, l.Routers[1], l.Dir, v2(150, ""))
		fr := NewFRR(t, l.Routers[2], l.Dir, v3(100))
		g2 := NewGovrrp(t, l.Routers[3], l.Dir, v3c(120))
		for _, p := range []Peer{g, ka, fr, g2} {
			l.Start(t, p)
		}
		l.WaitMaster(t, g, k, converge)
		// Longer than either Backup's Master_Down_Interval: both keep
		// hearing the Master, each in its own version.
		l.StaysMaster(t, g, k, v2(150, "").MasterDown(100)+time.Second)
		d, err := g.Detail(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("govrrp counters %v, discards %v", d.Counters, d.Discards)
		src := l.Source(t, g, k)
		byVersion := map[uint8]int{}
		for _, a := range l.Adverts(t).VR(k).From(src) {
			if a.Priority == 200 {
				byVersion[a.Version]++
				if a.Version == 2 && a.Interval != time.Second {
					t.Errorf("[5798-8.4.2-c] v2 copy with Adver Int %v", a.Interval)
				}
			}
		}
		if n2, n3 := byVersion[2], byVersion[3]; n2 < 3 || n2 < n3-1 || n2 > n3 {
			t.Errorf("[5798-8.4.2-c] govrrp sent %d VRRPv2 and %d VRRPv3 adverts; want both every interval", n2, n3)
		}
		// The other govrrp in the mode, a Backup, hears both copies and
		// ignores the VRRPv2 ones [5798-8.4.2-d].
		d2, err := g2.Detail(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s counters %v", g2.Name(), d2.Counters)
		if d2.Counters["v2_ignored_from_v3_master"] == 0 || d2.Counters["v3_without_v2"] != 0 {
			t.Errorf("[5798-8.4.2-d] %s ignored %d VRRPv2 copies, reported %d VRRPv3-only adverts", g2.Name(), d2.Counters["v2_ignored_from_v3_master"], d2.Counters["v3_without_v2"])
		}
		checkClean(t, l, mixed)
	})

	t.Run("keepalived-master", func(t *testing.T) {
		l := NewLab(t, 3)
		g := NewGovrrp(t, l.Routers[0], l.Dir, v3c(150))
		ka := NewKeepalived(t, l.Routers[1], l.Dir, v2(200, ""))
		fr := NewFRR(t, l.Routers[2], l.Dir, v3(100))
		l.Start(t, ka)
		l.Start(t, g)
		l.WaitMaster(t, ka, k, converge)
		kaSrc := l.Source(t, ka, k)
		// Longer than its Master_Down_Interval: govrrp stays Backup,
		// following keepalived at keepalived's rate.
		l.StaysMaster(t, ka, k, v3c(150).MasterDown(150)+time.Second)
		d, err := g.Detail(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("govrrp: master %s (prio %d) at %v ms, counters %v", d.Master, d.MasterPriority, d.AdvertIntervalMS, d.Counters)
		if d.Master != kaSrc.String() || d.MasterPriority != 200 || d.AdvertIntervalMS != 1000 {
			t.Errorf("[9568-8.4.2-a] govrrp follows %s (prio %d) at %v ms; want keepalived %v (200) at 1000 ms", d.Master, d.MasterPriority, d.AdvertIntervalMS, kaSrc)
		}

		// keepalived stops (priority 0 in VRRPv2): govrrp takes over in
		// Skew_Time; FRR, started now, hears its VRRPv3 adverts and
		// backs up.
		ka.Stop(t)
		l.WaitMaster(t, g, k, takeover)
		l.Start(t, fr)
		l.WaitMaster(t, g, k, converge)
		checkClean(t, l, mixed)
	})
}
