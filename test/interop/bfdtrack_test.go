package interop

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// govrrpd tracks a BFD session to FRR bfdd (track: bfd, weight -150):
//   - while the session is not yet Up it runs at 200-150 = 50 and
//     keepalived (100) is Master; Up gives 200 back and govrrpd preempts;
//   - FRR's `shutdown` is AdminDown: no failure, no failover, the session's
//     state Down but the tracked object not failed [5882-3.2];
//   - bfdd killed: a failure within the detection time, priority 50, and
//     keepalived takes over;
//   - /v1/bfd counts one failure and the AdminDown apart.
func TestTrackBFDWithFRR(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 3)
	k := vr3(IPv4, 200).Key()
	frr := NewFRRBFD(t, l.Routers[2], l.Dir, "bfd\n peer 10.77.0.1 interface eth0\n  receive-interval 10\n  transmit-interval 10\n  detect-multiplier 3\n !\n!\n")
	frr.Start(t)
	ka := NewKeepalived(t, l.Routers[1], l.Dir, vr3(IPv4, 100))
	g := NewGovrrp(t, l.Routers[0], l.Dir, vr3(IPv4, 200))
	g.Top = "bfd:\n  - {name: frr, peer: 10.77.0.3, interface: eth0, local_address: 10.77.0.1, min_tx: 10ms, min_rx: 10ms}\n"
	g.Routers = fmt.Sprintf(`  - name: %s
    interface: eth0
    vrid: %d
    priority: 200
    advert_interval: %v
    accept: true
    addresses: [%v]
    track: {bfd: [{name: frr, weight: -150}]}
`, routerName(k), k.VRID, interval, vip4)
	l.Start(t, ka)
	l.Start(t, g)
	defer func() {
		if t.Failed() {
			t.Logf("bfdd:\n%s", frr.Logs())
		}
	}()
	l.WaitMaster(t, g, k, converge)
	tracked := func() (api.Tracked, uint8) {
		d, err := g.Detail(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range d.Tracked {
			if o.Kind == "bfd" {
				return o, d.EffectivePriority
			}
		}
		t.Fatalf("no tracked bfd object: %+v", d.Tracked)
		return api.Tracked{}, 0
	}
	if o, p := tracked(); o.Failed || o.State != "Up" || p != 200 {
		t.Fatalf("after Up: %+v at %d", o, p)
	}

	// AdminDown: the session goes Down, the router stays Master at 200.
	if _, err := frr.Vtysh("configure terminal", "bfd", "peer 10.77.0.1 interface eth0", "shutdown"); err != nil {
		t.Fatal(err)
	}
	if !lab.Poll(2*time.Second, 10*time.Millisecond, func() bool { o, _ := tracked(); return o.State == "Down" }) {
		o, _ := tracked()
		t.Fatalf("FRR's shutdown: session %+v", o)
	}
	// Five adverts' worth: a failover would show by then.
	if lab.Poll(5*interval, 10*time.Millisecond, func() bool {
		o, p := tracked()
		st, _ := g.State(k)
		return o.Failed || p != 200 || st != Master
	}) {
		o, p := tracked()
		t.Fatalf("after FRR's shutdown (AdminDown): %+v at %d; states %s", o, p, l.states(k))
	}
	if _, err := frr.Vtysh("configure terminal", "bfd", "peer 10.77.0.1 interface eth0", "no shutdown"); err != nil {
		t.Fatal(err)
	}
	// Up again, and settled at 10 ms × 3 both ways (the intervals are 1 s
	// until then, and so is the detection time).
	session := func() api.BFDSession {
		bs, err := g.Client().BFD(context.Background())
		if err != nil || len(bs.Sessions) != 1 {
			t.Fatalf("/v1/bfd: %+v %v", bs, err)
		}
		return bs.Sessions[0]
	}
	if !lab.Poll(5*time.Second, 10*time.Millisecond, func() bool {
		s := session()
		return s.State == "Up" && s.TxIntervalMS == 10 && s.RxIntervalMS == 10 && s.DetectionMS == 30
	}) {
		t.Fatalf("after no shutdown: %+v", session())
	}
	if o, _ := tracked(); o.State != "Up" || o.Failed {
		t.Fatalf("after no shutdown: %+v", o)
	}

	// bfdd killed: a failure; keepalived (100 > 50) preempts.
	frr.Kill(t)
	start := time.Now()
	if !lab.Poll(time.Second, time.Millisecond, func() bool { o, p := tracked(); return o.Failed && p == 50 }) {
		o, p := tracked()
		t.Fatalf("after bfdd died: %+v at %d", o, p)
	}
	t.Logf("bfdd killed: priority 50 after %v", time.Since(start).Round(time.Millisecond))
	l.WaitMaster(t, ka, k, takeover)

	if s := session(); s.State != "Down" || s.Diag != "control_detection_time_expired" || s.Counters[api.BFDCounterFailures] != 1 ||
		s.Counters[api.BFDCounterAdminDowns] != 1 || s.Counters[api.BFDCounterUps] != 2 {
		t.Fatalf("/v1/bfd: %+v", s)
	}
}

