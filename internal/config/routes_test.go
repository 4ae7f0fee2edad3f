package config

import (
	"net/netip"
	"strings"
	"testing"

	"govrrp/vrrp"
)

// Routes and rules installed while Master (keepalived virtual_routes,
// virtual_rules), issue 13.
func TestParseRoutesRules(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`    routes:
      - {to: 10.78.0.0/16, via: 10.77.0.1, table: 100, metric: 5}
      - {to: default, via: 10.77.0.1, src: 10.77.0.254}
      - {to: 10.78.9.0/24, type: blackhole}
      - {to: 10.78.8.0/24, dev: eth0, scope: link}
    rules:
      - {from: 10.77.0.254/32, table: 100, priority: 100}
      - {to: fd77::/16, table: 101, fwmark: 0x10/0xff, iif: eth0}
      - {table: 102, fwmark: 7}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routers[0]
	want := []Route{
		{To: netip.MustParsePrefix("10.78.0.0/16"), Via: netip.MustParseAddr("10.77.0.1"), Table: 100, Metric: 5},
		{To: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.77.0.1"), Src: netip.MustParseAddr("10.77.0.254")},
		{To: netip.MustParsePrefix("10.78.9.0/24"), Type: "blackhole"},
		{To: netip.MustParsePrefix("10.78.8.0/24"), Dev: "eth0", Scope: "link"},
	}
	if len(r.Routes) != len(want) {
		t.Fatalf("routes %+v", r.Routes)
	}
	for i := range want {
		got := r.Routes[i]
		got.Pos = Pos{}
		if got != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, got, want[i])
		}
	}
	wantRules := []Rule{
		{Family: vrrp.IPv4, From: netip.MustParsePrefix("10.77.0.254/32"), Table: 100, Priority: 100},
		{Family: vrrp.IPv6, To: netip.MustParsePrefix("fd77::/16"), Table: 101, Mark: 0x10, Mask: 0xff, HasMark: true, IIF: "eth0"},
		{Family: vrrp.IPv4, Table: 102, Mark: 7, HasMark: true},
	}
	if len(r.Rules) != len(wantRules) {
		t.Fatalf("rules %+v", r.Rules)
	}
	for i := range wantRules {
		got := r.Rules[i]
		got.Pos = Pos{}
		if got != wantRules[i] {
			t.Errorf("rule %d = %+v, want %+v", i, got, wantRules[i])
		}
	}
}

func TestParseRoutesRulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want, fix string
	}{
		{"route without to", "    routes: [{via: 10.77.0.1}]\n", "c.yaml:5:14: route has no destination", "to:"},
		{"route family", "    routes: [{to: 10.78.0.0/16, via: fd77::1}]\n", "c.yaml:5:38: via fd77::1 is not ipv4", ""},
		{"route host bits", "    routes: [{to: 10.78.0.1/16, dev: eth0}]\n", "c.yaml:5:19: 10.78.0.1/16 has host bits set", "10.78.0.0/16"},
		{"route nowhere", "    routes: [{to: 10.78.0.0/16}]\n", "c.yaml:5:14: a unicast route needs a gateway or a device", "via"},
		{"blackhole via", "    routes: [{to: 10.78.0.0/16, type: blackhole, via: 10.77.0.1}]\n", "c.yaml:5:14: a blackhole route goes nowhere", ""},
		{"route type", "    routes: [{to: 10.78.0.0/16, dev: eth0, type: nat}]\n", "c.yaml:5:50: \"nat\" is not valid here", "unicast"},
		{"route key", "    routes: [{to: 10.78.0.0/16, gw: 10.77.0.1}]\n", "c.yaml:5:33: unknown key \"gw\"", ""},
		{"route table 0", "    routes: [{to: 10.78.0.0/16, dev: eth0, table: 0}]\n", "c.yaml:5:51: 0 is out of range", ""},
		{"route a string", "    routes: [10.78.0.0/16]\n", "c.yaml:5:14: routers[].routes[] must be a mapping", ""},
		{"rule without table", "    rules: [{from: 10.77.0.0/24}]\n", "c.yaml:5:13: rule has no table", "table: 100"},
		{"rule families", "    rules: [{from: 10.77.0.0/24, to: fd77::/16, table: 1}]\n", "c.yaml:5:38: to fd77::/16 is not the family", ""},
		{"rule fwmark", "    rules: [{fwmark: x/1, table: 1}]\n", "c.yaml:5:22: \"x/1\" is not a firewall mark", ""},
		{"route in two routers", "    routes: [{to: 10.78.0.0/16, dev: eth0}]\n  - {interface: eth0, vrid: 52, addresses: [10.77.0.253], routes: [{to: 10.78.0.0/16, dev: eth0}]}\n", "c.yaml:6:68: the route to 10.78.0.0/16 is also one of \"eth0-51-ipv4\" at c.yaml:5:14", "one virtual router"},
		{"rule in two routers", "    rules: [{table: 7}]\n  - {interface: eth0, vrid: 52, addresses: [10.77.0.253], rules: [{table: 7}]}\n", "c.yaml:6:67: this rule is also one of", ""},
		{"rule priority", "    rules: [{table: 1, priority: 32766}]\n", "c.yaml:5:34: priority 32766 is out of range", "32765"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(base+tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.fix) {
				t.Fatalf("got %v\nwant %q / %q", err, tc.want, tc.fix)
			}
		})
	}
}
