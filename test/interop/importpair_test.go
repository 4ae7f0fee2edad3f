package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/keepalived"
	"govrrp/internal/lab"
)

// importPairs are issue 13's representative keepalived pairs: each is two
// routers' keepalived.conf, testdata/keepalived/<name>-r1.conf and -r2.conf,
// as people write them, leaning on keepalived 2.2.7's defaults. keepalived
// runs r1's unchanged on the first router, govrrpd the import of r2's on
// the second.
var importPairs = []struct {
	name string
	// addrs are the secondary addresses on each router's eth0 (the
	// unicast_src_ip), as the operator has them.
	addrs [2][]string
	clean cleanOpts
	// warn matches the govrrpd log warnings the pair expects; any other
	// warning or error fails it.
	warn *regexp.Regexp
	run  func(t *testing.T, l *Lab, ka *Keepalived, gv *Govrrp, clean cleanOpts)
}{
	// VRRPv2 by default for IPv4 (issue 13's split brain: keepalived
	// drops other versions [3768-7.1-b]), advert_int 1 s given or left
	// out (a v2 Backup drops another interval [3768-7.1-i]), state MASTER
	// with a priority still waiting Master_Down_Interval, auth_pass
	// truncated to 8 characters (the 8 auth bytes must match
	// [3768-7.1-f]), an IPv6 address in an IPv4 instance (dropped by both:
	// the address counts must match [3768-7.1-h]), the default garp
	// settings, preemption on.
	{name: "defaults", run: preemptingPair},
	// IPv6 is VRRPv3 whatever vrrp_version says, 1 s by default; lists
	// without a link-local address go out as they are, since keepalived
	// drops an advert whose list differs from its own (issue 13, "Address
	// lists"); govrrp warns about keepalived's such lists [E8300]
	// [5798-5.2.9-a] and accepts them.
	{name: "ipv6", run: preemptingPair, clean: cleanOpts{warnings: ipv6Warnings}, warn: noLinkLocal},
	// unicast_peer and unicast_src_ip on both sides, vrrp_check_unicast_src
	// on keepalived's: govrrpd must send from the unicast_src_ip, also over
	// IPv6, or keepalived drops its adverts and both are Master (issue 13,
	// "Unicast").
	{name: "unicast", run: preemptingPair, clean: cleanOpts{warnings: ipv6Warnings}, warn: noLinkLocal,
		addrs: [2][]string{{"10.77.0.101/24", "fd77::101/64"}, {"10.77.0.102/24", "fd77::102/64"}}},
	// nopreempt with state BACKUP, and preempt_delay.
	{name: "nopreempt", run: nopreemptPair},
}

// noLinkLocal matches govrrpd's warnings about IPv6 lists without a
// link-local address: validate's about its own, and the receive warning
// about keepalived's [E8300].
var noLinkLocal = regexp.MustCompile(`does not start with a link-local address|reason=first_not_link_local`)

// govrrpdComplaints are govrrpd's warnings and errors.
var govrrpdComplaints = regexp.MustCompile(`level=(WARN|ERROR)`)

