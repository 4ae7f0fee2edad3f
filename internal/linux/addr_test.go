package linux

import (
	"errors"
	"fmt"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// TestAddresses installs and removes VIPs, IPv6 without DAD, flushes the
// leftovers of a killed instance and removes everything on shutdown.
func TestAddresses(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	r1 := lan.Nodes[0]
	// Let DAD run on this interface, so "not tentative" means NODAD worked.
	r1.MustSysctl(t, "net/ipv6/conf/eth0/accept_dad", "1")

	// Leftovers of an instance killed with SIGKILL.
	r1.MustIP(t, "addr", "add", "10.77.0.250/32", "dev", "eth0")
	r1.MustIP(t, "-6", "addr", "add", "fd77::250/128", "dev", "eth0", "nodad")

	a := NewAddresses(r1.Handle)
	vips := []netip.Addr{netip.MustParseAddr("10.77.0.250"), netip.MustParseAddr("fd77::250"), netip.MustParseAddr("10.77.0.251")}
	// Held reads what Flush would remove, and removes nothing.
	if held, err := a.Held("eth0", vips); err != nil || len(held) != 2 || held[0] != netip.MustParsePrefix("10.77.0.250/32") && held[1] != netip.MustParsePrefix("10.77.0.250/32") {
		t.Fatalf("Held = %v, %v; want the 2 stale VIPs", held, err)
	}
	removed, err := a.Flush("eth0", vips)
	if err != nil || len(removed) != 2 {
		t.Fatalf("Flush = %v, %v; want the 2 stale VIPs", removed, err)
	}
	out := r1.MustIP(t, "addr", "show", "dev", "eth0")
	if strings.Contains(out, "10.77.0.250") || strings.Contains(out, "fd77::250") {
		t.Fatalf("stale VIPs still there:\n%s", out)
	}
	if !strings.Contains(out, r1.V4.String()) {
		t.Fatalf("Flush removed the interface's own address:\n%s", out)
	}

	v4, v6 := netip.MustParsePrefix("10.77.0.254/32"), netip.MustParsePrefix("fd77::254/128")
	for _, p := range []netip.Prefix{v4, v6} {
		if err := a.Add("eth0", p); err != nil {
			t.Fatal(err)
		}
		if err := a.Add("eth0", p); err != nil { // idempotent
			t.Fatal(err)
		}
	}
	out = r1.MustIP(t, "addr", "show", "dev", "eth0")
	if !strings.Contains(out, "10.77.0.254/32") || !strings.Contains(out, "fd77::254/128") {
		t.Fatalf("VIPs missing:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "fd77::254") && strings.Contains(line, "tentative") {
			t.Fatalf("IPv6 VIP is tentative (DAD ran): %s", line)
		}
	}
	// The VIP must not have become the advert source.
	l, _ := r1.Handle.LinkByName("eth0")
	if src, _ := SourceAddress(r1.Handle, l, 4, nil); src != r1.V4.Addr() {
		t.Fatalf("source = %v after adding a VIP, want %v", src, r1.V4.Addr())
	}

	if err := a.Remove("eth0", v4); err != nil {
		t.Fatal(err)
	}
	if err := a.Remove("eth0", v4); err != nil { // idempotent
		t.Fatal(err)
	}
	if got := a.Installed(); len(got) != 1 || got[0] != v6 {
		t.Fatalf("Installed = %v", got)
	}
	if err := a.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	out = r1.MustIP(t, "addr", "show", "dev", "eth0")
	if strings.Contains(out, "10.77.0.254") || strings.Contains(out, "fd77::254") {
		t.Fatalf("VIPs left after RemoveAll:\n%s", out)
	}
}

// TestBackupDoesNotAnswer: while the VIPs are not installed (Backup), a
// neighbour gets no ARP/NA answer for them and cannot reach them; once
// installed (Master) it can. The check is on the wire, in the Backup's
// neighbour namespace.
func TestBackupDoesNotAnswer(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	sniff := lab.Sniff(t, r2, "eth0")
	vip4, vip6 := netip.MustParseAddr("10.77.0.254"), netip.MustParseAddr("fd77::254")
	// Failing pings wait the short timeout, successful ones the long one.
	ping := func(a netip.Addr) (err error) {
		r2.MustDo(t, func() error { err = pingOnce(a, 500*time.Millisecond); return nil })
		return err
	}
	pingOK := func(a netip.Addr) (err error) {
		r2.MustDo(t, func() error { err = pingOnce(a, waitLong); return nil })
		return err
	}
	eth1, _ := r1.Interface("eth0")
	isReply4 := func(f []byte) bool {
		ip := vip4.As4()
		return lab.EtherType(f) == 0x0806 && len(f) >= 42 && f[21] == 2 && string(f[28:32]) == string(ip[:])
	}
	isNAFrom1 := func(f []byte) bool {
		return isNA(vip6)(f) && string(f[6:12]) == string(eth1.HardwareAddr)
	}

	// Backup: nothing installed.
	if ping(vip4) == nil || ping(vip6) == nil {
		t.Fatal("a VIP answered ping while Backup")
	}
	if f, err := sniff.Next(200*time.Millisecond, func(f []byte) bool { return isReply4(f) || isNAFrom1(f) }); err == nil {
		t.Fatalf("Backup answered for a VIP: % x", f)
	}

	a := NewAddresses(r1.Handle)
	t.Cleanup(func() { a.RemoveAll() })
	if err := a.Add("eth0", netip.PrefixFrom(vip4, 32)); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("eth0", netip.PrefixFrom(vip6, 128)); err != nil {
		t.Fatal(err)
	}
	// Forget the failed resolutions of the Backup phase.
	r2.MustIP(t, "neigh", "flush", "dev", "eth0")
	sniff.Drain()
	// Master: the test proves something only if the answers now come.
	if err := pingOK(vip4); err != nil {
		t.Fatalf("Master VIP %v unreachable: %v", vip4, err)
	}
	if err := pingOK(vip6); err != nil {
		t.Fatalf("Master VIP %v unreachable: %v", vip6, err)
	}
	if _, err := sniff.Next(waitLong, isReply4); err != nil {
		t.Fatal("no ARP reply from the Master:", err)
	}

	// Back to Backup.
	if err := a.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	r2.MustIP(t, "neigh", "flush", "dev", "eth0")
	sniff.Drain()
	if ping(vip4) == nil || ping(vip6) == nil {
		t.Fatal("a VIP answered ping after going back to Backup")
	}
	if f, err := sniff.Next(200*time.Millisecond, func(f []byte) bool { return isReply4(f) || isNAFrom1(f) }); err == nil {
		t.Fatalf("former Master answered for a VIP: % x", f)
	}
}

// pingOnce sends one ICMP echo to a from the calling thread's namespace and
// waits up to timeout for the reply (no dependency on a ping binary).
func pingOnce(a netip.Addr, timeout time.Duration) error {
	network, typ, reply := "ip4:icmp", icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	proto := 1
	if a.Is6() {
		network, typ, reply, proto = "ip6:ipv6-icmp", ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	msg := icmp.Message{Type: typ, Body: &icmp.Echo{ID: 0x4747, Seq: 1, Data: []byte("govrrp")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(b, &net.IPAddr{IP: a.AsSlice()}); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err == nil && m.Type == reply && from.(*net.IPAddr).IP.Equal(a.AsSlice()) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no echo reply from %v", a)
		}
	}
}

// A host address equal to a VIP, put on the interface while govrrpd runs
// (by the operator or networkd), is not govrrpd's: becoming Master does not
// claim it (Add and AddNoSource report ErrNotOurs and record nothing), and
// leaving Master or stopping leaves it where it is (issue 12, "Deleting the
// box's own address"; 5798-5.2.4-a: a non-owner never has an address the
// host owns).
func TestAddLeavesHostAddress(t *testing.T) {
	lan := lab.NewLAN(t, 1)
	r1 := lan.Nodes[0]
	v4, v6 := netip.MustParsePrefix("10.77.0.240/32"), netip.MustParsePrefix("fd77::240/128")
	r1.MustIP(t, "addr", "add", v4.String(), "dev", "eth0")
	r1.MustIP(t, "-6", "addr", "add", v6.String(), "dev", "eth0", "nodad")
	a := NewAddresses(r1.Handle)
	for _, add := range []func(string, netip.Prefix) error{a.Add, a.AddNoSource} {
		for _, p := range []netip.Prefix{v4, v6} {
			if err := add("eth0", p); !errors.Is(err, ErrNotOurs) {
				t.Fatalf("adding %v, already the host's: %v, want ErrNotOurs", p, err)
			}
		}
	}
	if got := a.Installed(); len(got) != 0 {
		t.Fatalf("Installed = %v, want nothing", got)
	}
	for _, p := range []netip.Prefix{v4, v6} {
		if err := a.Remove("eth0", p); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	out := r1.MustIP(t, "addr", "show", "dev", "eth0")
	if !strings.Contains(out, v4.String()) || !strings.Contains(out, v6.String()) {
		t.Fatalf("the host's addresses were removed:\n%s", out)
	}
}
