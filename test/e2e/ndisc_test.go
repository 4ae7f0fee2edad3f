package e2e

import (
	"bytes"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// nsSeen is one neighbour solicitation on the wire.
type nsSeen struct {
	ethSrc net.HardwareAddr
	src    netip.Addr
	target netip.Addr
	slla   net.HardwareAddr // nil without a source link-layer address option
}

// parseNS returns the neighbour solicitation in f, if it is one.
func parseNS(f []byte) (nsSeen, bool) {
	if lab.EtherType(f) != 0x86dd || len(f) < 14+40+24 || f[20] != 58 || f[54] != 135 {
		return nsSeen{}, false
	}
	ns := nsSeen{ethSrc: net.HardwareAddr(f[6:12]), src: netip.AddrFrom16([16]byte(f[22:38])), target: netip.AddrFrom16([16]byte(f[62:78]))}
	for opts := f[78:]; len(opts) >= 8 && opts[1] > 0 && int(opts[1])*8 <= len(opts); opts = opts[int(opts[1])*8:] {
		if opts[0] == 1 && opts[1] == 1 {
			ns.slla = net.HardwareAddr(opts[2:8])
		}
	}
	return ns, true
}

// The Master's own neighbour solicitations never tie a virtual address to
// the physical MAC [5798-8.2.2-b]. In VMAC mode the virtual addresses live
// on the macvlan: an NS the kernel sends from one of them leaves by the
// macvlan, from the VMAC, with the VMAC as its source link-layer option
// (the kernel uses a packet's source for its NS only if that address is on
// the outgoing device, and the option carries that device's MAC); an NS
// that leaves by the parent carries the parent's own address and MAC. The
// test makes the Master resolve the host both ways (answering the host's
// pings to the VIPs, and pinging the host from the VIPs) and checks every
// NS it sends, and that the host still has the VMAC for the VIP after each.
// An owner's VIPs are also the parent's, so the kernel solicited from them
// by the parent with its MAC and the host learnt that MAC (main); the guard
// gives such NS the parent's link-local as source [5798-8.2.2-d].
func TestMasterNSUsesVMAC(t *testing.T) {
	t.Run("non-owner", func(t *testing.T) { testMasterNS(t, 150) })
	t.Run("owner", func(t *testing.T) { testMasterNS(t, 255) })
}

func testMasterNS(t *testing.T, prio int) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	vmac := net.HardwareAddr{0, 0, 0x5e, 0, 2, 51}
	phys, err := net.ParseMAC(mac(t, r1, "eth0"))
	if err != nil {
		t.Fatal(err)
	}
	if prio == 255 {
		r1.MustIP(t, "addr", "add", "fe80::51/64", "dev", "eth0", "nodad")
		r1.MustIP(t, "addr", "add", "fd77::254/64", "dev", "eth0", "nodad")
	}
	p := start(t, r1, routerYAML("gw6", "51", prio, "100ms", "    vmac: true\n    accept: true # the host pings the VIPs\n", "fe80::51", "fd77::254/64"))
	p.waitState("gw6", "Master", 5*time.Second)
	vips := map[netip.Addr]bool{netip.MustParseAddr("fe80::51"): true, netip.MustParseAddr("fd77::254"): true}
	hostLL, err := l.host.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	mv := vmacLink(t, r1, vmac)
	sniff := lab.Sniff(t, l.host, "eth0")
	fromVIP := 0
	for _, c := range []struct {
		what string
		cmd  *exec.Cmd
	}{
		{"host pings fd77::254", exec.Command("ip", "netns", "exec", l.host.Name, "ping", "-6", "-c", "1", "-W", "1", "fd77::254")},
		{"host pings fe80::51", exec.Command("ip", "netns", "exec", l.host.Name, "ping", "-6", "-c", "1", "-W", "1", "fe80::51%eth0")},
		{"Master pings the host from fd77::254", exec.Command("ip", "netns", "exec", r1.Name, "ping", "-6", "-c", "1", "-W", "1", "-I", "fd77::254", "fd77::100")},
		// Traffic that leaves by the macvlan (bound to it, as a daemon
		// listening on the VIP answers through it).
		{"Master pings the host from the macvlan", exec.Command("ip", "netns", "exec", r1.Name, "ping", "-6", "-c", "1", "-W", "1", "-I", mv, "fd77::100")},
		{"Master pings the host's link-local from the macvlan", exec.Command("ip", "netns", "exec", r1.Name, "ping", "-6", "-c", "1", "-W", "1", "-I", mv, hostLL.String()+"%"+mv)},
	} {
		// Forget the host on both sides, so the Master has to solicit.
		for _, nd := range []*lab.Node{r1, l.host} {
			if _, err := nd.IP("-6", "neigh", "flush", "all"); err != nil {
				t.Fatal(err)
			}
		}
		sniff.Drain()
		out, err := c.cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.what, err, out)
		}
		deadline := time.Now().Add(300 * time.Millisecond)
		for {
			f, err := sniff.Next(time.Until(deadline), func(f []byte) bool {
				ns, ok := parseNS(f)
				return ok && (bytes.Equal(ns.ethSrc, phys) || bytes.Equal(ns.ethSrc, vmac))
			})
			if err != nil {
				break
			}
			ns, _ := parseNS(f)
			t.Logf("%s: NS from %v (%v) for %v, source link-layer option %v", c.what, ns.src, ns.ethSrc, ns.target, ns.slla)
			if vips[ns.src] {
				fromVIP++
				if !bytes.Equal(ns.ethSrc, vmac) || (ns.slla != nil && !bytes.Equal(ns.slla, vmac)) {
					t.Errorf("%s: NS from the VIP %v sent from %v with option %v, want the VMAC %v [5798-8.2.2-b]", c.what, ns.src, ns.ethSrc, ns.slla, vmac)
				}
			} else if ns.slla != nil && bytes.Equal(ns.slla, vmac) != bytes.Equal(ns.ethSrc, vmac) {
				t.Errorf("%s: NS from %v sent from %v with option %v: frame source and option disagree", c.what, ns.src, ns.ethSrc, ns.slla)
			}
		}
		if got := neighMAC(l.host, "fd77::254"); got != "" && got != vmac.String() {
			t.Errorf("%s: the host has %s for fd77::254, want the VMAC", c.what, got)
		}
	}
	if fromVIP == 0 {
		t.Error("the Master sent no NS from a virtual address: the test exercised nothing")
	}
}

// vmacLink is the name of the link with MAC addr on nd (the VMAC macvlan).
func vmacLink(t *testing.T, nd *lab.Node, addr net.HardwareAddr) string {
	t.Helper()
	links, err := nd.Handle.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if bytes.Equal(l.Attrs().HardwareAddr, addr) {
			return l.Attrs().Name
		}
	}
	t.Fatalf("no link with MAC %v on %s", addr, nd.Name)
	return ""
}
