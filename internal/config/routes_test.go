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

// Addresses as mappings {address, dev, label, scope}, and excluded
// addresses, installed while Master but never advertised (keepalived dev,
// label, scope and virtual_ipaddress_excluded, issue 13).
func TestParseAddressItems(t *testing.T) {
	c, err := Parse("c.yaml", []byte(`routers:
  - vrid: 51
    addresses:
      - 10.77.0.254/24
      - {address: 10.78.0.254/24, dev: eth1, label: "eth1:vip", scope: site}
      - {address: 10.77.0.253, label: "eth0:x"}
    interface: eth0
    excluded_addresses: [fd77::9/64, {address: 10.78.1.1/24, dev: eth1}]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routers[0]
	if len(r.Addresses) != 3 || r.VIPs()[1] != netip.MustParseAddr("10.78.0.254") {
		t.Fatalf("addresses %v", r.Addresses)
	}
	if len(r.Excluded) != 2 || r.Excluded[0] != netip.MustParsePrefix("fd77::9/64") {
		t.Fatalf("excluded %v", r.Excluded)
	}
	want := map[netip.Addr]AddrOpts{
		netip.MustParseAddr("10.78.0.254"): {Dev: "eth1", Label: "eth1:vip", Scope: "site"},
		netip.MustParseAddr("10.77.0.253"): {Label: "eth0:x"},
		netip.MustParseAddr("10.78.1.1"):   {Dev: "eth1"},
	}
	if len(r.AddrOpts) != len(want) {
		t.Fatalf("opts %v", r.AddrOpts)
	}
	for a, o := range want {
		if r.AddrOpts[a] != o {
			t.Errorf("%v: %+v, want %+v", a, r.AddrOpts[a], o)
		}
	}
	if r.AddrDev(netip.MustParseAddr("10.78.1.1")) != "eth1" || r.AddrDev(netip.MustParseAddr("fd77::9")) != "eth0" {
		t.Error("AddrDev")
	}

	for _, tc := range []struct {
		name, yaml, want, fix string
	}{
		{"label not the device's", "    excluded_addresses: [{address: 10.77.0.9, label: eth1:a}]\n", "c.yaml:5:54: label \"eth1:a\" does not start with the name of its device eth0", "eth0:1"},
		{"label of dev", "    excluded_addresses: [{address: 10.77.0.9, dev: eth1, label: eth0:a}]\n", "does not start with the name of its device eth1", "eth1:1"},
		{"label too long", "    excluded_addresses: [{address: 10.77.0.9, label: eth0:0123456789a}]\n", "label \"eth0:0123456789a\" is 16 characters long", "at most 15"},
		{"label IPv6", "    excluded_addresses: [{address: fd77::9, label: eth0:a}]\n", "label on IPv6 address fd77::9", "IPv4 addresses only"},
		{"scope", "    excluded_addresses: [{address: 10.78.0.1, scope: galaxy}]\n", "\"galaxy\" is not valid here", "global"},
		{"no address", "    excluded_addresses: [{dev: eth1}]\n", "address item has no address", "address:"},
		{"unknown key", "    excluded_addresses: [{address: 10.78.0.1, device: eth1}]\n", "unknown key \"device\"", "dev"},
		{"excluded is a VIP", "    excluded_addresses: [10.77.0.254]\n", "c.yaml:5:26: 10.77.0.254 is listed twice", ""},
		{"excluded in two routers", "    excluded_addresses: [10.78.0.1]\n  - {interface: eth0, vrid: 52, addresses: [10.77.0.253], excluded_addresses: [10.78.0.1]}\n", "c.yaml:6:80: 10.78.0.1 is also an address of \"eth0-51-ipv4\"", ""},
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
