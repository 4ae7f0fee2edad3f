package e2e

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// hostLAN is a LAN of routers plus a host at .100 / ::100.
type hostLAN struct {
	*lab.LAN
	host *lab.Node
}

func newLab(t *testing.T, routers int) *hostLAN {
	l := &hostLAN{LAN: lab.NewLAN(t, routers)}
	l.host = l.AddHost(t)
	return l
}

func mac(t *testing.T, nd *lab.Node, dev string) string {
	t.Helper()
	ifi, err := nd.Interface(dev)
	if err != nil {
		t.Fatal(err)
	}
	return ifi.HardwareAddr.String()
}

// neighMAC is the link-layer address the host's neighbour table holds for
// ip ("" when none or not valid). It asks netlink in the namespace, with no
// process to start, so a poll loop measures within a few milliseconds.
func neighMAC(nd *lab.Node, ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return nd.Neighbour(a)
}

// ping sends a few probes from nd to ip and reports whether one came back.
func ping(nd *lab.Node, ip string) bool {
	return exec.Command("ip", "netns", "exec", nd.Name, "ping", "-c", "2", "-i", "0.05", "-W", "1", ip).Run() == nil
}

// startPair runs router gw (VRID 51, 100 ms adverts) on r1 at priority 150
// and on r2 at 100, with the same extra keys and addresses, and waits until
// r1 is Master and r2 Backup.
func startPair(t *testing.T, r1, r2 *lab.Node, extra string, addrs ...string) (p1, p2 *proc) {
	t.Helper()
	return startBoth(t, r1, r2, routerYAML("gw", "51", 150, "100ms", extra, addrs...), routerYAML("gw", "51", 100, "100ms", extra, addrs...))
}

// startBoth runs govrrpd with conf1 on r1 and conf2 on r2 and waits until
// gw is Master on r1 and Backup on r2.
func startBoth(t *testing.T, r1, r2 *lab.Node, conf1, conf2 string) (p1, p2 *proc) {
	t.Helper()
	p1, p2 = start(t, r1, conf1), start(t, r2, conf2)
	p1.waitState("gw", "Master", 5*time.Second)
	p2.waitState("gw", "Backup", 5*time.Second)
	return p1, p2
}

func routerYAML(name, vrid string, prio int, interval string, extra string, addrs ...string) string {
	return fmt.Sprintf("  - name: %s\n    interface: eth0\n    vrid: %s\n    priority: %d\n    advert_interval: %s\n    addresses: [%s]\n%s",
		name, vrid, prio, interval, strings.Join(addrs, ", "), extra)
}

// gwYAML is the routers section of the single-router tests: "gw", VRID 51,
// priority 150, 100 ms adverts, VIP 10.77.0.254/24 on eth0.
var gwYAML = routerYAML("gw", "51", 150, "100ms", "", "10.77.0.254/24")

// startGW runs govrrpd with gwYAML on node (with exe, default the race
// build) and waits until gw is Master.
func startGW(t *testing.T, node *lab.Node, exe ...string) *proc {
	t.Helper()
	e := bin.govrrpd
	if len(exe) > 0 {
		e = exe[0]
	}
	p := startExe(t, node, gwYAML, e)
	p.waitState("gw", "Master", 5*time.Second)
	return p
}

// startTracked runs the tracking pair: gw at priority 150 on r1 with the
// track section track (and more, appended after the routers), gw at 120
// on r2; it waits until r1 is Master and r2 Backup.
func startTracked(t *testing.T, r1, r2 *lab.Node, track, more string) (p1, p2 *proc) {
	t.Helper()
	return startBoth(t, r1, r2, routerYAML("gw", "51", 150, "100ms", track, "10.77.0.254/24")+more,
		routerYAML("gw", "51", 120, "100ms", "", "10.77.0.254/24"))
}

// Election, takeover on a cable pull and preemption on its return, for
// IPv4 (gratuitous ARP) and IPv6 (unsolicited NA): the master holds the
// addresses and the backup does not, and a host's neighbour table follows
// the master within the failover time [5798-6.4.2-g][5798-6.4.1-a][5798-6.4.2-a].
func TestFailoverMovesNeighbourEntry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vip   string
		addrs []string
	}{
		{"ipv4", "10.77.0.254", []string{"10.77.0.254/24"}},
		{"ipv6", "fd77::254", []string{"fe80::51", "fd77::254/64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 2)
			r1, r2 := l.Nodes[0], l.Nodes[1]
			// accept: the host pings the VIP (Accept_Mode; accept_test.go).
			p1, p2 := startPair(t, r1, r2, "    accept: true\n", tc.addrs...)
			if !hasAddr(t, r1, "eth0", tc.vip) || hasAddr(t, r2, "eth0", tc.vip) {
				t.Fatalf("VIP %s: on master %v, on backup %v; want only on the master", tc.vip, hasAddr(t, r1, "eth0", tc.vip), hasAddr(t, r2, "eth0", tc.vip))
			}
			if !ping(l.host, tc.vip) {
				t.Fatalf("host cannot reach the VIP %s through the master", tc.vip)
			}
			if got, want := neighMAC(l.host, tc.vip), mac(t, r1, "eth0"); got != want {
				t.Fatalf("host neighbour entry for %s is %q, want the master's %s", tc.vip, got, want)
			}

			// Cable pull: the backup takes over and announces; the host's
			// entry moves without the host asking (no ping in between).
			pulled := time.Now()
			l.Unplug(t, r1)
			p2.waitState("gw", "Master", 3*time.Second)
			want2 := mac(t, r2, "eth0")
			waitFor(t, 3*time.Second, "host neighbour entry to follow the new master", func() (bool, string) {
				got := neighMAC(l.host, tc.vip)
				return got == want2, got
			})
			// Master_Down_Interval at priority 100 and 100 ms is 360.9375 ms;
			// the bound is generous for CI, the benchmark measures.
			if d := time.Since(pulled); d > 3*time.Second {
				t.Errorf("takeover and announcement took %v", d)
			}
			if !hasAddr(t, r2, "eth0", tc.vip) {
				t.Fatal("new master does not hold the VIP")
			}
			p1.waitState("gw", "Fault", 3*time.Second) // carrier lost: Fault, addresses withdrawn
			if hasAddr(t, r1, "eth0", tc.vip) {
				t.Fatal("router in Fault still holds the VIP")
			}
			if !ping(l.host, tc.vip) {
				t.Fatal("VIP unreachable after failover")
			}

			// Cable back: r1 returns through Initialize to Backup, then
			// preempts the lower-priority master [5798-6.4.2-j].
			l.Plug(t, r1)
			p1.waitState("gw", "Master", 5*time.Second)
			p2.waitState("gw", "Backup", 3*time.Second)
			want1 := mac(t, r1, "eth0")
			waitFor(t, 3*time.Second, "host neighbour entry back on the first router", func() (bool, string) {
				got := neighMAC(l.host, tc.vip)
				return got == want1, got
			})
			if hasAddr(t, r2, "eth0", tc.vip) {
				t.Fatal("backup kept the VIP after being preempted")
			}
		})
	}
}