// TestImportedKeepalivedDefaults is issue 13's proof in namespaces for the
// pairs of importPairs: keepalived runs the original on one router, govrrpd
// its partner's import on the other, and they form one group: one Master
// per VRID, keepalived the better priority for some and govrrpd for others,
// no complaint in keepalived's log, no discard or unexpected receive warning
// in govrrpd's counters, no warning or error in its log; when either side
// stops, the other takes every VR, and when it comes back the VRs go where
// preemption says.
//
// The pairs run keepalived's true advert_int default, 1 s, so each takes
// 25 to 45 s, mostly waiting for Master_Down_Interval; they run side by side
// on LANs of their own (the only parallel interop test: 1 s adverts leave
// timings plenty of slack).
func TestImportedKeepalivedDefaults(t *testing.T) {
	// All at once: Run may be called from several goroutines, and so
	// the pairs are not held to -parallel (2 on a 2-core machine).
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, tc := range importPairs {
		wg.Go(func() {
			t.Run(tc.name, func(t *testing.T) {
				l := NewLab(t, 2)
				for i, as := range tc.addrs {
					for _, a := range as {
						l.Routers[i].MustIP(t, "addr", "add", a, "dev", "eth0", "nodad")
					}
				}
				r1 := filepath.Join("testdata", "keepalived", tc.name+"-r1.conf")
				r2 := filepath.Join("testdata", "keepalived", tc.name+"-r2.conf")
				conf, err := os.ReadFile(r1)
				if err != nil {
					t.Fatal(err)
				}
				// keepalived's side is described by its own import: the
				// harness needs its instances, priorities and sources.
				_, kaVRs := importedVRs(t, r1)
				yaml, gvVRs := importedVRs(t, r2)
				ka := NewKeepalived(t, l.Routers[0], l.Dir, kaVRs...)
				ka.UseConfig(string(conf))
				gv := NewGovrrp(t, l.Routers[1], l.Dir, gvVRs...)
				gv.UseImported(yaml)
				start := time.Now()
				tc.run(t, l, ka, gv, tc.clean)
				checkClean(t, l, tc.clean)
				if bad := matchingLines(gv.Logs(), govrrpdComplaints, tc.warn); bad != "" {
					t.Errorf("govrrpd complained:\n%s", bad)
				}
				t.Logf("%s: %v", tc.name, time.Since(start).Round(100*time.Millisecond))
			})
		})
	}
}

// importedVRs imports a keepalived.conf and returns the YAML and its
// routers as VRs named as keepalived's instances. The files are complete:
// nothing may be left out.
func importedVRs(t *testing.T, path string) (string, []VR) {
	t.Helper()
	res, err := keepalived.Import(path, keepalived.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome() != keepalived.Complete {
		t.Fatalf("%s: the import left something out: %v", path, res.Notes)
	}
	c, err := config.Parse(path+".yaml", res.YAML)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.YAML)
	}
	var vrs []VR
	for _, r := range c.Routers {
		vrs = append(vrs, VR{Name: r.Name, VRID: r.VRID, Version: int(r.Version), Family: r.Family,
			Priority: r.Priority, Interval: r.AdvertInterval, VIPs: r.Addresses, AuthPass: r.AuthPassword,
			Unicast: r.UnicastPeers, Source: r.Source(), NoLinkLocal: r.Family == IPv6,
			NoPreempt: !r.Preempt, PreemptDelay: r.PreemptDelay})
	}
	return string(res.YAML), vrs
}

// pairKeys are the VRs of a pair, and for each the side with the better
// priority (the files never tie).
func pairKeys(ka *Keepalived, gv *Govrrp) (keys []VRKey, better map[VRKey]Peer) {
	better = map[VRKey]Peer{}
	prio := map[VRKey]uint8{}
	for _, v := range gv.VRs() {
		prio[v.Key()] = v.Priority
	}
	for _, v := range ka.VRs() {
		keys = append(keys, v.Key())
		better[v.Key()] = Peer(gv)
		if v.Priority > prio[v.Key()] {
			better[v.Key()] = ka
		}
	}
	return keys, better
}

// takesAll waits until p is the Master of every VR, the other side
// stopped: its priority-0 adverts hand over in Skew_Time [5798-6.4.2-h];
// Master_Down_Interval bounds it.
func takesAll(t *testing.T, l *Lab, p Peer) {
	t.Helper()
	start := time.Now()
	for _, v := range p.VRs() {
		l.WaitMaster(t, p, v.Key(), takeover+v.MasterDown(1))
	}
	t.Logf("%s took every VR in %v", p.Name(), time.Since(start).Round(10*time.Millisecond))
}

// preemptingPair: the better priority wins each VRID, also back after
// either side restarts: preemption is keepalived's default, so the side
// back discards the other's lower-priority adverts and takes over at its
// Master_Down_Interval [5798-6.4.2-j].
func preemptingPair(t *testing.T, l *Lab, ka *Keepalived, gv *Govrrp, clean cleanOpts) {
	keys, better := pairKeys(ka, gv)
	settle := func(what string) {
		t.Helper()
		start := time.Now()
		for _, k := range keys {
			l.WaitMaster(t, better[k], k, converge)
		}
		t.Logf("%s: one Master per VRID, the better priority, after %v", what, time.Since(start).Round(10*time.Millisecond))
	}
	l.Start(t, ka)
	l.Start(t, gv)
	settle("start")
	checkClean(t, l, clean)

	ka.Stop(t)
	takesAll(t, l, gv)
	ka.Start(t)
	settle("keepalived back")
	checkClean(t, l, clean)

	gv.Stop(t)
	takesAll(t, l, ka)
	gv.Start(t)
	settle("govrrpd back")
}

