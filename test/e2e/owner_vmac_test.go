package e2e

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// physicalAnswer reports whether f is an ARP reply or a neighbour
// advertisement for vip sent from the MAC phys.
func physicalAnswer(f []byte, phys net.HardwareAddr, vip netip.Addr) bool {
	if len(f) < 14 || !bytes.Equal(f[6:12], phys) {
		return false
	}
	switch lab.EtherType(f) {
	case 0x0806: // reply, sender protocol address
		return len(f) >= 42 && f[20] == 0 && f[21] == 2 && netip.AddrFrom4([4]byte(f[28:32])) == vip
	case 0x86dd: // NA, target address
		return len(f) >= 78 && f[20] == 58 && f[54] == 136 && netip.AddrFrom16([16]byte(f[62:78])) == vip
	}
	return false
}

// An address owner in VMAC mode: its addresses are the interface's own, so
// on main the parent answered ARP and NS for them (IPv6: hosts learnt the
// physical MAC) or, for IPv4, nobody did (the ARP guard silenced the parent,
// the macvlan did not have the address) and hosts could not reach them. Now
// the owner's addresses are also on its macvlan while Master and the guard
// drops the parent's ARP replies and neighbour advertisements for them:
// from the daemon's start hosts learn only the VMAC [5798-8.1.2-a]
// [5798-8.2.2-a] and the router sends no answer with its physical MAC for
// the addresses it owns [5798-8.1.2-c][5798-8.2.2-d], also across a restart
// after kill -9. Stopping the daemon leaves the owner's addresses on the
// interface.
func TestOwnerVMAC(t *testing.T) {
	for _, tc := range []struct {
		name, vip string
		addrs     []string
		vmac      net.HardwareAddr
	}{
		{"ipv4", "10.77.0.254", []string{"10.77.0.254/24"}, net.HardwareAddr{0, 0, 0x5e, 0, 1, 51}},
		{"ipv6", "fd77::254", []string{"fe80::51", "fd77::254/64"}, net.HardwareAddr{0, 0, 0x5e, 0, 2, 51}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 1)
			r1 := l.Nodes[0]
			for _, a := range tc.addrs {
				if !strings.Contains(a, "/") {
					a += "/64"
				}
				r1.MustIP(t, "addr", "add", a, "dev", "eth0", "nodad")
			}
			phys, err := net.ParseMAC(mac(t, r1, "eth0"))
			if err != nil {
				t.Fatal(err)
			}
			vip := netip.MustParseAddr(tc.vip)
			sniff := lab.Sniff(t, l.host, "eth0")
			routers := routerYAML("own", "51", 255, "100ms", "    vmac: true\n", tc.addrs...)
			p := start(t, r1, routers)
			p.waitState("own", "Master", 5*time.Second)
			// A restart after kill -9: the new daemon takes over the guard
			// and the macvlan the old one left.
			p.kill()
			p = start(t, r1, routers)
			p.waitState("own", "Master", 5*time.Second)
			for range 3 {
				if _, err := l.host.IP("neigh", "flush", "all"); err != nil {
					t.Fatal(err)
				}
				if !ping(l.host, tc.vip) {
					t.Fatalf("host cannot reach the owner's %s", tc.vip)
				}
				if got := neighMAC(l.host, tc.vip); got != tc.vmac.String() {
					t.Errorf("host learnt %q for %s, want the VMAC %v (physical %v)", got, tc.vip, tc.vmac, phys)
				}
			}
			if f, err := sniff.Next(100*time.Millisecond, func(f []byte) bool { return physicalAnswer(f, phys, vip) }); err == nil {
				t.Errorf("the owner answered for %s with its physical MAC: % x", tc.vip, f)
			}
			p.stop()
			if !hasAddr(t, r1, "eth0", tc.vip) {
				t.Errorf("the owner's %s left eth0 when govrrpd stopped", tc.vip)
			}
		})
	}
}

