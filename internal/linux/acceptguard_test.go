package linux

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// Accept_Mode false [5798-6.4.3-f] [3768-6.4.3-b]: with the guard set, a
// host's pings to the VIPs (IPv4, IPv6, link-local) get no answer while ARP
// and neighbour discovery for them still do, and a router advertisement to
// one is dropped; the master's own pings to them (loopback) are answered; the
// node's own address is untouched; Set(nil) and Forget let them through again; a new guard (a restarted
// daemon) removes the table a killed one left, and Close removes it.
func TestAcceptGuard(t *testing.T) {
	testenv.RequireTool(t, "nft")
	testenv.RequireTool(t, "ping")
	lan := lab.NewLAN(t, 2)
	master, host := lan.Nodes[0], lan.Nodes[1]
	vips := []netip.Addr{netip.MustParseAddr("10.77.0.254"), netip.MustParseAddr("fd77::254"), netip.MustParseAddr("fe80::254")}
	for _, a := range []string{"10.77.0.254/24", "fd77::254/64", "fe80::254/64"} {
		args := []string{"addr", "add", a, "dev", "eth0"}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		if out, err := exec(master, "ip", args...); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	pings := func(a netip.Addr) bool {
		dst := a.String()
		if a.IsLinkLocalUnicast() {
			dst += "%eth0"
		}
		_, err := exec(host, "ping", "-c1", "-W0.5", dst)
		return err == nil
	}
	table := func() string {
		out, err := exec(master, "nft", "list", "table", "inet", AcceptGuardTable)
		if err != nil {
			return "" // no table
		}
		return out
	}

	var g *AcceptGuard
	master.MustDo(t, func() (err error) { g, err = NewAcceptGuard(-1); return err })
	t.Cleanup(func() { _ = master.Do(g.Close) })
	for _, v := range vips {
		if !pings(v) {
			t.Fatalf("no answer from %v before the guard", v)
		}
	}
	// The neighbour entries must come from fresh ARP/ND, not the cache.
	if out, err := exec(host, "ip", "neigh", "flush", "dev", "eth0"); err != nil {
		t.Fatalf("flush neighbours: %v %s", err, out)
	}
	master.MustDo(t, func() error { return g.Set("r1", "eth0", vips) })
	if tb := table(); !strings.Contains(tb, "10.77.0.254") || !strings.Contains(tb, "fd77::254") || !strings.Contains(tb, `"eth0" . fe80::254`) {
		t.Fatalf("table after Set:\n%s", tb)
	}
	for _, v := range vips {
		if pings(v) {
			t.Errorf("%v answered a ping with accept off", v)
		}
	}
	if !pings(master.V4.Addr()) {
		t.Errorf("the master's own address stopped answering")
	}
	// The box's own traffic to its VIPs comes in on the loopback: a local
	// health check is no packet from the LAN.
	for _, v := range vips {
		dst := v.String()
		if v.IsLinkLocalUnicast() {
			dst += "%eth0"
		}
		if out, err := exec(master, "ping", "-c1", "-W0.5", dst); err != nil {
			t.Errorf("the master cannot reach its own VIP %v with accept off: %v\n%s", v, err, out)
		}
	}
	// Of ICMPv6 only NS and NA pass ([11.6] of the reference): a router
	// advertisement unicast to a VIP is dropped. The RA to the master's own
	// address, sent after it, proves the first one had its chance.
	master.MustSysctl(t, "net/ipv6/conf/eth0/accept_ra", "2")
	sendRA(t, host, vips[1], netip.MustParsePrefix("fd77:1::/64"))
	sendRA(t, host, master.V6.Addr(), netip.MustParsePrefix("fd77:2::/64"))
	routes := ""
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if routes, _ = master.IP("-6", "route", "show", "dev", "eth0"); strings.Contains(routes, "fd77:2::/64") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(routes, "fd77:2::/64") || strings.Contains(routes, "fd77:1::/64") {
		t.Errorf("routes: want fd77:2::/64 from the RA to the master's address, not fd77:1::/64 from the one to the VIP:\n%s", routes)
	}
	// The unanswered pings still resolved the VIPs: ARP and NS/NA pass.
	neigh, _ := exec(host, "ip", "neigh", "show", "dev", "eth0")
	for _, v := range vips {
		if !strings.Contains(neigh, v.String()+" lladdr") {
			t.Errorf("no neighbour entry for %v with accept off:\n%s", v, neigh)
		}
	}
	// A second owner of one address keeps it dropped when the first leaves.
	master.MustDo(t, func() error { return g.Set("r2", "eth0", vips[:1]) })
	master.MustDo(t, func() error { return g.Set("r1", "eth0", nil) })
	if pings(vips[0]) || !pings(vips[1]) || !pings(vips[2]) {
		t.Errorf("after r1 left: want only %v dropped:\n%s", vips[0], table())
	}
	master.MustDo(t, func() error { return g.Set("r3", "eth0", vips[1:2]) })
	master.MustDo(t, func() error { return g.Forget("r2", "r3") })
	if !pings(vips[0]) || !pings(vips[1]) {
		t.Errorf("still dropped after every owner left:\n%s", table())
	}

	// A restarted daemon starts from no table.
	master.MustDo(t, func() error { return g.Set("r1", "eth0", vips) })
	var g2 *AcceptGuard
	master.MustDo(t, func() (err error) { g2, err = NewAcceptGuard(-1); return err })
	if tb := table(); tb != "" {
		t.Fatalf("stale table survived a restart:\n%s", tb)
	}
	master.MustDo(t, func() error { return g2.Set("r1", "eth0", vips) })
	master.MustDo(t, g2.Close)
	if out, err := exec(master, "nft", "list", "tables"); err != nil || strings.Contains(out, "inet "+AcceptGuardTable) {
		t.Fatalf("table left after Close: %s %v", out, err)
	}
}

// With Accept_Mode false an IPv6 VIP must not become the source of the
// box's own traffic (its replies would be dropped): a plain VIP, the newest
// address of the prefix, is picked; one added by AddNoSource, or turned by
// it, is deprecated and is not; IPv4 is as Add [5798-6.4.3-f].
func TestAddNoSource(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	nd := lan.Nodes[0]
	a := NewAddresses(nd.Handle)
	src := func() string { return routeSrc(nd, "fd77::100") }
	nd.MustDo(t, func() error { return a.Add("eth0", netip.MustParsePrefix("fd77::253/64")) })
	if got := src(); got != "fd77::253" {
		t.Fatalf("test premise: a plain VIP is the source (newest wins), got %s", got)
	}
	nd.MustDo(t, func() error { return a.AddNoSource("eth0", netip.MustParsePrefix("fd77::253/64")) })
	nd.MustDo(t, func() error { return a.AddNoSource("eth0", netip.MustParsePrefix("fd77::254/64")) })
	nd.MustDo(t, func() error { return a.AddNoSource("eth0", netip.MustParsePrefix("10.77.0.254/24")) })
	if got := src(); got != nd.V6.Addr().String() {
		t.Errorf("source %s, want the primary %s", got, nd.V6.Addr())
	}
	out, _ := exec(nd, "ip", "addr", "show", "dev", "eth0")
	for _, s := range []string{"inet6 fd77::253/64 scope global nodad deprecated", "inet6 fd77::254/64 scope global nodad deprecated", "inet 10.77.0.254/24"} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q:\n%s", s, out)
		}
	}
	if got := len(a.Installed()); got != 3 {
		t.Errorf("%d addresses recorded, want 3", got)
	}
}

