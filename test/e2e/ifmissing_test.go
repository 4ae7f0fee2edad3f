package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// A router whose interface does not exist when govrrpd starts (a VLAN, bond
// or VRF made later) does not stop the daemon: it waits in Fault, reason
// interface-missing, while the other routers run, as keepalived does. When
// the interface appears it runs (here it preempts the peer's Master); when
// it is deleted it waits again, holding no socket; a reload adding a router
// on a missing interface is accepted.
func TestMissingInterfaceWaitsInFault(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	// A second LAN, on its own bridge: lan7 in each router, made when the
	// test says.
	l.Bridge.MustIP(t, "link", "add", "br7", "type", "bridge", "mcast_snooping", "0")
	l.Bridge.MustIP(t, "link", "set", "br7", "up")
	plug := func(nd *lab.Node) {
		port := fmt.Sprintf("q%d", nd.Index)
		l.Bridge.MustIP(t, "link", "add", port, "type", "veth", "peer", "name", "lan7", "netns", nd.Name)
		l.Bridge.MustIP(t, "link", "set", port, "master", "br7", "up")
		nd.MustIP(t, "addr", "add", fmt.Sprintf("10.77.7.%d/24", nd.Index), "dev", "lan7")
		nd.MustIP(t, "link", "set", "lan7", "up")
	}
	on := func(dev, yaml string) string {
		return strings.Replace(yaml, "interface: eth0\n", "interface: "+dev+"\n", 1)
	}
	// r1's with a VMAC (its macvlan can only be made once lan7 is there)
	// and a notify hook.
	dir := t.TempDir()
	hooked, hook := filepath.Join(dir, "hook.log"), filepath.Join(dir, "hook")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$1 $2 $3 $4\" >> "+hooked+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	late := func(prio int) string {
		extra := ""
		if prio == 150 {
			extra = "    vmac: true\n    notify: [" + hook + "]\n"
		}
		return on("lan7", routerYAML("late", "52", prio, "100ms", extra, "10.77.7.254/24"))
	}
	gw := gwYAML

	plug(r2)
	p2 := start(t, r2, late(100))
	p2.waitState("late", "Master", 5*time.Second)
	p1 := start(t, r1, gw+late(150))
	p1.waitState("gw", "Master", 5*time.Second)
	waiting := func(p *proc, name string) {
		t.Helper()
		// A deleted interface's router passes through Fault (link-down)
		// on its way to waiting.
		waitFor(t, 3*time.Second, name+" waiting in Fault (interface-missing)", func() (bool, string) {
			d, err := p.Detail(name)
			return err == nil && d.State == "Fault" && d.FaultReason == "interface-missing", fmt.Sprintf("%s (%s) %v", d.State, d.FaultReason, err)
		})
	}
	waiting(p1, "late")
	table, err := exec.Command(bin.govrrp, "status", "-s", p1.Sock).Output()
	if err != nil || !strings.Contains(string(table), "Fault (interface-missing)") {
		t.Fatalf("status table: %s %v", table, err)
	}
	if !strings.Contains(p1.Logs(), "interface missing") {
		t.Fatalf("no log line says the interface is missing:\n%s", p1.Logs())
	}
	parked, err := p1.resources()
	if err != nil {
		t.Fatal(err)
	}

	// A reload adding a router on another missing interface is accepted.
	p1.writeConfig(gw + late(150) + on("lan8", routerYAML("later", "53", 150, "100ms", "", "10.77.8.254/24")))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, err := p1.Client.Reload(ctx); err != nil || !res.OK {
		t.Fatalf("reload adding a router on a missing interface: %+v %v", res, err)
	}
	waiting(p1, "later")

	// The interface appears: the router makes its VMAC and opens its
	// socket there, runs, and preempts the peer.
	plug(r1)
	p1.waitState("late", "Master", 5*time.Second)
	p2.waitState("late", "Backup", 3*time.Second)
	macvlans := func() string { return r1.MustIP(t, "-br", "link", "show", "type", "macvlan") }
	vm := strings.Fields(macvlans())
	if len(vm) == 0 || !hasAddr(t, r1, strings.Split(vm[0], "@")[0], "10.77.7.254") {
		t.Fatalf("VIP not on a VMAC of the interface that appeared: %q", macvlans())
	}

	// Deleted (with its peer in br7): waits again, and the peer takes over.
	r1.MustIP(t, "link", "del", "lan7")
	waiting(p1, "late")
	p2.waitState("late", "Master", 3*time.Second)
	if d, err := p1.Detail("gw"); err != nil || d.State != "Master" || len(d.Transitions) != 2 {
		t.Fatalf("the router on eth0 was disturbed: %+v %v", d, err)
	}
	if m := macvlans(); m != "" {
		t.Fatalf("VMAC left behind: %s", m)
	}
	// The hooks heard of each Fault, the waiting at start first.
	waitFor(t, 3*time.Second, "the hooks", func() (bool, string) {
		b, _ := os.ReadFile(hooked)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return lines[0] == "late Initialize Fault interface-missing" && slices.Contains(lines, "late Backup Master preempted") &&
			lines[len(lines)-1] == "late Master Fault link-down", string(b)
	})
	// Its socket and loop went with it: no more fds than before it ran.
	waitFor(t, 2*time.Second, "the deleted interface's socket to be closed", func() (bool, string) {
		now, err := p1.resources()
		if err != nil {
			return false, err.Error()
		}
		return now.FDs <= parked.FDs, fmt.Sprintf("%d fds, %d while waiting at start", now.FDs, parked.FDs)
	})
}

