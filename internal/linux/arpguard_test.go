package linux

import (
	"net/netip"
	osexec "os/exec"
	"strings"
	"testing"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// The guard's tables hold one drop rule per guarded (parent, VIP): ARP
// replies for IPv4, neighbour advertisements for IPv6. They follow
// Guard/Release reference counts; a stale table goes at start and everything
// on Close [5798-8.1.2-a][5798-8.2.2-d].
func TestARPGuard(t *testing.T) {
	testenv.RequireTool(t, "nft")
	lan := lab.NewLAN(t, 1)
	nd := lan.Nodes[0]
	rules := func() string {
		out, _ := exec(nd, "nft", "list", "table", "arp", ARPGuardTable)
		return out
	}
	vip := netip.MustParseAddr("10.77.0.254")
	var g *ARPGuard
	nd.MustDo(t, func() (err error) { g, err = NewARPGuard(-1); return err })
	nd.MustDo(t, func() error { return g.Guard("eth0", []netip.Addr{vip, netip.MustParseAddr("fd77::1")}) })
	nd.MustDo(t, func() error { return g.Guard("eth0", []netip.Addr{vip}) })
	if r := rules(); !strings.Contains(r, `oifname "eth0" arp operation reply arp saddr ip 10.77.0.254 drop`) || strings.Count(r, "drop") != 1 {
		t.Fatalf("rules after Guard:\n%s", r)
	}
	// An IPv6 VIP (an owner's, which the parent also has): its neighbour
	// advertisements leaving the parent are dropped [5798-8.2.2-d].
	if out6, _ := exec(nd, "nft", "list", "table", "ip6", ARPGuardTable); !strings.Contains(out6,
		`oifname "eth0" icmpv6 type nd-neighbor-advert @th,64,128 0xfd770000000000000000000000000001 drop`) || strings.Count(out6, "drop") != 1 {
		t.Fatalf("ip6 rules after Guard:\n%s", out6)
	}
	// With the parent's link-local known, its NS from the VIP get that
	// source instead [5798-8.2.2-d].
	nd.MustDo(t, func() error { return g.SetSource("eth0", netip.MustParseAddr("fe80::1")) })
	if out6, _ := exec(nd, "nft", "list", "table", "ip6", ARPGuardTable); !strings.Contains(out6,
		`oifname "eth0" icmpv6 type nd-neighbor-solicit ip6 saddr fd77::1 ip6 saddr set fe80::1`) {
		t.Fatalf("ip6 rules after SetSource:\n%s", out6)
	}
	// With the parent's own address known, its ARP requests for a VIP
	// get that address as sender instead [5798-8.1.2-a].
	nd.MustDo(t, func() error { return g.SetSource("eth0", netip.MustParseAddr("10.77.0.1")) })
	if r := rules(); !strings.Contains(r, `oifname "eth0" arp operation request arp saddr ip 10.77.0.254 arp saddr ip set 10.77.0.1`) {
		t.Fatalf("rules after SetSource:\n%s", r)
	}
	nd.MustDo(t, func() error { return g.Release("eth0", []netip.Addr{vip}) })
	if r := rules(); strings.Count(r, "drop") != 1 {
		t.Fatalf("one Release of two Guards removed the rule:\n%s", r)
	}
	// A new guard (a restarted daemon) keeps the stale table until its
	// first Guard replaces it: the VIPs stay guarded through the restart
	// [5798-8.1.2-c], and only the new guard's rules remain.
	var g2 *ARPGuard
	nd.MustDo(t, func() (err error) { g2, err = NewARPGuard(-1); return err })
	if r := rules(); strings.Count(r, "drop") != 1 {
		t.Fatalf("the stale rule went before the new guard took over:\n%s", r)
	}
	other := netip.MustParseAddr("10.77.0.253")
	nd.MustDo(t, func() error { return g2.Guard("eth0", []netip.Addr{other}) })
	if r := rules(); strings.Count(r, "drop") != 1 || !strings.Contains(r, "10.77.0.253 drop") {
		t.Fatalf("after the restarted guard's first Guard:\n%s", r)
	}
	if out6, _ := exec(nd, "nft", "list", "table", "ip6", ARPGuardTable); strings.Contains(out6, "drop") {
		t.Fatalf("stale ip6 rules survived the restarted guard's first Guard:\n%s", out6)
	}
	nd.MustDo(t, g2.Close)
	if out, err := exec(nd, "nft", "list", "tables"); err != nil || strings.Contains(out, ARPGuardTable) {
		t.Fatalf("table left after Close: %s %v", out, err)
	}
}

// exec runs a command inside nd's namespace.
func exec(nd *lab.Node, name string, args ...string) (string, error) {
	out, err := osexec.Command("ip", append([]string{"netns", "exec", nd.Name, name}, args...)...).CombinedOutput()
	return string(out), err
}