// sendRA sends from nd's eth0 link-local address a router advertisement
// unicast to dst, with the on-link prefix pfx (no default route: lifetime 0).
func sendRA(t *testing.T, nd *lab.Node, dst netip.Addr, pfx netip.Prefix) {
	t.Helper()
	ll, err := nd.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	// Type 134 body: hop limit, flags, router lifetime 0, reachable and
	// retransmit timers; then a prefix information option (type 3, 4*8
	// bytes): length, L flag, valid and preferred lifetimes, reserved, prefix.
	body := make([]byte, 12, 12+32)
	opt := make([]byte, 32)
	opt[0], opt[1], opt[2], opt[3] = 3, 4, byte(pfx.Bits()), 0x80
	binary.BigEndian.PutUint32(opt[4:], 600)
	p16 := pfx.Addr().As16()
	copy(opt[16:], p16[:])
	b, err := (&icmp.Message{Type: ipv6.ICMPTypeRouterAdvertisement, Body: &icmp.RawBody{Data: append(body, opt...)}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	nd.MustDo(t, func() error {
		c, err := icmp.ListenPacket("ip6:ipv6-icmp", ll.WithZone("eth0").String())
		if err != nil {
			return err
		}
		defer c.Close()
		// Neighbour discovery takes only what no router forwarded.
		if err := c.IPv6PacketConn().SetHopLimit(255); err != nil {
			return err
		}
		_, err = c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice(), Zone: "eth0"})
		return err
	})
}

