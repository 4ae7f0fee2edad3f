package interop

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// govrrpLab starts one govrrpd per VR set on routers 1..n of a new lab and
// returns them in that order.
func govrrpLab(t *testing.T, vrs ...[]VR) (*Lab, []*Govrrp) {
	t.Helper()
	l := NewLab(t, len(vrs))
	gs := make([]*Govrrp, len(vrs))
	for i, v := range vrs {
		gs[i] = NewGovrrp(t, l.Routers[i], l.Dir, v...)
		l.Start(t, gs[i])
	}
	return l, gs
}

// withPrio returns v with priority p.
func withPrio(v VR, p uint8) VR { v.Priority = p; return v }

// Two and three govrrp routers in every flavour: the highest priority is
// elected, the host reaches the VIP through it, a cable pull hands over to
// the next one, and plugging it back preempts.
func TestGovrrpElection(t *testing.T) {
	vmac := func(v VR) VR { v.VMAC = true; return v }
	for _, c := range []struct {
		name    string
		vr      VR
		n       int
		unicast bool
	}{
		{name: "v3-ipv4-2", vr: vr3(IPv4, 0), n: 2},
		{name: "v3-ipv4-3", vr: vr3(IPv4, 0), n: 3},
		{name: "v3-ipv6-2", vr: vr3(IPv6, 0), n: 2},
		{name: "v3-ipv6-3", vr: vr3(IPv6, 0), n: 3},
		{name: "v2-ipv4-2", vr: v2(0, ""), n: 2},
		{name: "v2-ipv4-pass-3", vr: v2(0, "secret12"), n: 3},
		{name: "v3-ipv4-vmac-2", vr: vmac(vr3(IPv4, 0)), n: 2},
		{name: "v3-ipv6-vmac-3", vr: vmac(vr3(IPv6, 0)), n: 3},
		{name: "v3-ipv4-unicast-3", vr: vr3(IPv4, 0), n: 3, unicast: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLab(t, c.n)
			prios := []uint8{254, 200, 100}
			var gs []*Govrrp
			for i := range c.n {
				v := withPrio(c.vr, prios[i])
				if c.unicast {
					for j := range c.n {
						if j != i {
							v.Unicast = append(v.Unicast, l.Routers[j].V4.Addr())
						}
					}
				}
				gs = append(gs, NewGovrrp(t, l.Routers[i], l.Dir, v))
			}
			// Start the lowest first: the others must take over from it.
			for i := c.n - 1; i >= 0; i-- {
				l.Start(t, gs[i])
			}
			k := c.vr.Key()
			l.WaitMaster(t, gs[0], k, converge)
			pr := probeVIP(t, l, gs[0].VRs()[0])
			answeredBy(t, l, pr, gs[0], gs[0].VRs()[0], "elected")
			fail := cablePull
			if c.vr.Version == 2 {
				fail = sigterm // whole seconds: the fast hand-over
			}
			if c.n == 2 {
				failover(t, l, fail, gs[0], gs[1], gs[0].VRs()[0], pr)
				checkClean(t, l, cleanOpts{})
				return
			}
			// Three: the master fails, then the runner-up; the third
			// takes over; they come back in the reverse order.
			var out []Peer
			for i := range 2 {
				fail.fail(t, l, gs[i])
				if fail.isolated {
					out = append(out, gs[i])
				}
				l.WaitMaster(t, gs[i+1], k, takeover+c.vr.MasterDown(1), out...)
			}
			answeredBy(t, l, pr, gs[2], gs[2].VRs()[0], "third router")
			for i := 1; i >= 0; i-- {
				fail.restore(t, l, gs[i])
				if len(out) > 0 {
					out = out[:len(out)-1]
				}
				l.WaitMaster(t, gs[i], k, converge, out...)
			}
			answeredBy(t, l, pr, gs[0], gs[0].VRs()[0], "all back")
			checkClean(t, l, cleanOpts{})
		})
	}
}

// Every failure kind on a two-router VRRPv3 IPv4 LAN, with the hand-over
// timing on the wire and the data-plane outage seen by the host.
func TestGovrrpFailureKinds(t *testing.T) {
	prioChange := failure{name: "priority-change",
		fail:    func(t *testing.T, l *Lab, p Peer) { p.SetPriority(t, 51, 50) },
		restore: func(t *testing.T, l *Lab, p Peer) { p.SetPriority(t, 51, 200) }}
	for _, f := range []failure{cablePull, sigkill, sigterm, prioChange, linkDown} {
		t.Run(f.name, func(t *testing.T) {
			l, gs := govrrpLab(t, []VR{vr3(IPv4, 200)}, []VR{vr3(IPv4, 100)})
			hi, lo := gs[0], gs[1]
			k := VRKey{51, IPv4}
			v := hi.VRs()[0]
			l.WaitMaster(t, hi, k, converge)
			pr := probeVIP(t, l, v)
			mdi := v.MasterDown(100)
			t0 := time.Now()
			failover(t, l, f, hi, lo, v, pr)
			switch f.name {
			case sigterm.name:
				// Priority 0: the backup takes over after Skew_Time.
				checkSkewTakeover(t, l, k, hi, lo, t0)
			case prioChange.name:
				if as := l.Adverts(t).VR(k).From(l.Source(t, hi, k)).Filter(func(a Advert) bool { return a.Priority == 50 }); len(as) == 0 {
					t.Errorf("no advert with the lowered priority 50")
				}
			default:
				checkHandover(t, l, k, hi, lo, t0, 3*interval-20*time.Millisecond, mdi+margin)
			}
			checkOutage(t, pr, f.name+" and back", t0, time.Now(), 3*mdi+margin+interval)
			checkClean(t, l, cleanOpts{})
		})
	}
}