// govrrpd tracks a BFD session to keepalived's bfd_instance with weight 0
// (Fault while down) on one router and reversed on another (Fault while
// Up), as keepalived's own track_bfd reverse: before the session is Up the
// first waits in Fault (track-fault) and the second is Master; Up swaps
// them; keepalived killed is a failure and swaps them back.
func TestTrackBFDWithKeepalived(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	l := NewLab(t, 2)
	them := l.Routers[1]
	conf := filepath.Join(l.Dir, "keepalived-bfd.conf")
	if err := os.WriteFile(conf, []byte("global_defs {\n  router_id bfdpeer\n}\nbfd_instance us {\n  neighbor_ip 10.77.0.1\n  source_ip 10.77.0.2\n  min_rx 10\n  min_tx 10\n  multiplier 3\n  hoplimit 255\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(l.Dir, "keepalived-bfd.log")
	fault, reverse := VR{VRID: 51, Version: 3, Family: IPv4, Priority: 100, Interval: interval, VIPs: []netip.Prefix{vip4}},
		VR{VRID: 52, Version: 3, Family: IPv4, Priority: 100, Interval: interval, VIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.253/24")}}
	g := NewGovrrp(t, l.Routers[0], l.Dir, fault, reverse)
	g.Top = "bfd:\n  - {name: ka, peer: 10.77.0.2, interface: eth0, min_tx: 10ms, min_rx: 10ms}\n"
	for _, r := range []struct {
		v     VR
		track string
	}{{fault, "{name: ka}"}, {reverse, "{name: ka, reverse: true}"}} {
		g.Routers += fmt.Sprintf("  - {name: %s, interface: eth0, vrid: %d, priority: 100, advert_interval: %v, addresses: [%v], track: {bfd: [%s]}}\n",
			routerName(r.v.Key()), r.v.VRID, interval, r.v.VIPs[0], r.track)
	}
	l.Start(t, g)
	l.WaitState(t, g, fault.Key(), Fault, converge)
	l.WaitState(t, g, reverse.Key(), Master, converge)
	if d, err := g.Detail(fault.Key()); err != nil || d.FaultReason != "track-fault" {
		t.Fatalf("before Up: %+v %v", d.RouterStatus, err)
	}

	ka := lab.StartProc(t, them, "keepalived", logPath, "keepalived", "-n", "-l", "-D", "-f", conf,
		"-p", filepath.Join(l.Dir, "k.pid"), "-r", filepath.Join(l.Dir, "v.pid"), "-b", filepath.Join(l.Dir, "b.pid"))
	defer func() {
		if t.Failed() {
			t.Logf("keepalived:\n%s", lab.Tail(lab.ReadFile(logPath), 40))
		}
	}()
	l.WaitState(t, g, fault.Key(), Master, converge)
	l.WaitState(t, g, reverse.Key(), Fault, takeover)
	if !lab.Poll(2*time.Second, 10*time.Millisecond, func() bool {
		bs, err := g.Client().BFD(context.Background())
		return err == nil && len(bs.Sessions) == 1 && bs.Sessions[0].DetectionMS == 30
	}) {
		bs, err := g.Client().BFD(context.Background())
		t.Fatalf("not at 10 ms × 3: %+v %v", bs, err)
	}

	ka.Kill(t)
	l.WaitState(t, g, fault.Key(), Fault, takeover)
	l.WaitState(t, g, reverse.Key(), Master, takeover)
	bs, err := g.Client().BFD(context.Background())
	if err != nil || len(bs.Sessions) != 1 || bs.Sessions[0].Counters[api.BFDCounterFailures] != 1 {
		t.Fatalf("/v1/bfd: %+v %v", bs, err)
	}
}