// nopreemptPair: VI_N1 and VI_N2 (nopreempt) stay with whoever is Master
// when the better priority comes back, each side accepting the other's
// lower-priority adverts [5798-6.4.2-i]; VI_D (preempt_delay 3, govrrpd the
// better) is taken back only after the delay (keepalived's preempt_delay,
// docs/CONFORMANCE.md); VI_M (nopreempt, but state MASTER on govrrpd's
// side, which clears it) is taken back at once [5798-6.4.2-j].
func nopreemptPair(t *testing.T, l *Lab, ka *Keepalived, gv *Govrrp, clean cleanOpts) {
	keys, better := pairKeys(ka, gv)
	// held: nopreempt on both sides; waiting: held, or govrrpd's preempt
	// delay not yet run out when it comes back.
	held, waiting := map[VRKey]bool{}, []VRKey{}
	for _, v := range gv.VRs() {
		held[v.Key()] = v.NoPreempt
		if v.NoPreempt || v.PreemptDelay > 0 {
			waiting = append(waiting, v.Key())
		}
	}
	l.Start(t, ka)
	l.Start(t, gv)
	for _, k := range keys {
		if !held[k] {
			l.WaitMaster(t, better[k], k, converge)
			continue
		}
		// Both start as Backup; the first whose Master_Down_Interval
		// runs out is Master and stays. The two may run out together
		// (both Master, the better priority then stays): the Master is
		// the one that has been alone for more than an advert interval.
		var m Peer
		var since time.Time
		if !lab.Poll(converge, 20*time.Millisecond, func() bool {
			ks, _ := ka.State(k)
			gs, _ := gv.State(k)
			var now Peer
			switch {
			case ks == Master && gs == Backup:
				now = ka
			case gs == Master && ks == Backup:
				now = gv
			}
			if now == nil || now != m {
				m, since = now, time.Now()
				return false
			}
			return time.Since(since) > 1500*time.Millisecond
		}) {
			t.Fatalf("%v: no lasting Master; states: %s", k, l.states(k))
		}
		l.WaitMaster(t, m, k, converge)
	}
	checkClean(t, l, clean)

	// The side back is Backup at once, and stays so for keys past its
	// Master_Down_Interval (3.61 s at most) and an advert more.
	back := func(p, other Peer, keys []VRKey, hold time.Duration) {
		t.Helper()
		start := time.Now()
		p.Start(t)
		for _, v := range p.VRs() {
			l.WaitState(t, p, v.Key(), Backup, takeover)
		}
		l.StaysMasterAll(t, other, keys, hold-time.Since(start))
	}
	// keepalived is back with the better priority for VI_N1 only, and
	// nopreempt there.
	ka.Stop(t)
	takesAll(t, l, gv)
	back(ka, gv, keys, 4600*time.Millisecond)
	checkClean(t, l, clean)

	// govrrpd is back with the better priority for VI_N2 (nopreempt),
	// VI_D (preempt_delay 3) and VI_M. Without the delay it would take
	// VI_D at its Master_Down_Interval, 3.41 s; with it, not before the
	// last advert it accepts, at least 2 s after the first it hears, plus
	// that interval.
	gv.Stop(t)
	takesAll(t, l, ka)
	start := time.Now()
	back(gv, ka, waiting, 4400*time.Millisecond)
	for _, k := range keys {
		if !held[k] {
			l.WaitMaster(t, gv, k, converge)
			t.Logf("%v: govrrpd Master by %v after its start", k, time.Since(start).Round(10*time.Millisecond))
		}
	}
	for _, k := range keys {
		if held[k] {
			l.StaysMaster(t, ka, k, 100*time.Millisecond)
		}
	}
}