// Load sharing: several VRIDs on one interface, each router master of some
// (RFC 5798 §4.2). A failed router's VRIDs move to the other and come back.
func TestGovrrpLoadSharing(t *testing.T) {
	vip52 := netip.MustParsePrefix("10.77.0.253/24")
	mk := func(p51, p52 uint8) []VR {
		a := vr3(IPv4, p51)
		b := VR{VRID: 52, Version: 3, Family: IPv4, Priority: p52, Interval: interval, VIPs: []netip.Prefix{vip52}}
		c := vr3(IPv6, p52)
		c.VRID = 53
		return []VR{a, b, c}
	}
	l, gs := govrrpLab(t, mk(200, 100), mk(100, 200))
	r1, r2 := gs[0], gs[1]
	k51, k52, k53 := VRKey{51, IPv4}, VRKey{52, IPv4}, VRKey{53, IPv6}
	owners := func(m51, m52 Peer, ignore ...Peer) {
		t.Helper()
		l.WaitMaster(t, m51, k51, converge, ignore...)
		l.WaitMaster(t, m52, k52, converge, ignore...)
		l.WaitMaster(t, m52, k53, converge, ignore...)
	}
	owners(r1, r2)
	p51 := probeVIP(t, l, r1.VRs()[0])
	p52 := probeVIP(t, l, r1.VRs()[1])
	answeredBy(t, l, p51, r1, r1.VRs()[0], "vrid 51")
	answeredBy(t, l, p52, r2, r1.VRs()[1], "vrid 52")

	l.Unplug(t, r1)
	owners(r2, r2, r1)
	answeredBy(t, l, p51, r2, r1.VRs()[0], "vrid 51 with r1 unplugged")
	l.Plug(t, r1)
	owners(r1, r2)
	answeredBy(t, l, p51, r1, r1.VRs()[0], "vrid 51 with r1 back")

	r2.Stop(t)
	owners(r1, r1)
	answeredBy(t, l, p52, r1, r1.VRs()[1], "vrid 52 with r2 stopped")
	r2.Start(t)
	owners(r1, r2)
	answeredBy(t, l, p52, r2, r1.VRs()[1], "vrid 52 with r2 back")
	checkClean(t, l, cleanOpts{})
}

// Preempt_Mode off: a higher-priority backup that starts late does not take
// over; it does when the master goes. Preempt delay: it takes over, but not
// before the delay has passed since it first heard the lower-priority
// master (so not before the delay since its start either).
func TestGovrrpPreempt(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		hiVR := vr3(IPv4, 200)
		hiVR.NoPreempt = true
		l, hi, lo, k := loFirst(t, hiVR)
		l.Start(t, hi)
		l.WaitState(t, hi, k, Backup, takeover)
		l.StaysMaster(t, lo, k, 10*hiVR.MasterDown(200))
		lo.Stop(t)
		l.WaitMaster(t, hi, k, takeover)
		// preempt off does not stop the lower one from yielding.
		lo.Start(t)
		l.StaysMaster(t, hi, k, 5*hiVR.MasterDown(100))
		checkClean(t, l, cleanOpts{})
	})
	t.Run("delay", func(t *testing.T) {
		const delay = 2 * time.Second
		hiVR := vr3(IPv4, 200)
		hiVR.PreemptDelay = delay
		l, hi, _, k := loFirst(t, hiVR)
		t0 := time.Now()
		l.Start(t, hi)
		l.WaitMaster(t, hi, k, delay+takeover)
		as := l.Adverts(t).VR(k).From(l.Source(t, hi, k)).Filter(func(a Advert) bool { return a.Priority == 200 && a.Time.After(t0) })
		if len(as) == 0 {
			t.Fatal("no advert from the preempting router")
		}
		took := as[0].Time.Sub(t0)
		t.Logf("start -> first advert as master: %v (preempt_delay %v)", took.Round(time.Millisecond), delay)
		if took < delay || took > delay+hiVR.MasterDown(200)+takeover {
			t.Errorf("preempted %v after start, want after preempt_delay %v and soon after", took, delay)
		}
		checkClean(t, l, cleanOpts{})
	})
}

// loFirst is a lab where lo (priority 100) is Master before hi (hiVR, not
// started) comes.
func loFirst(t *testing.T, hiVR VR) (l *Lab, hi, lo *Govrrp, k VRKey) {
	t.Helper()
	l = NewLab(t, 2)
	hi = NewGovrrp(t, l.Routers[0], l.Dir, hiVR)
	lo = NewGovrrp(t, l.Routers[1], l.Dir, vr3(IPv4, 100))
	k = hiVR.Key()
	l.Start(t, lo)
	l.WaitMaster(t, lo, k, converge)
	return l, hi, lo, k
}

