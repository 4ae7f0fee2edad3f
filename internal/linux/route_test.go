package linux

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// TestRoutes installs and removes a Master's routes and rules (keepalived
// virtual_routes/virtual_rules, issue 13): a route whose source is a VIP
// needs the VIP first; the host's own entries are never claimed nor
// removed; Flush removes exactly the configured entries a killed instance
// left; RemoveAll removes what was installed.
func TestRoutes(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	n := lan.Nodes[0]
	pfx := netip.MustParsePrefix
	ip := netip.MustParseAddr
	routes := []Route{
		{To: pfx("10.78.1.0/24"), Via: ip("10.77.0.9"), Table: 100, Metric: 7},
		{To: pfx("10.78.2.0/24"), Dev: "eth0", Src: ip("10.77.0.250")},
		{To: pfx("10.78.3.0/24"), Type: "blackhole"},
		{To: pfx("fd77:1::/64"), Via: ip("fd77::9"), Table: 100},
	}
	rules := []Rule{
		{Family: vrrp.IPv4, From: pfx("10.77.0.250/32"), Table: 100, Priority: 1000},
		{Family: vrrp.IPv4, Table: 101, Priority: 1001, Mark: 0x10, Mask: 0xff, HasMark: true, IIF: "eth0"},
		{Family: vrrp.IPv6, To: pfx("fd77:2::/64"), Table: 100, Priority: 1002},
	}

	// Leftovers of an instance killed with -9, and the host's own entries
	// that the configuration does not name.
	n.MustIP(t, "route", "add", "10.78.1.0/24", "via", "10.77.0.9", "table", "100", "metric", "7", "proto", "static")
	n.MustIP(t, "rule", "add", "from", "10.77.0.250/32", "table", "100", "priority", "1000")
	n.MustIP(t, "route", "add", "10.78.9.0/24", "via", "10.77.0.9", "table", "100")
	n.MustIP(t, "rule", "add", "from", "10.77.0.251/32", "table", "100", "priority", "1000")
	rs := NewRoutes(n.Handle)
	if err := rs.Flush(routes, rules); err != nil {
		t.Fatal(err)
	}
	got := n.MustIP(t, "route", "show", "table", "100") + n.MustIP(t, "rule", "show")
	if strings.Contains(got, "10.78.1.0/24") || strings.Contains(got, "10.77.0.250") {
		t.Fatalf("Flush left configured entries:\n%s", got)
	}
	if !strings.Contains(got, "10.78.9.0/24") || !strings.Contains(got, "10.77.0.251") {
		t.Fatalf("Flush removed entries not configured:\n%s", got)
	}

	// The route from the VIP is refused while the VIP is absent: the
	// daemon installs the addresses first.
	if err := rs.AddRoute(routes[1]); err == nil {
		t.Fatal("a route with a source the host lacks was installed")
	}
	a := NewAddresses(n.Handle)
	if err := a.Add("eth0", pfx("10.77.0.250/32")); err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes {
		if err := rs.AddRoute(rt); err != nil {
			t.Fatalf("AddRoute %+v: %v", rt, err)
		}
		if err := rs.AddRoute(rt); err != nil { // again: ours, fine
			t.Fatalf("AddRoute again %+v: %v", rt, err)
		}
	}
	for _, ru := range rules {
		if err := rs.AddRule(ru); err != nil {
			t.Fatalf("AddRule %+v: %v", ru, err)
		}
		if err := rs.AddRule(ru); err != nil {
			t.Fatalf("AddRule again %+v: %v", ru, err)
		}
	}
	show := func() string {
		return n.MustIP(t, "route", "show", "table", "all") + n.MustIP(t, "-6", "route", "show", "table", "all") +
			n.MustIP(t, "rule", "show") + n.MustIP(t, "-6", "rule", "show")
	}
	got = show()
	for _, want := range []string{
		"10.78.1.0/24 via 10.77.0.9 dev eth0 table 100 proto static metric 7",
		"10.78.2.0/24 dev eth0 proto static scope link src 10.77.0.250",
		"blackhole 10.78.3.0/24 proto static",
		"fd77:1::/64 via fd77::9 dev eth0 table 100 proto static",
		"1000:\tfrom 10.77.0.250 lookup 100",
		"1001:\tfrom all fwmark 0x10/0xff iif eth0 lookup 101",
		"1002:\tfrom all to fd77:2::/64 lookup 100",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}

	// The host's own: an exclusive add refuses it, and it stays.
	host := Route{To: pfx("10.78.9.0/24"), Via: ip("10.77.0.9"), Table: 100}
	if err := rs.AddRoute(host); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("AddRoute of the host's route = %v, want ErrNotOurs", err)
	}
	hostRule := Rule{Family: vrrp.IPv4, From: pfx("10.77.0.251/32"), Table: 100, Priority: 1000}
	if err := rs.AddRule(hostRule); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("AddRule of the host's rule = %v, want ErrNotOurs", err)
	}
	if err := errors.Join(rs.RemoveRoute(host), rs.RemoveRule(hostRule)); err != nil {
		t.Fatal(err)
	}

	if err := errors.Join(rs.RemoveRoute(routes[0]), rs.RemoveRule(rules[0])); err != nil {
		t.Fatal(err)
	}
	got = show()
	if strings.Contains(got, "10.78.1.0/24") || strings.Contains(got, "from 10.77.0.250") {
		t.Fatalf("removed entries still there:\n%s", got)
	}
	if err := rs.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	got = show()
	for _, gone := range []string{"10.78.2.0", "10.78.3.0", "fd77:1::", "lookup 101", "fd77:2::"} {
		if strings.Contains(got, gone) {
			t.Errorf("RemoveAll left %q:\n%s", gone, got)
		}
	}
	if !strings.Contains(got, "10.78.9.0/24") || !strings.Contains(got, "from 10.77.0.251 lookup 100") {
		t.Fatalf("the host's entries were removed:\n%s", got)
	}
}

// TestAddWith installs an address with a label and a scope, exclusively (the
// host's address is left alone), and removes only its own (keepalived dev,
// label, scope; issue 13).
func TestAddWith(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	n := lan.Nodes[0]
	n.MustIP(t, "link", "add", "eth1", "type", "veth", "peer", "name", "eth2") // removed with the namespace
	n.MustIP(t, "link", "set", "eth1", "up")
	n.MustIP(t, "addr", "add", "10.78.0.9/24", "dev", "eth1")
	a := NewAddresses(n.Handle)
	// Another subnet than the host's: the kernel gives a secondary the
	// scope of its primary, and refuses another.
	p := netip.MustParsePrefix("10.78.5.1/24")
	if err := a.AddWith("eth1", p, "eth1:vip", "site"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddWith("eth1", netip.MustParsePrefix("fd77:7::1/64"), "", "link"); err != nil {
		t.Fatal(err)
	}
	out := n.MustIP(t, "addr", "show", "dev", "eth1")
	// IPv6: the kernel keeps the address's own scope.
	for _, want := range []string{"inet 10.78.5.1/24 brd 10.78.5.255 scope site eth1:vip", "inet6 fd77:7::1/64 scope global"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if err := a.AddWith("eth1", netip.MustParsePrefix("10.78.0.9/24"), "eth1:x", ""); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("AddWith of the host's address = %v, want ErrNotOurs", err)
	}
	if err := a.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	out = n.MustIP(t, "addr", "show", "dev", "eth1")
	if strings.Contains(out, "10.78.5.1") || strings.Contains(out, "fd77:7::1") || !strings.Contains(out, "10.78.0.9/24") {
		t.Fatalf("after RemoveAll:\n%s", out)
	}
}
