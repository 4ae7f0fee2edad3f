package interop

import (
	"context"
	"fmt"
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