// Priority 255: the address owner is Master at once when it starts, even
// over a running master; a backup covers for it while it is gone; its VIP
// is a real address of its eth0 and stays there through restarts and
// stops.
func TestGovrrpOwner(t *testing.T) {
	ownerVR := vr3(IPv4, 255)
	l := NewLab(t, 2)
	owner := NewGovrrp(t, l.Routers[0], l.Dir, ownerVR)
	bk := NewGovrrp(t, l.Routers[1], l.Dir, vr3(IPv4, 100))
	k := ownerVR.Key()
	hasVIP := func(what string) {
		t.Helper()
		out, err := owner.Node().IP("-4", "addr", "show", "dev", "eth0")
		if err != nil || !strings.Contains(out, " "+vip4.String()+" ") {
			t.Errorf("%s: the owner's eth0 lost its address %v:\n%s", what, vip4, out)
		}
	}
	l.Start(t, bk)
	l.WaitMaster(t, bk, k, converge)
	t0 := time.Now()
	l.Start(t, owner)
	took := l.WaitMaster(t, owner, k, takeover)
	t.Logf("owner master %v after its start", took.Round(time.Millisecond))
	hasVIP("owner running")
	if as := l.Adverts(t).VR(k).From(l.Source(t, owner, k)).Filter(func(a Advert) bool { return a.Time.After(t0) && a.Priority != 255 && a.Priority != 0 }); len(as) > 0 {
		t.Errorf("owner advertised priority %d", as[0].Priority)
	}
	pr := probeVIP(t, l, ownerVR)
	answeredBy(t, l, pr, owner, ownerVR, "owner master")

	owner.Kill(t)
	l.WaitMaster(t, bk, k, takeover)
	hasVIP("owner killed")
	l.Start(t, owner)
	l.WaitMaster(t, owner, k, takeover)
	hasVIP("owner restarted")

	owner.Stop(t)
	l.WaitMaster(t, bk, k, takeover)
	hasVIP("owner stopped")
	l.Start(t, owner)
	l.WaitMaster(t, owner, k, takeover)
	answeredBy(t, l, pr, owner, ownerVR, "owner back")
	checkClean(t, l, cleanOpts{})
}

// macs formats a set of MACs for messages.
func macs(ms []string) string { return "[" + strings.Join(ms, " ") + "]" }

// Data plane at 10 ms adverts: during a cable pull of the master, the
// host's longest ping outage stays within Master_Down_Interval (3x for CI
// noise), and only the master answers for the VIP, before and after.
func TestDataPlane10ms(t *testing.T) {
	const fast = 10 * time.Millisecond
	mk := func(p uint8) VR { v := vr3(IPv4, p); v.Interval = fast; return v }
	l, gs := govrrpLab(t, []VR{mk(200)}, []VR{mk(100)})
	hi, lo := gs[0], gs[1]
	v := hi.VRs()[0]
	k := v.Key()
	mdi := v.MasterDown(100)
	l.WaitMaster(t, hi, k, converge)
	pr := probeVIP(t, l, v)
	hiMAC, loMAC := macOf(t, hi), macOf(t, lo)
	for round := 1; round <= 2; round++ {
		time.Sleep(300 * time.Millisecond)
		before := pr.Outage(time.Now().Add(-250*time.Millisecond), time.Now())
		if !slices.Equal(before.MACs, []string{hiMAC}) {
			t.Errorf("round %d: before the pull the VIP was answered by %s, want only the master's %s", round, macs(before.MACs), hiMAC)
		}
		t0 := time.Now()
		l.Unplug(t, hi)
		l.WaitMaster(t, lo, k, takeover, hi)
		waitReply(t, pr, "the takeover")
		time.Sleep(200 * time.Millisecond)
		t1 := time.Now()
		o := checkOutage(t, pr, fmt.Sprintf("round %d cable pull (Master_Down_Interval %v, bound 3x)", round, mdi), t0, t1, 3*mdi)
		// After the outage, only the new master.
		after := pr.Outage(o.To, t1)
		if !slices.Equal(after.MACs, []string{loMAC}) {
			t.Errorf("round %d: after the takeover the VIP was answered by %s, want only the new master's %s", round, macs(after.MACs), loMAC)
		}
		if slices.Contains(o.MACs, hiMAC) && slices.Index(o.MACs, loMAC) >= 0 && slices.Index(o.MACs, hiMAC) > slices.Index(o.MACs, loMAC) {
			t.Errorf("round %d: the old master answered after the new one: %s", round, macs(o.MACs))
		}
		checkHandover(t, l, k, hi, lo, t0, 3*fast-5*time.Millisecond, 3*mdi)
		l.Plug(t, hi)
		l.WaitMaster(t, hi, k, takeover)
		waitReply(t, pr, "preemption")
	}
	checkClean(t, l, cleanOpts{})
}
