package e2e

import (
	"fmt"
	"testing"
	"time"
)

// syncGroupYAML is two routers, out on eth0 and in on eth1, in sync group
// fw (a top-level key after the routers list).
func syncGroupYAML(prio int) string {
	return fmt.Sprintf(`  - name: out
    interface: eth0
    vrid: 61
    priority: %d
    advert_interval: 100ms
    addresses: [10.77.0.61/24]
  - name: in
    interface: eth1
    vrid: 62
    priority: %d
    advert_interval: 100ms
    addresses: [10.78.0.62/24]
sync_groups:
  fw:
    routers: [out, in]
`, prio, prio)
}

// Two routers, each with two virtual routers in one sync group on two
// LANs: pulling the Master's link on one LAN moves both virtual routers to
// the other router (keepalived vrrp_sync_group); the link's return moves
// both back (preemption).
func TestSyncGroupMovesTogether(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	l.AddSecondLAN(t, r1, r2)
	p1 := start(t, r1, syncGroupYAML(150))
	p2 := start(t, r2, syncGroupYAML(100))
	for _, vr := range []string{"out", "in"} {
		p1.waitState(vr, "Master", 5*time.Second)
		p2.waitState(vr, "Backup", 5*time.Second)
	}

	l.UnplugSecond(t, r1)
	for _, vr := range []string{"out", "in"} {
		p2.waitState(vr, "Master", 3*time.Second)
	}
	if d := p1.waitState("out", "Fault", 3*time.Second); d.FaultReason != "sync-group-fault" {
		t.Fatalf("out on r1: fault reason %q, want sync-group-fault", d.FaultReason)
	}
	p1.waitState("in", "Fault", 3*time.Second)
	if !hasAddr(t, r2, "eth0", "10.77.0.61") || hasAddr(t, r1, "eth0", "10.77.0.61") {
		t.Fatal("the VIP of out did not move to r2 with the group")
	}

	l.PlugSecond(t, r1)
	for _, vr := range []string{"out", "in"} {
		p1.waitState(vr, "Master", 5*time.Second)
		p2.waitState(vr, "Backup", 5*time.Second)
	}
}