// An interface that appears holding one of a waiting router's VIPs as its
// own address: the host checks could not see it at start, and the router's
// start used to delete it as a stale VIP. The router waits in Fault
// (host-address) with the address left alone; once the operator removes
// it, a reload starts it. (The interface is renamed into place so that it
// appears with its addresses: made under the name, it would be seen before
// they are added.)
func TestAppearedInterfaceKeepsHostAddress(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	late := strings.Replace(routerYAML("late", "59", 100, "100ms", "", "10.77.9.5/24"), "interface: eth0\n", "interface: lan9\n", 1)
	p := start(t, r1, late)
	if d := p.waitState("late", "Fault", 3*time.Second); d.FaultReason != "interface-missing" {
		t.Fatalf("waiting for lan9: %q", d.FaultReason)
	}
	r1.MustIP(t, "link", "add", "new9", "type", "veth", "peer", "name", "lan9p")
	r1.MustIP(t, "addr", "add", "10.77.9.1/24", "dev", "new9")
	r1.MustIP(t, "addr", "add", "10.77.9.5/24", "dev", "new9") // the typo: the host's own
	r1.MustIP(t, "link", "set", "new9", "name", "lan9")
	r1.MustIP(t, "link", "set", "lan9p", "up")
	r1.MustIP(t, "link", "set", "lan9", "up")
	waitFor(t, 3*time.Second, "late waiting on the host's address", func() (bool, string) {
		d, err := p.Detail("late")
		return err == nil && d.State == "Fault" && d.FaultReason == "host-address", fmt.Sprintf("%s %s %v", d.State, d.FaultReason, err)
	})
	if !hasAddr(t, r1, "lan9", "10.77.9.5") {
		t.Fatal("the host's address was deleted from the interface that appeared")
	}
	if !strings.Contains(p.Logs(), "host's own address") {
		t.Fatalf("no log line says why the router waits:\n%s", p.Logs())
	}
	r1.MustIP(t, "addr", "del", "10.77.9.5/24", "dev", "lan9")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if res, err := p.Client.Reload(ctx); err != nil || !res.OK {
		t.Fatalf("reload: %+v %v", res, err)
	}
	p.waitState("late", "Master", 3*time.Second)
}

// A router whose advert does not fit its interface's MTU: the interface
// appears after the start with MTU 68 (the configuration checks could not
// see it), then its MTU is raised, lowered while the router is Master, and
// raised again. The router waits in Fault (advert-exceeds-mtu, one log line,
// shown in status) while the advert does not fit, and runs when it does.
func TestAdvertExceedsMTUWaitsInFault(t *testing.T) {
	l := newLab(t, 1)
	nd := l.Nodes[0]
	var vips []string
	for i := range 15 { // 20 + 8 + 15×4 = 88 bytes
		vips = append(vips, fmt.Sprintf("10.77.7.%d/24", 100+i))
	}
	big := strings.Replace(routerYAML("big", "57", 100, "100ms", "", vips...), "interface: eth0\n", "interface: lan7\n", 1)
	p := start(t, nd, gwYAML+big)
	p.waitState("gw", "Master", 5*time.Second)
	waiting := func() {
		t.Helper()
		waitFor(t, 3*time.Second, "big waiting in Fault (advert-exceeds-mtu)", func() (bool, string) {
			d, err := p.Detail("big")
			return err == nil && d.State == "Fault" && d.FaultReason == "advert-exceeds-mtu", fmt.Sprintf("%s (%s) %v", d.State, d.FaultReason, err)
		})
	}
	nd.MustIP(t, "link", "add", "lan7", "mtu", "68", "type", "veth", "peer", "name", "lan7p", "mtu", "68")
	nd.MustIP(t, "addr", "add", "10.77.7.1/24", "dev", "lan7")
	nd.MustIP(t, "link", "set", "lan7p", "up")
	nd.MustIP(t, "link", "set", "lan7", "up")
	waiting()
	table, err := exec.Command(bin.govrrp, "status", "-s", p.Sock).Output()
	if err != nil || !strings.Contains(string(table), "Fault (advert-exceeds-mtu)") {
		t.Fatalf("status table: %s %v", table, err)
	}
	mtu := func(n string) {
		nd.MustIP(t, "link", "set", "lan7p", "mtu", n)
		nd.MustIP(t, "link", "set", "lan7", "mtu", n)
	}
	mtu("1500")
	p.waitState("big", "Master", 3*time.Second)
	mtu("68")
	waiting()
	if hasAddr(t, nd, "lan7", "10.77.7.100") {
		t.Fatal("the waiting router left its VIPs on the interface")
	}
	mtu("1500")
	p.waitState("big", "Master", 3*time.Second)
	if n := strings.Count(p.Logs(), "does not fit the MTU"); n != 2 {
		t.Fatalf("%d log lines say the advert does not fit, want 2 (once per episode):\n%s", n, p.Logs())
	}
	if d, err := p.Detail("gw"); err != nil || d.State != "Master" || d.Counters["master_transitions"] != 1 {
		t.Fatalf("the router on eth0 was disturbed: %s, %d transitions to Master, %v", d.State, d.Counters["master_transitions"], err)
	}
}
