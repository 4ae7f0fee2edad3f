package interop

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/lab/probe"
)

// Timing of the scenarios: 100 ms adverts keep the runs short while leaving
// the 2-core CI machine plenty of slack (Master_Down_Interval 361 ms at
// priority 100); 10 ms adverts would make scheduling noise a large part of
// every measurement.
const (
	interval   = 100 * time.Millisecond
	probeEvery = time.Millisecond
	converge   = 15 * time.Second // start-up to a settled election
	takeover   = 5 * time.Second  // bound on any wait for a state change
	// margin absorbs scheduling and capture noise in timing assertions.
	margin = 250 * time.Millisecond
)

var (
	vip4 = netip.MustParsePrefix("10.77.0.254/24")
	vip6 = netip.MustParsePrefix("fd77::254/64")
)

func vr3(fam Family, prio uint8) VR {
	v := VR{VRID: 51, Version: 3, Family: fam, Priority: prio, Interval: interval, VIPs: []netip.Prefix{vip4}}
	if fam == IPv6 {
		v.VIPs = []netip.Prefix{vip6}
	}
	return v
}

// macOf is the MAC of a peer's eth0.
func macOf(t *testing.T, p Peer) string {
	t.Helper()
	ifi, err := p.Node().Interface("eth0")
	if err != nil {
		t.Fatal(err)
	}
	return ifi.HardwareAddr.String()
}

// checkOutage fails when the host saw a longer outage than bound in
// [from, to].
func checkOutage(t *testing.T, pr *probe.Target, what string, from, to time.Time, bound time.Duration) probe.Outage {
	t.Helper()
	o := pr.Outage(from, to)
	t.Logf("%s: %v", what, o)
	if o.Len > bound {
		t.Errorf("%s: data-plane outage %v > bound %v", what, o.Len, bound)
	}
	return o
}

// waitReply waits for the VIP to answer again after what.
func waitReply(t *testing.T, pr *probe.Target, what string) {
	t.Helper()
	if !pr.WaitReply(time.Now(), takeover) {
		t.Fatalf("no echo reply after %s", what)
	}
}

// recovered waits for the VIP to answer again after what, which began at
// from, and checks the outage since then against bound.
func recovered(t *testing.T, pr *probe.Target, what string, from time.Time, bound time.Duration) probe.Outage {
	t.Helper()
	waitReply(t, pr, what)
	return checkOutage(t, pr, what, from, time.Now(), bound)
}

// pairLab makes a two-router lab and starts a (newA with va) on the first
// router, then b (newB with vb) on the second.
func pairLab[A, B Peer](t *testing.T, newA func(testing.TB, *lab.Node, string, ...VR) A, va VR, newB func(testing.TB, *lab.Node, string, ...VR) B, vb VR) (*Lab, A, B) {
	t.Helper()
	l := NewLab(t, 2)
	a, b := newA(t, l.Routers[0], l.Dir, va), newB(t, l.Routers[1], l.Dir, vb)
	l.Start(t, a)
	l.Start(t, b)
	return l, a, b
}

// checkSkewTakeover [5798-6.4.2-h][5798-6.1-d]: after oldM's first
// priority-0 advert since from, newM (priority 100) advertises within
// Skew_Time, not Master_Down_Interval.
func checkSkewTakeover(t *testing.T, l *Lab, k VRKey, oldM, newM Peer, from time.Time) {
	t.Helper()
	as := l.Adverts(t).VR(k).Between(from, time.Now())
	bye := as.From(l.Source(t, oldM, k)).Filter(func(a Advert) bool { return a.Priority == 0 })
	if len(bye) == 0 {
		t.Fatalf("no priority-0 advert from %s", oldM.Name())
	}
	first := as.From(l.Source(t, newM, k)).Filter(func(a Advert) bool { return !a.Time.Before(bye[0].Time) })
	if len(first) == 0 {
		t.Fatalf("%s never advertised after %s's priority 0", newM.Name(), oldM.Name())
	}
	skew := time.Duration(256-100) * interval / 256
	gap := first[0].Time.Sub(bye[0].Time)
	t.Logf("%s priority 0 -> %s's first advert: %v (Skew_Time %v)", oldM.Name(), newM.Name(), gap, skew)
	if gap > skew+margin {
		t.Errorf("takeover after priority 0 took %v, want about Skew_Time %v (bound %v)", gap, skew, skew+margin)
	}
}

