package e2e

import (
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// routing is nd's routes of every table and its rules.
func routing(t *testing.T, nd *lab.Node) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{{"addr", "show"}, {"route", "show", "table", "all"}, {"rule", "show"}} {
		out, err := nd.IP(args...)
		if err != nil {
			t.Fatalf("ip %v: %v", args, err)
		}
		b.WriteString(out)
	}
	return b.String()
}

// The routes and rules of a router (keepalived virtual_routes and
// virtual_rules, issue 13) are on the Master only, with a VIP on a second
// device with a label and an excluded address: a route through the VIP's
// subnet with the VIP as its source, one through the second device's VIP
// subnet, a blackhole route in another table and a rule from the VIP to
// that table. They follow the Master on a
// failover, a clean stop removes them, and a restart after kill -9 removes
// what the killed daemon left.
func TestRoutesRulesAddressesFollowMaster(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	for _, nd := range l.Nodes {
		// A second device, removed with the namespace.
		nd.MustIP(t, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
		nd.MustIP(t, "link", "set", "eth1", "up")
		nd.MustIP(t, "link", "set", "eth1p", "up")
	}
	const extra = "    preempt: false\n" +
		"    excluded_addresses: [fd77:8::1/64]\n" +
		"    routes:\n" +
		"      - {to: 10.78.5.0/24, via: 10.77.0.9, src: 10.77.0.254}\n" +
		"      - {to: 10.78.9.0/24, via: 10.78.8.9}\n" +
		"      - {to: 10.78.6.0/24, type: blackhole, table: 100}\n" +
		"    rules: [{from: 10.77.0.254/32, table: 100, priority: 1000}]\n"
	// The VIP on eth1 with its label and the excluded address go in before
	// the routes: the route via 10.78.8.9 needs the eth1 VIP's subnet.
	want := []string{
		"inet 10.78.8.1/24 brd 10.78.8.255 scope global eth1:vip", "inet6 fd77:8::1/64 scope global",
		"10.78.5.0/24 via 10.77.0.9 dev eth0 proto static src 10.77.0.254", "10.78.9.0/24 via 10.78.8.9 dev eth1 proto static",
		"blackhole 10.78.6.0/24 table 100", "1000:\tfrom 10.77.0.254 lookup 100",
	}
	has := func(nd *lab.Node) (all, none bool, got string) {
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
	expect := func(nd *lab.Node, installed bool, when string) {
		t.Helper()
		waitFor(t, 3*time.Second, nd.Name+" routes "+when, func() (bool, string) {
			all, none, got := has(nd)
			return installed && all || !installed && none, got
		})
	}
	const vips = "10.77.0.254/24, {address: 10.78.8.1/24, dev: eth1, label: \"eth1:vip\"}"
	cfg1 := routerYAML("gw", "51", 150, "100ms", extra, vips)
	p1, p2 := startBoth(t, r1, r2, cfg1, routerYAML("gw", "51", 100, "100ms", extra, vips))
	expect(r1, true, "on the Master")
	expect(r2, false, "on the Backup")

	p1.kill()
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