// A reload that changes a VMAC router's addresses in place moves the ARP
// guard with them: the added address is guarded before it is installed, the
// removed one released, so the parent never answers for a virtual address
// with its physical MAC [5798-8.1.2-a].
func TestVMACReloadMovesGuard(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	guarded := func() string {
		out, _ := exec.Command("ip", "netns", "exec", r1.Name, "nft", "list", "table", "arp", "govrrp").CombinedOutput()
		return string(out)
	}
	p := start(t, r1, routerYAML("gw", "51", 150, "100ms", "    vmac: true\n    accept: true\n", "10.77.0.254/24"))
	p.waitState("gw", "Master", 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, step := range []struct {
		addrs     []string
		want, not []string
	}{
		{[]string{"10.77.0.254/24", "10.77.0.253/24"}, []string{"10.77.0.254", "10.77.0.253"}, nil},
		{[]string{"10.77.0.253/24"}, []string{"10.77.0.253"}, []string{"10.77.0.254"}},
	} {
		p.writeConfig(routerYAML("gw", "51", 150, "100ms", "    vmac: true\n    accept: true\n", step.addrs...))
		res, err := p.Client.Reload(ctx)
		if err != nil || !res.OK || strings.Join(res.Updated, ",") != "gw" {
			t.Fatalf("reload to %v: %+v %v", step.addrs, res, err)
		}
		g := guarded()
		for _, a := range step.want {
			if !strings.Contains(g, "arp saddr ip "+a+" drop") {
				t.Errorf("after the reload to %v, %s is not guarded:\n%s", step.addrs, a, g)
			}
		}
		for _, a := range step.not {
			if strings.Contains(g, "arp saddr ip "+a+" drop") {
				t.Errorf("after the reload to %v, %s is still guarded:\n%s", step.addrs, a, g)
			}
		}
	}
	if _, err := l.host.IP("neigh", "flush", "all"); err != nil {
		t.Fatal(err)
	}
	if !ping(l.host, "10.77.0.253") {
		t.Fatal("the reloaded address is unreachable")
	}
	if got := neighMAC(l.host, "10.77.0.253"); got != "00:00:5e:00:01:33" {
		t.Errorf("host learnt %q for the reloaded address, want the VMAC", got)
	}
}

// A packet the Master itself sends from a virtual address to a host it has
// not resolved yet: Linux (arp_announce=0) asks for the host with the VIP
// as sender address, from the parent's MAC, and the host, being asked,
// learns the physical MAC for the VIP. The guard rewrites the sender of
// such requests to the parent's own address, as arp_announce=2 would, so
// the host keeps the VMAC [5798-8.1.2-a][5798-8.1.2-c]. Owners and
// non-owners alike.
func TestMasterARPRequestFromVIP(t *testing.T) {
	for _, tc := range []struct {
		name string
		prio int
	}{{"non-owner", 150}, {"owner", 255}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 1)
			r1 := l.Nodes[0]
			if tc.prio == 255 {
				r1.MustIP(t, "addr", "add", "10.77.0.254/24", "dev", "eth0")
			}
			phys, err := net.ParseMAC(mac(t, r1, "eth0"))
			if err != nil {
				t.Fatal(err)
			}
			p := start(t, r1, routerYAML("gw", "51", tc.prio, "100ms", "    vmac: true\n    accept: true # the Master and the host ping each other from and to the VIP\n", "10.77.0.254/24"))
			p.waitState("gw", "Master", 5*time.Second)
			if !ping(l.host, "10.77.0.254") || neighMAC(l.host, "10.77.0.254") != "00:00:5e:00:01:33" {
				t.Fatalf("host did not learn the VMAC: %q", neighMAC(l.host, "10.77.0.254"))
			}
			sniff := lab.Sniff(t, l.host, "eth0")
			if _, err := r1.IP("neigh", "flush", "all"); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("ip", "netns", "exec", r1.Name, "ping", "-c", "1", "-W", "1", "-I", "10.77.0.254", "10.77.0.100").CombinedOutput()
			if err != nil {
				t.Fatalf("the Master cannot reach the host from the VIP: %v\n%s", err, out)
			}
			if got := neighMAC(l.host, "10.77.0.254"); got != "00:00:5e:00:01:33" {
				t.Errorf("after the Master's ARP request the host has %q for the VIP, want the VMAC", got)
			}
			for {
				f, err := sniff.Next(100*time.Millisecond, func(f []byte) bool {
					return lab.EtherType(f) == 0x0806 && len(f) >= 42 && bytes.Equal(f[6:12], phys)
				})
				if err != nil {
					break
				}
				if sender := netip.AddrFrom4([4]byte(f[28:32])); sender == netip.MustParseAddr("10.77.0.254") {
					t.Errorf("ARP op %d from the physical MAC with the VIP as sender", f[21])
				}
			}
		})
	}
}
