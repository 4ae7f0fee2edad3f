package e2e

import (
	"strings"
	"testing"
	"time"

	"govrrp/internal/linux/netnstest"
)

// routing is nd's routes of every table and its rules.
func routing(t *testing.T, nd *netnstest.Node) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"route", "show", "table", "all"}, {"rule", "show"}} {
		out, err := nd.IP(args...)
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		b.WriteString(out)
	}
	return b.String()
}

// The routes and rules of a router (keepalived virtual_routes and
// virtual_rules, issue 13) are on the Master only: a route through the
// VIP's subnet with the VIP as its source, a blackhole route in another
// table and a rule from the VIP to that table. They follow the Master on a
// failover, a clean stop removes them, and a restart after kill -9 removes
// what the killed daemon left.
func TestRoutesRulesFollowMaster(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	const extra = "    preempt: false\n" +
		"    routes:\n" +
		"      - {to: 10.78.5.0/24, via: 10.77.0.9, src: 10.77.0.254}\n" +
		"      - {to: 10.78.6.0/24, type: blackhole, table: 100}\n" +
		"    rules: [{from: 10.77.0.254/32, table: 100, priority: 1000}]\n"
	want := []string{"10.78.5.0/24 via 10.77.0.9 dev eth0 proto static src 10.77.0.254", "blackhole 10.78.6.0/24 table 100", "1000:\tfrom 10.77.0.254 lookup 100"}
	has := func(nd *netnstest.Node) (all, none bool, got string) {
		got = routing(t, nd)
		all, none = true, true
		for _, w := range want {
			if strings.Contains(got, w) {
				none = false
			} else {
				all = false
			}
		}
		return all, none, got
	}
	expect := func(nd *netnstest.Node, installed bool, when string) {
		t.Helper()
		waitFor(t, 3*time.Second, nd.Name+" routes "+when, func() (bool, string) {
			all, none, got := has(nd)
			return installed && all || !installed && none, got
		})
	}
	cfg1 := routerYAML("gw", "51", 150, "100ms", extra, "10.77.0.254/24")
	p1 := start(t, r1, cfg1)
	p2 := start(t, r2, routerYAML("gw", "51", 100, "100ms", extra, "10.77.0.254/24"))
	p1.waitState("gw", "Master", 5*time.Second)
	p2.waitState("gw", "Backup", 5*time.Second)
	expect(r1, true, "on the Master")
	expect(r2, false, "on the Backup")

	_ = p1.cmd.Process.Kill()
	<-p1.waited
	if all, _, got := has(r1); !all {
		t.Fatalf("test premise: a SIGKILLed daemon leaves its routes and rules behind:\n%s", got)
	}
	p2.waitState("gw", "Master", 3*time.Second)
	expect(r2, true, "on the new Master")

	// preempt off: the restarted router stays Backup, and removed at its
	// start what the killed one left.
	p1b := start(t, r1, cfg1)
	p1b.waitState("gw", "Backup", 3*time.Second)
	expect(r1, false, "after a restart as Backup")

	// A clean stop removes them; the other router takes them.
	p2.stop()
	p1b.waitState("gw", "Master", 3*time.Second)
	expect(r1, true, "on the Master after the failover")
	expect(r2, false, "after a clean stop")
	p1b.stop()
	expect(r1, false, "after a clean stop")
}
