package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// An interface deleted and re-created (a new ifindex) is picked up again:
// the router leaves Fault and runs on the new device.
func TestInterfaceRecreated(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	p1, p2 := startPair(t, r1, r2, "", "10.77.0.254/24")

	r1.MustIP(t, "link", "del", "eth0") // the veth pair and its bridge port go
	p2.waitState("gw", "Master", 3*time.Second)
	p1.waitState("gw", "Fault", 3*time.Second)

	l.Bridge.MustIP(t, "link", "add", r1.Port, "type", "veth", "peer", "name", "eth0", "netns", r1.Name)
	l.Bridge.MustIP(t, "link", "set", r1.Port, "master", "br0", "up")
	r1.MustSysctl(t, "net/ipv6/conf/eth0/accept_dad", "0")
	r1.MustIP(t, "addr", "add", r1.V4.String(), "dev", "eth0")
	r1.MustIP(t, "link", "set", "eth0", "up")
	p1.waitState("gw", "Master", 5*time.Second) // back, and preempts
	p2.waitState("gw", "Backup", 3*time.Second)
	if !hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("VIP not on the re-created interface")
	}
}

// A change of the interface's primary address changes the source of the
// adverts [5798-5.1.1.1-a]; the peer then follows the new address.
func TestPrimaryAddressChange(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	// A /32 VIP is its own subnet, so it is not a secondary of 10.77.0.1/24
	// and is not deleted with it.
	p1, p2 := startPair(t, r1, r2, "", "10.77.0.254/32")

	// Without promote_secondaries the kernel deletes the secondaries with
	// the primary.
	r1.MustSysctl(t, "net/ipv4/conf/eth0/promote_secondaries", "1")
	r1.MustIP(t, "addr", "add", "10.77.0.11/24", "dev", "eth0") // secondary for now
	r1.MustIP(t, "addr", "del", "10.77.0.1/24", "dev", "eth0")  // 10.77.0.11 is promoted
	waitFor(t, 3*time.Second, "the backup to hear the master from its new address", func() (bool, string) {
		d, err := p2.Detail("gw")
		if err != nil {
			return false, err.Error()
		}
		return d.Master == "10.77.0.11" && d.State == "Backup", d.State + " " + d.Master
	})
	if d, _ := p1.Detail("gw"); d.Primary != "10.77.0.11" || d.Master != "10.77.0.11" || strings.Contains(d.State, "Backup") {
		t.Fatalf("master after the change: %+v", d.RouterStatus)
	}
}

// multicast_source (keepalived mcast_src_ip) chooses the primary address
// among the interface's own [5798-5.1.1.1-a]: the adverts leave from it, so
// the backup hears the master from it, and it stays when the interface's
// primary address changes (TestPrimaryAddressChange: without it, the
// source follows).
func TestMulticastSource(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	// Two secondaries: 10.77.0.11 is promoted when 10.77.0.1 goes.
	r1.MustSysctl(t, "net/ipv4/conf/eth0/promote_secondaries", "1")
	r1.MustIP(t, "addr", "add", "10.77.0.11/24", "dev", "eth0")
	r1.MustIP(t, "addr", "add", "10.77.0.21/24", "dev", "eth0")
	p1, p2 := startBoth(t, r1, r2,
		routerYAML("gw", "51", 150, "100ms", "    multicast_source: 10.77.0.21\n", "10.77.0.254/32"),
		routerYAML("gw", "51", 100, "100ms", "", "10.77.0.254/32"))
	heard := func(want string) {
		t.Helper()
		waitFor(t, 3*time.Second, "the backup to hear the master from "+want, func() (bool, string) {
			d, err := p2.Detail("gw")
			if err != nil {
				return false, err.Error()
			}
			return d.Master == want && d.State == "Backup", d.State + " " + d.Master
		})
	}
	heard("10.77.0.21")
	if d, _ := p1.Detail("gw"); d.Primary != "10.77.0.21" {
		t.Fatalf("master's primary %s, want 10.77.0.21", d.Primary)
	}
	r1.MustIP(t, "addr", "del", "10.77.0.1/24", "dev", "eth0") // 10.77.0.11 is the primary now
	time.Sleep(300 * time.Millisecond)                         // three adverts
	heard("10.77.0.21")

	// The source removed at run time: the router waits in Fault
	// (source-missing) rather than stay a Master nobody hears, so the
	// peer is the one Master; back, it runs and takes over again.
	r1.MustIP(t, "addr", "del", "10.77.0.21/24", "dev", "eth0")
	waitFor(t, 3*time.Second, "the master without its source in Fault and the backup Master", func() (bool, string) {
		d1, err1 := p1.Detail("gw")
		d2, err2 := p2.Detail("gw")
		if err1 != nil || err2 != nil {
			return false, fmt.Sprint(err1, err2)
		}
		return d1.State == "Fault" && d1.FaultReason == "source-missing" && d2.State == "Master", d1.State + " (" + d1.FaultReason + ") " + d2.State
	})
	r1.MustIP(t, "addr", "add", "10.77.0.21/24", "dev", "eth0")
	heard("10.77.0.21")
}