// checkHandover finds on the wire the last advert of oldM before the first
// of newM after `after`, and checks the gap lies in [lo, hi].
func checkHandover(t *testing.T, l *Lab, k VRKey, oldM, newM Peer, after time.Time, lo, hi time.Duration) (last, first Advert) {
	t.Helper()
	as := l.Adverts(t).VR(k)
	last, first, gap, err := as.Handover(after, l.Source(t, oldM, k), l.Source(t, newM, k))
	if err != nil {
		t.Fatalf("handover %s -> %s: %v", oldM.Name(), newM.Name(), err)
	}
	t.Logf("handover %s -> %s on the wire: %v\n  last  %v\n  first %v", oldM.Name(), newM.Name(), gap.Round(time.Microsecond), last, first)
	if gap < lo || gap > hi {
		t.Errorf("handover %s -> %s: gap %v outside [%v, %v]", oldM.Name(), newM.Name(), gap, lo, hi)
	}
	return last, first
}

// Scenario 1: two keepalived routers, VRRPv3 over IPv4. The higher priority
// wins; pulling its cable hands over to the backup after
// Master_Down_Interval; plugging it back preempts.
func TestKeepalivedCablePull(t *testing.T) {
	l, hi, lo := pairLab(t, NewKeepalived, vr3(IPv4, 150), NewKeepalived, vr3(IPv4, 100))
	k := VRKey{51, IPv4}
	l.WaitMaster(t, hi, k, converge)

	pr := probeVIP(t, l, vr3(IPv4, 100))
	if got, want := pr.LastMAC(), macOf(t, hi); got != want {
		t.Errorf("VIP answered by %s, want the master's %s", got, want)
	}

	mdi := vr3(IPv4, 100).MasterDown(100)
	t0 := time.Now()
	l.Unplug(t, hi)
	l.WaitMaster(t, lo, k, takeover, hi)
	recovered(t, pr, "cable pull", t0, 3*mdi+margin)
	if got, want := pr.LastMAC(), macOf(t, lo); got != want {
		t.Errorf("after takeover the VIP is answered by %s, want the new master's %s", got, want)
	}
	checkHandover(t, l, k, hi, lo, t0, 3*interval-20*time.Millisecond, mdi+margin)

	t1 := time.Now()
	l.Plug(t, hi)
	l.WaitMaster(t, hi, k, takeover)
	recovered(t, pr, "preemption", t1, 3*mdi+margin)
	if got, want := pr.LastMAC(), macOf(t, hi); got != want {
		t.Errorf("after preemption the VIP is answered by %s, want %s", got, want)
	}
}

// Scenario 2: keepalived and FRR share one VRRPv3 IPv4 virtual router. They
// converge on the higher priority; a SIGTERM of the master (priority-0
// advert) hands over within Skew_Time instead of Master_Down_Interval;
// priority changes (keepalived reload, FRR vtysh) move the master back and
// forth.
func TestKeepalivedFRRShutdown(t *testing.T) {
	l, ka, fr := pairLab(t, NewKeepalived, vr3(IPv4, 100), NewFRR, vr3(IPv4, 150))
	k := VRKey{51, IPv4}
	l.WaitMaster(t, fr, k, converge)
	pr := probeVIP(t, l, vr3(IPv4, 100))

	// SIGTERM: FRR sends priority 0, keepalived (priority 100) takes over
	// after Skew_Time = 61 ms.
	t0 := time.Now()
	fr.Stop(t)
	l.WaitMaster(t, ka, k, takeover)
	recovered(t, pr, "FRR SIGTERM", t0, 3*vr3(IPv4, 100).MasterDown(100)+margin)
	checkSkewTakeover(t, l, k, fr, ka, t0)

	// FRR comes back with the higher priority and preempts.
	l.Start(t, fr)
	l.WaitMaster(t, fr, k, converge)

	// keepalived raised above FRR (config reload) preempts...
	ka.SetPriority(t, 51, 200)
	l.WaitMaster(t, ka, k, takeover)
	// ... and FRR raised above that (vtysh) takes it back.
	t2 := time.Now()
	fr.SetPriority(t, 51, 250)
	l.WaitMaster(t, fr, k, takeover)
	recovered(t, pr, "priority change", t2, 3*vr3(IPv4, 100).MasterDown(100)+margin)
	if as := l.Adverts(t).VR(k).From(l.Source(t, fr, k)).Filter(func(a Advert) bool { return a.Priority == 250 }); len(as) == 0 {
		t.Errorf("no advert with the new priority 250 from FRR")
	}
}

