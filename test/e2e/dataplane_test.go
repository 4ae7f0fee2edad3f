package e2e

import (
	"bytes"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
	"govrrp/vrrp"
)

// inject sends five VRRPv3 IPv4 adverts of VRID 51 with the given TTL from
// nd's eth0 to 224.0.0.18, as a hostile or misrouted sender would.
func inject(t *testing.T, nd *lab.Node, ttl int, prio uint8) {
	t.Helper()
	injectVRID(t, nd, 51, ttl, prio)
}

// injectVRID is inject for another VRID.
func injectVRID(t *testing.T, nd *lab.Node, vrid uint8, ttl int, prio uint8) {
	t.Helper()
	injectMessage(t, nd, ttl, vrrp.Message{Version: 3, VRID: vrid, Priority: prio, Family: vrrp.IPv4, Interval: 100 * time.Millisecond,
		Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")}})
}

// injectMessage multicasts five copies of the IPv4 advert m from nd with
// the given TTL.
func injectMessage(t *testing.T, nd *lab.Node, ttl int, m vrrp.Message) {
	t.Helper()
	src := nd.V4.Addr()
	b, err := m.Encode(nil, src, vrrp.MulticastIPv4, vrrp.ChecksumPseudoHeader)
	if err != nil {
		t.Fatal(err)
	}
	nd.MustDo(t, func() error {
		c, err := net.ListenPacket("ip4:112", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		p := ipv4.NewPacketConn(c)
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if err := p.SetMulticastInterface(ifi); err != nil {
			return err
		}
		if err := p.SetMulticastTTL(ttl); err != nil {
			return err
		}
		for range 5 { // several, so a single lost one cannot pass the test
			if _, err := p.WriteTo(b, nil, &net.IPAddr{IP: vrrp.MulticastIPv4.AsSlice()}); err != nil {
				return err
			}
		}
		return nil
	})
}

// A higher-priority advert with TTL 254 is dropped and counted and changes
// nothing; the same advert with TTL 255 does displace the master, which
// proves the first half could have failed [5798-7.1-a][5798-5.1.1.3-b].
func TestTTL254Dropped(t *testing.T) {
	l := newLab(t, 2)
	r1, attacker := l.Nodes[0], l.Nodes[1]
	p1 := start(t, r1, gwYAML)
	before := p1.waitState("gw", "Master", 5*time.Second)

	inject(t, attacker, 254, 254)
	waitFor(t, 3*time.Second, "the TTL drop to be counted", func() (bool, string) {
		d, err := p1.Detail("gw")
		if err != nil {
			return false, err.Error()
		}
		return d.Discards["ttl"] >= 5, strings.TrimSpace(strings.Join(strings.Fields(strings.ReplaceAll(fmtMap(d.Discards), "\n", " ")), " "))
	})
	after, _ := p1.Detail("gw")
	if after.State != "Master" || len(after.Transitions) != len(before.Transitions) || after.Counters["adverts_received"] != before.Counters["adverts_received"] {
		t.Fatalf("a TTL-254 advert changed state: %s, transitions %d→%d, received %d→%d",
			after.State, len(before.Transitions), len(after.Transitions), before.Counters["adverts_received"], after.Counters["adverts_received"])
	}

	inject(t, attacker, 255, 254)
	p1.waitState("gw", "Backup", 3*time.Second)
}

func fmtMap(m map[string]uint64) string {
	var b bytes.Buffer
	for k, v := range m {
		b.WriteString(k + "=" + itoa(v) + " ")
	}
	return b.String()
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var d []byte
	for v > 0 {
		d = append([]byte{byte('0' + v%10)}, d...)
		v /= 10
	}
	return string(d)
}

// VMAC mode: the master's adverts and gratuitous ARPs leave from
// 00:00:5e:00:01:VRID, the backup sends nothing from it, hosts learn the
// VMAC for the VIP, and a stopped daemon leaves no macvlan behind
// [5798-7.2-c][5798-7.3-a][5798-8.1.2-a].
func TestVMAC(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	sniff := lab.Sniff(t, l.host, "eth0")
	vmac := net.HardwareAddr{0, 0, 0x5e, 0, 1, 51}
	extra := "    vmac: true\n    accept: true\n" // the host pings the VIP
	p1, p2 := startPair(t, r1, r2, extra, "10.77.0.254/24")

	sniff.Drain()
	var fromVMAC, fromOther int
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		f, err := sniff.Next(time.Until(deadline), func(f []byte) bool {
			return len(f) > 23 && lab.EtherType(f) == 0x0800 && f[23] == vrrp.IPProtocol
		})
		if err != nil {
			break
		}
		if bytes.Equal(f[6:12], vmac) {
			fromVMAC++
		} else {
			fromOther++
		}
	}
	if fromVMAC < 5 || fromOther != 0 {
		t.Fatalf("in 1s of 100ms adverts: %d from the VMAC, %d from another MAC (the backup must be silent, the master must use the VMAC)", fromVMAC, fromOther)
	}
	if !ping(l.host, "10.77.0.254") {
		t.Fatal("VIP unreachable in VMAC mode")
	}
	if got := neighMAC(l.host, "10.77.0.254"); got != vmac.String() {
		t.Fatalf("host learnt %q for the VIP, want the VMAC %s", got, vmac)
	}
	for _, nd := range []*lab.Node{r1, r2} {
		out, _ := nd.IP("-o", "link", "show", "type", "macvlan")
		if !strings.Contains(out, "00:00:5e:00:01:33") {
			t.Fatalf("%s has no VMAC macvlan:\n%s", nd.Name, out)
		}
	}
	p1.stop()
	p2.stop()
	for _, nd := range []*lab.Node{r1, r2} {
		if out, _ := nd.IP("-o", "link", "show", "type", "macvlan"); strings.TrimSpace(out) != "" {
			t.Fatalf("%s kept a macvlan after SIGTERM:\n%s", nd.Name, out)
		}
	}
}

// A Backup's VMAC macvlan discards frames addressed to the VMAC
// [5798-6.4.2-d][IMPL-12]. The LAN's bridge floods every unicast frame (a
// switch that has not learnt where the Master is does), so a host routing
// through the VIP reaches both routers with frames for the VMAC: the
// Backup, which holds the destination, must not answer while it is Backup
// (nor route, with forwarding on), and must once it is Master. The
// takeover in VMAC mode (SIGTERM of the Master) is timed from the stop to
// the first answer through the VMAC.
func TestVMACBackupDiscards(t *testing.T) {
	testenv.RequireTool(t, "nft")
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	l.Bridge.MustIP(t, "link", "set", "br0", "type", "bridge", "ageing_time", "0")         // a hub: unicast is flooded
	p1, p2 := startPair(t, r1, r2, "    vmac: true\n    accept: true\n", "10.77.0.254/24") // the host pings the VIP
	// Behind the VIP: an address only the Backup holds.
	r2.MustIP(t, "addr", "add", "10.78.0.2/32", "dev", "lo")
	l.host.MustIP(t, "route", "add", "10.78.0.0/24", "via", "10.77.0.254")
	if !ping(l.host, "10.77.0.254") {
		t.Fatal("VIP unreachable in VMAC mode")
	}
	if got := neighMAC(l.host, "10.77.0.254"); got != "00:00:5e:00:01:33" {
		t.Fatalf("host learnt %q for the VIP, want the VMAC", got)
	}
	if ping(l.host, "10.78.0.2") {
		t.Fatal("the Backup took frames addressed to the VMAC and answered")
	}
	if out, _ := r2.IP("-s", "link", "show", "type", "macvlan"); !strings.Contains(out, "00:00:5e:00:01:33") {
		t.Fatalf("the Backup has no VMAC macvlan:\n%s", out)
	}
	out, err := exec.Command("ip", "netns", "exec", r2.Name, "nft", "list", "table", "inet", "govrrp_vmac").CombinedOutput()
	if err != nil || !regexp.MustCompile(`counter packets [1-9]`).Match(out) {
		t.Fatalf("the Backup's gate counted no frame for the VMAC (the test would prove nothing): %v\n%s", err, out)
	}

	start := time.Now()
	p1.stop()
	stopped := time.Since(start)
	p2.waitState("gw", "Master", time.Second)
	master := time.Since(start)
	var took time.Duration
	waitFor(t, 3*time.Second, "the new Master to answer through the VMAC", func() (bool, string) {
		ok := exec.Command("ip", "netns", "exec", l.host.Name, "ping", "-c", "1", "-W", "0.2", "10.78.0.2").Run() == nil
		took = time.Since(start)
		return ok, "no answer"
	})
	t.Logf("from SIGTERM of the Master: it exited after %v, the Backup reported Master by %v, answered through its VMAC by %v", stopped, master, took)
	p2.stop()
	for _, nd := range []*lab.Node{r1, r2} {
		if out, _ := exec.Command("ip", "netns", "exec", nd.Name, "nft", "list", "tables").CombinedOutput(); strings.Contains(string(out), "govrrp_vmac") {
			t.Errorf("%s kept the gate table after SIGTERM:\n%s", nd.Name, out)
		}
	}
}

// After kill -9 the VIPs stay on the interface (nothing cleaned up); a
// restarted govrrpd that comes back as Backup removes them at startup, so it
// never answers ARP for an address it no longer serves.
func TestKill9RestartCleansStaleVIPs(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	cfg1 := routerYAML("gw", "51", 150, "100ms", "    preempt: false\n    accept: true\n", "10.77.0.254/24")
	p1, p2 := startBoth(t, r1, r2, cfg1, routerYAML("gw", "51", 100, "100ms", "    accept: true\n", "10.77.0.254/24")) // the host pings the VIP

	p1.kill()
	if !hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("test premise: a SIGKILLed daemon leaves its VIP behind")
	}
	p2.waitState("gw", "Master", 3*time.Second)

	// preempt off: the restarted router stays Backup behind the new master.
	p1b := start(t, r1, cfg1)
	p1b.waitState("gw", "Backup", 3*time.Second)
	if hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("the restarted backup still holds the stale VIP")
	}
	if !ping(l.host, "10.77.0.254") {
		t.Fatal("VIP unreachable")
	}
	if got, want := neighMAC(l.host, "10.77.0.254"), mac(t, r2, "eth0"); got != want {
		t.Fatalf("host resolves the VIP to %s, want the master %s", got, want)
	}
}
