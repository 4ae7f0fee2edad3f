package chaos

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// Every case runs one VRRPv3 IPv4 virtual router, VRID 51, 100 ms adverts
// (Master_Down_Interval about 360 ms: a stall of the daemon shows at once),
// on two routers: r1 at priority 200 (Master), r2 at 100 (Backup).
const interval = 100 * time.Millisecond

var (
	vip = netip.MustParsePrefix("10.77.0.254/24")
	key = interop.VRKey{VRID: 51, Family: interop.IPv4}
)

func vr(prio uint8) interop.VR {
	return interop.VR{VRID: 51, Version: 3, Family: interop.IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{vip}}
}

// pair is r1 (Master) and r2 (Backup) on a LAN with a host, without a
// capture (the flood cases would drown tcpdump).
type pair struct {
	lan    *lab.LAN
	host   *lab.Node
	dir    string
	g1, g2 *interop.Govrrp
}

func newPair(t *testing.T, v1, v2 interop.VR) *pair {
	t.Helper()
	lan := lab.NewLAN(t, 2)
	p := &pair{lan: lan, dir: t.TempDir()}
	p.host = lan.AddHost(t)
	p.g1 = interop.NewGovrrp(t, lan.Nodes[0], p.dir, v1)
	p.g2 = interop.NewGovrrp(t, lan.Nodes[1], p.dir, v2)
	p.g1.Start(t)
	waitState(t, p.g1, interop.Master, 10*time.Second)
	p.g2.Start(t)
	waitState(t, p.g2, interop.Backup, 10*time.Second)
	return p
}

// labPair is r1 with v1 and r2 with v2 on the interop lab (a host and a
// capture), both started; it waits until r1 is Master.
func labPair(t *testing.T, v1, v2 interop.VR) (lb *interop.Lab, g1, g2 *interop.Govrrp) {
	t.Helper()
	lb = interop.NewLab(t, 2)
	g1, g2 = interop.NewGovrrp(t, lb.Routers[0], lb.Dir, v1), interop.NewGovrrp(t, lb.Routers[1], lb.Dir, v2)
	lb.Start(t, g1)
	lb.Start(t, g2)
	lb.WaitMaster(t, g1, key, 10*time.Second)
	return lb, g1, g2
}

// waitState waits until g says st for the VR, failing the case otherwise.
func waitState(t *testing.T, g *interop.Govrrp, st interop.State, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if !lab.Poll(within, 5*time.Millisecond, func() bool { s, _ := g.State(key); return s == st }) {
		s, err := g.State(key)
		t.Fatalf("%s: %v after %v, want %v (%v)", g.Name(), s, within, st, err)
	}
	return time.Since(start)
}

// detail is the daemon's view of the VR; a daemon still busy with what the
// case did to it may answer late, but must answer.
func detail(t *testing.T, g *interop.Govrrp) api.RouterDetail {
	t.Helper()
	var d api.RouterDetail
	var err error
	if !lab.Poll(10*time.Second, 20*time.Millisecond, func() bool { d, err = g.Detail(key); return err == nil }) {
		t.Fatalf("%s: no status: %v", g.Name(), err)
	}
	return d
}

// moved reports whether a router made any transition between two snapshots
// (the transition list is capped: the counter and the newest entry decide).
func moved(before, after api.RouterDetail) bool {
	last := func(d api.RouterDetail) time.Time {
		if len(d.Transitions) == 0 {
			return time.Time{}
		}
		return d.Transitions[len(d.Transitions)-1].Time
	}
	return after.Counters["master_transitions"] != before.Counters["master_transitions"] || !last(after).Equal(last(before))
}

// counted is every advert the daemon accounted for: received, or dropped
// with a reason.
func counted(d api.RouterDetail) uint64 {
	n := d.Counters["adverts_received"]
	for _, v := range d.Discards {
		n += v
	}
	return n
}

// usage is a daemon's CPU time (seconds) and resident memory (KiB).
type usage struct {
	cpu float64
	rss uint64
	at  time.Time
}

func usageOf(g *interop.Govrrp) usage {
	u := usage{at: time.Now()}
	if p := g.Proc(); p != nil {
		u.cpu, _ = lab.CPUSeconds(p.PID())
		u.rss, _ = lab.StatusKB(p.PID(), "VmRSS")
	}
	return u
}

// cpuShare is the CPU used between a and z as a share of one core.
func cpuShare(a, z usage) float64 {
	w := z.at.Sub(a.at).Seconds()
	if w <= 0 {
		return 0
	}
	return (z.cpu - a.cpu) / w
}

func mib(kb uint64) float64 { return float64(kb) / 1024 }

// crashed reports what in the daemon's log says it crashed.
func crashed(g *interop.Govrrp) string {
	log := g.Logs()
	for _, bad := range []string{"panic:", "fatal error:", "SIGSEGV"} {
		if strings.Contains(log, bad) {
			return bad
		}
	}
	return ""
}

// since lists the transitions in after that are newer than before's newest,
// with their reasons, for the report of a broken promise.
func since(before, after api.RouterDetail) string {
	var last time.Time
	if n := len(before.Transitions); n > 0 {
		last = before.Transitions[n-1].Time
	}
	var out []string
	for _, e := range after.Transitions {
		if e.Time.After(last) {
			out = append(out, fmt.Sprintf("%s %s→%s (%s)", e.Time.Format("15:04:05.000"), e.From, e.To, e.Reason))
		}
	}
	return strings.Join(out, ", ")
}
