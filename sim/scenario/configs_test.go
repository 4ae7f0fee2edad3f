package scenario

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/config"
)

func node(t *testing.T, name, yaml string) Node {
	t.Helper()
	c, err := config.Parse(name+".yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return Node{Name: name, Config: c}
}

// Routers of several boxes with the same interface, VRID and family are one
// LAN; others are LANs of their own. A fault acts on every LAN of its box;
// without a time it comes a settling step after the one before.
func TestFromConfigs(t *testing.T) {
	a := node(t, "a", `routers:
  - {interface: eth0, vrid: 1, priority: 200, addresses: [10.77.0.254/24], notify: [/bin/true]}
  - {interface: eth0, vrid: 1, priority: 100, addresses: ["fe80::1", "fd77::1/64"]}
  - {interface: eth1, vrid: 7, priority: 90, advert_interval: 2s, addresses: [10.78.0.254], unicast_source: 10.78.0.1, unicast_peers: [10.78.0.2]}
`)
	b := node(t, "b", `routers:
  - {interface: eth0, vrid: 1, priority: 150, preempt_delay: 5s, addresses: [10.77.0.254/24], multicast_source: 10.77.0.9}
sync_groups:
  g: {routers: [eth0-1-ipv4]}
`)
	scs, err := FromConfigs([]Node{a, b}, []Fault{{Node: "a", Kind: Crash, At: -1}, {Node: "b", Kind: Stop, At: -1}}, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sc := range scs {
		var rs []string
		for _, r := range sc.Routers {
			rs = append(rs, r.Name+"@"+r.Config.Primary.String())
		}
		got = append(got, sc.Name+": "+strings.Join(rs, " "))
	}
	want := []string{
		// A step is 10 intervals and the longest preempt delay.
		"eth0-1-ipv4 (eth0, VRID 1, IPv4) of a, b; crash a at +15s; stop b at +30s: a@10.77.0.1 b@10.77.0.9",
		"eth0-1-ipv6 (eth0, VRID 1, IPv6) of a; crash a at +10s: a@fe80::1",
		"eth1-7-ipv4 (eth1, VRID 7, IPv4) of a; crash a at +20s: a@10.78.0.1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("scenarios:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	v4 := scs[0]
	if v4.VRID != 1 || v4.Duration != 45*time.Second || v4.Routers[1].Config.PreemptDelay != 5*time.Second {
		t.Errorf("LAN eth0/1: VRID %d, duration %v, b %+v", v4.VRID, v4.Duration, v4.Routers[1].Config)
	}
	if cfg := scs[1].Routers[0].Config; cfg.Addresses[1] != netip.MustParseAddr("fd77::1") || cfg.Priority != 100 {
		t.Errorf("LAN eth0/1 v6: %+v", cfg)
	}
	for i, want := range []string{"a.yaml:2:84: node a, router eth0-1-ipv4: notify is not simulated", "b.yaml:4:3: node b: sync_groups are not simulated: each virtual router runs alone"} {
		if !slices.Contains(v4.Notes, want) {
			t.Errorf("note %d %q missing: %q", i, want, v4.Notes)
		}
	}
	if n := scs[2].Notes; len(n) != 1 || !strings.HasSuffix(n[0], "unicast_peers is not simulated") {
		t.Errorf("LAN eth1/7 notes %q", n)
	}
	res, err := Run(v4, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Masters(); len(m) != 0 || !res.Routers[0].Crashed || res.Routers[1].Final.String() != "Initialize" {
		t.Errorf("at the end: masters %v, routers %+v", m, res.Routers)
	}
}

func TestFromConfigsRefuses(t *testing.T) {
	a := node(t, "a", "routers: [{interface: e, vrid: 1, addresses: [10.77.0.9], unicast_source: 10.77.0.5, unicast_peers: [10.77.0.6]}]")
	b := node(t, "b", "routers: [{interface: e, vrid: 1, addresses: [10.77.0.9], unicast_source: 10.77.0.5, unicast_peers: [10.77.0.6]}]")
	for _, tc := range []struct {
		nodes  []Node
		faults []Fault
		s      Settings
		want   string
	}{
		{[]Node{a, a}, nil, Defaults(), `node "a" is given twice`},
		{[]Node{{Name: "alpha", Config: a.Config}}, []Fault{{Node: "alpah", Kind: Stop, At: -1}}, Defaults(), `did you mean "alpha"?`},
		{[]Node{a}, []Fault{{Node: "ab", Kind: Crash, At: -1}}, Defaults(), `no node is named "ab"; the nodes are a`},
		{[]Node{a, b}, nil, Defaults(), "a and b both send from 10.77.0.5"},
		{[]Node{a}, []Fault{{Node: "a", Kind: Crash, At: time.Minute}}, Settings{Duration: time.Second}, "a fault at +1m0s comes after the end"},
	} {
		if _, err := FromConfigs(tc.nodes, tc.faults, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.want, err, tc.want)
		}
	}
}

// What config.Parse accepts but warns of is said with the notes.
func TestFromConfigsWarnings(t *testing.T) {
	c := node(t, "c", "routers: [{interface: e, vrid: 2, addresses: [\"fd77::1\"]}]")
	if len(c.Config.Warnings) == 0 {
		t.Fatal("no warning to pass on")
	}
	scs, err := FromConfigs([]Node{c}, nil, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if n := scs[0].Notes; len(n) != 1 || !strings.HasPrefix(n[0], "node c: warning: c.yaml:1:") {
		t.Errorf("notes %q", n)
	}
}

// Two boxes of one pair often name the LAN's interface differently (eth0
// on one, ens3 on the other): FromConfigs cannot know they share a LAN and
// simulates two lone routers, each Master. It says so on both LANs, with
// what to write, so "what if a dies" is not answered "no Master" unnoticed.
func TestFromConfigsInterfaceNamesDiffer(t *testing.T) {
	a := node(t, "a", `routers:
  - {name: gw, interface: eth0, vrid: 51, priority: 200, addresses: [10.77.1.254/24]}
  - {interface: eth0, vrid: 52, priority: 200, addresses: [10.77.2.254/24]}
`)
	b := node(t, "b", `routers:
  - {name: gw, interface: ens3, vrid: 51, priority: 100, addresses: [10.77.1.254/24]}
  - {interface: eth0, vrid: 52, priority: 100, addresses: [10.77.2.254/24]}
`)
	scs, err := FromConfigs([]Node{a, b}, nil, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 3 {
		t.Fatalf("%d scenarios, want 3 (gw on eth0, VRID 52, gw on ens3)", len(scs))
	}
	want := "VRID 51 (IPv4) is on eth0 of a but on ens3 of b: simulated as separate LANs; " +
		"if they are one LAN, name the interface the same in each file to simulate them together"
	for _, sc := range scs {
		if sc.VRID == 51 && !slices.Contains(sc.Notes, want) {
			t.Errorf("%s: notes %q; want %q", sc.Name, sc.Notes, want)
		}
		if sc.VRID == 52 && len(sc.Notes) != 0 {
			t.Errorf("%s: notes %q; want none", sc.Name, sc.Notes)
		}
	}
}