// An IPv4 VIP is never a source only as a secondary: one of a subnet the
// interface has no address of its own in is a primary, the kernel's route
// into that subnet takes it as source, and with the guard set the replies to
// the box's own traffic there are dropped. Given an address of its own there
// the VIP is a secondary and the traffic flows. Linux has no IPv4 address
// flag against source selection, so config:TestAcceptSourceWarnings warns
// about the first case [5798-6.4.3-f].
func TestAcceptSourceIPv4(t *testing.T) {
	testenv.RequireTool(t, "nft")
	testenv.RequireTool(t, "ping")
	lan := lab.NewLAN(t, 2)
	master, host := lan.Nodes[0], lan.Nodes[1]
	host.MustIP(t, "addr", "add", "10.78.0.5/24", "dev", "eth0")
	a := NewAddresses(master.Handle)
	vip := netip.MustParsePrefix("10.78.0.254/24")
	var g *AcceptGuard
	master.MustDo(t, func() (err error) { g, err = NewAcceptGuard(-1); return err })
	t.Cleanup(func() { _ = master.Do(g.Close) })
	master.MustDo(t, func() error { return g.Set("r1", "eth0", []netip.Addr{vip.Addr()}) })
	src := func() string { return routeSrc(master, "10.78.0.5") }
	pings := func() bool {
		_, err := exec(master, "ping", "-c1", "-W0.5", "10.78.0.5")
		return err == nil
	}

	master.MustDo(t, func() error { return a.AddNoSource("eth0", vip) })
	if got := src(); got != "10.78.0.254" {
		t.Fatalf("a VIP outside eth0's subnets: source %s, want the VIP (a primary)", got)
	}
	if pings() {
		t.Errorf("the reply to a ping from the VIP passed the guard")
	}

	master.MustIP(t, "addr", "del", vip.String(), "dev", "eth0")
	master.MustIP(t, "addr", "add", "10.78.0.1/24", "dev", "eth0")
	master.MustDo(t, func() error { return a.AddNoSource("eth0", vip) })
	if got := src(); got != "10.78.0.1" {
		t.Errorf("with an address of eth0's own in the subnet: source %s, want 10.78.0.1", got)
	}
	if !pings() {
		t.Errorf("no reply to the master's ping from its own address")
	}
	if out := master.MustIP(t, "-4", "addr", "show", "dev", "eth0"); !strings.Contains(out, "scope global secondary") {
		t.Errorf("the VIP is no secondary:\n%s", out)
	}
}

// routeSrc is the source address nd's kernel picks to reach dst (the whole
// `ip route get` output when it names none).
func routeSrc(nd *lab.Node, dst string) string {
	fam := "-4"
	if strings.Contains(dst, ":") {
		fam = "-6"
	}
	out, _ := exec(nd, "ip", fam, "route", "get", dst)
	f := strings.Fields(out)
	for i := range f {
		if f[i] == "src" && i+1 < len(f) {
			return f[i+1]
		}
	}
	return out
}