// Scenario 3: two FRR routers, VRRPv3 over IPv6. The master's eth0 is set
// down inside its namespace; the backup takes over; eth0 up again preempts.
// Then SIGKILL of the master: the backup takes over after
// Master_Down_Interval.
func TestFRRIPv6(t *testing.T) {
	l, hi, lo := pairLab(t, NewFRR, vr3(IPv6, 150), NewFRR, vr3(IPv6, 100))
	k := VRKey{51, IPv6}
	l.WaitMaster(t, hi, k, converge)
	pr := probeVIP(t, l, vr3(IPv6, 100))
	mdi := vr3(IPv6, 100).MasterDown(100)

	t0 := time.Now()
	l.LinkDown(t, hi)
	l.WaitMaster(t, lo, k, takeover, hi)
	recovered(t, pr, "eth0 down in the master", t0, 3*mdi+margin)
	checkHandover(t, l, k, hi, lo, t0, 3*interval-20*time.Millisecond, mdi+margin)

	l.LinkUp(t, hi)
	l.WaitMaster(t, hi, k, takeover)

	t1 := time.Now()
	hi.Kill(t)
	l.WaitMaster(t, lo, k, takeover)
	waitReply(t, pr, "SIGKILL of the master")
	checkHandover(t, l, k, hi, lo, t1, 3*interval-20*time.Millisecond, mdi+margin)
	// The killed master's VMAC device stays up with the VIP, so the host may
	// keep reaching it: no data-plane assertion after a SIGKILL of FRR.
	t.Logf("after SIGKILL: %v", pr.Outage(t1, time.Now()))
}

// Scenario 4: keepalived is the master and FRR its backup, VRRPv3 IPv4;
// every failure driver on the keepalived side. SIGKILL (no goodbye): FRR
// takes over after its Master_Down_Interval (360 ms: FRR truncates the skew
// to whole centiseconds). eth0 down inside keepalived's namespace: Fault,
// FRR takes over; eth0 up: keepalived preempts. SIGTERM: priority 0, FRR
// takes over within Skew_Time (60 ms for FRR).
func TestFRRBacksUpKeepalived(t *testing.T) {
	l, ka, fr := pairLab(t, NewKeepalived, vr3(IPv4, 200), NewFRR, vr3(IPv4, 100))
	k := VRKey{51, IPv4}
	l.WaitMaster(t, ka, k, converge)
	mdi := vr3(IPv4, 100).MasterDown(100)

	t0 := time.Now()
	ka.Kill(t)
	l.WaitMaster(t, fr, k, takeover)
	checkHandover(t, l, k, ka, fr, t0, 3*interval-20*time.Millisecond, mdi+margin)

	// keepalived restarts and preempts (it removes the VIPs the killed
	// instance left behind).
	l.Start(t, ka)
	l.WaitMaster(t, ka, k, converge)

	t1 := time.Now()
	l.LinkDown(t, ka)
	l.WaitState(t, ka, k, Fault, takeover)
	l.WaitMaster(t, fr, k, takeover, ka)
	// keepalived's priority-0 advert on Fault cannot leave the downed
	// link: FRR waits its Master_Down_Interval.
	checkHandover(t, l, k, ka, fr, t1, 3*interval-20*time.Millisecond, mdi+margin)
	l.LinkUp(t, ka)
	l.WaitMaster(t, ka, k, takeover)

	pr := probeVIP(t, l, vr3(IPv4, 100))
	t2 := time.Now()
	ka.Stop(t)
	l.WaitMaster(t, fr, k, takeover)
	recovered(t, pr, "keepalived SIGTERM", t2, 3*mdi+margin)
	// FRR truncates Skew_Time to whole centiseconds: 60 ms, within the
	// bound.
	checkSkewTakeover(t, l, k, ka, fr, t2)
}
