package interop

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// FRR binaries (not on PATH).
const (
	frrZebra = "/usr/lib/frr/zebra"
	frrVrrpd = "/usr/lib/frr/vrrpd"
)

// FRR runs FRR 8.4's zebra and vrrpd in a router namespace, in the
// foreground (so the harness owns the processes), as user frr, with a
// private vty/zserv directory:
//
//	zebra -u frr -g frr -i DIR/zebra.pid -z DIR/zserv.api --vty_socket DIR -A 127.0.0.1 -P 0 -f /dev/null --log file:DIR/zebra.log
//	vrrpd ... -f DIR/frr.conf --log file:DIR/vrrpd.log
//
// vrrpd needs the VMAC macvlans made beforehand (bridge mode, VIPs on them,
// IPv6 ones with random address generation); Start makes them. It also sets,
// inside the router namespace only, eth0 arp_ignore=1 (else eth0 answers ARP
// for the VIP with its own MAC, on the backup too, since the VIP stays on
// the protodown macvlan) and ignore_routes_with_linkdown=1, as FRR's
// documentation advises. FRR runs one "vrrp N" per VRID for both families,
// so VRs of the same VRID must agree on everything but the VIPs.
// State comes from `vtysh --vty_socket DIR -c "show vrrp json"`.
type FRR struct {
	peerBase
	zebra *lab.Proc
	vrrpd *lab.Proc
}

// NewFRR prepares an FRR peer in nd with its files under dir/<node>-frr.
func NewFRR(t testing.TB, nd *lab.Node, dir string, vrs ...VR) *FRR {
	t.Helper()
	testenv.RequireTool(t, frrZebra)
	testenv.RequireTool(t, frrVrrpd)
	testenv.RequireTool(t, "vtysh")
	byID := map[uint8]VR{}
	checkVRs(t, "frr", vrs, func(v VR) string {
		defer func() { byID[v.VRID] = v }()
		switch o, ok := byID[v.VRID]; {
		case v.AuthPass != "":
			return "FRR has no authentication"
		case len(v.Unicast) > 0:
			return "FRR has no unicast"
		case v.Priority == 255:
			return "FRR cannot be the address owner"
		case v.PreemptDelay > 0:
			return "FRR has no preempt delay"
		case v.BFDMaster != "":
			return "FRR's vrrpd has no BFD"
		case v.PlainChecksum:
			return "FRR 8.4 has no plain-checksum (RFC 9568) setting"
		case v.V2Compat:
			return "FRR 8.4 has no v2/v3 interoperation mode (a VR is version 2 or 3)"
		case v.Interval < 10*time.Millisecond || v.Interval > 40950*time.Millisecond:
			return fmt.Sprintf("interval %v out of range", v.Interval)
		case ok && (o.Version != v.Version || o.Priority != v.Priority || o.Interval != v.Interval || o.NoPreempt != v.NoPreempt):
			return "the IPv4 and IPv6 VRs must share version, priority, interval and preempt"
		}
		return ""
	})
	f := &FRR{}
	f.init(t, nd, "frr", vrs, dir, 0o777) // world-writable: the daemons run as frr
	return f
}

// macvlanName is the VMAC device of a VR.
func macvlanName(v VR) string { return fmt.Sprintf("vrrp%d-%d", int(v.Family), v.VRID) }

func vmac(v VR) string {
	if v.Family == IPv6 {
		return fmt.Sprintf("00:00:5e:00:02:%02x", v.VRID)
	}
	return fmt.Sprintf("00:00:5e:00:01:%02x", v.VRID)
}

// Config renders frr.conf for the current VRs.
func (f *FRR) Config() string {
	ids := map[uint8][]VR{}
	var order []int
	for _, v := range f.vrs {
		if _, ok := ids[v.VRID]; !ok {
			order = append(order, int(v.VRID))
		}
		ids[v.VRID] = append(ids[v.VRID], v)
	}
	sort.Ints(order)
	var b strings.Builder
	// Protocol debugging logs every advert vrrpd refuses ("Datagram
	// invalid: ...") at debug level: the log the interop checks read.
	b.WriteString("debug vrrp protocol\n")
	b.WriteString("interface eth0\n")
	for _, id := range order {
		vs := ids[uint8(id)]
		v := vs[0]
		fmt.Fprintf(&b, " vrrp %d version %d\n", id, v.Version)
		fmt.Fprintf(&b, " vrrp %d priority %d\n", id, v.Priority)
		fmt.Fprintf(&b, " vrrp %d advertisement-interval %d\n", id, v.Interval.Milliseconds())
		if v.NoPreempt {
			fmt.Fprintf(&b, " no vrrp %d preempt\n", id)
		}
		for _, v := range vs {
			kw := "ip"
			if v.Family == IPv6 {
				kw = "ipv6"
			}
			for _, p := range v.VIPs {
				fmt.Fprintf(&b, " vrrp %d %s %v\n", id, kw, p.Addr())
			}
		}
	}
	return b.String()
}

// setup makes the macvlans (again, after a Kill) and the sysctls.
func (f *FRR) setup(t testing.TB) {
	t.Helper()
	nd := f.node
	nd.MustSysctl(t, "net/ipv4/conf/eth0/arp_ignore", "1")
	nd.MustSysctl(t, "net/ipv4/conf/all/ignore_routes_with_linkdown", "1")
	nd.MustSysctl(t, "net/ipv6/conf/all/ignore_routes_with_linkdown", "1")
	for _, v := range f.vrs {
		dev := macvlanName(v)
		_, _ = nd.IP("link", "del", dev)
		nd.MustIP(t, "link", "add", dev, "link", "eth0", "type", "macvlan", "mode", "bridge")
		nd.MustIP(t, "link", "set", "dev", dev, "address", vmac(v))
		if v.Family == IPv6 {
			// `ip link add ... addrgenmode` is refused here; the sysctl
			// works before the device goes up. No EUI-64 from the VMAC.
			nd.MustSysctl(t, "net/ipv6/conf/"+dev+"/addr_gen_mode", "3")
			// vrrpd toggles protodown (carrier) on every Backup/Master
			// change; without this the kernel drops the link-local on
			// carrier loss and makes a new random one on carrier up,
			// and vrrpd, which binds its IPv6 socket to that address
			// when it becomes Master, fails ("Failed to find address to
			// bind") and sends nothing.
			nd.MustSysctl(t, "net/ipv6/conf/"+dev+"/keep_addr_on_down", "1")
		}
		for _, p := range v.VIPs {
			args := []string{"addr", "add", p.String(), "dev", dev}
			if v.Family == IPv6 {
				args = append([]string{"-6"}, append(args, "nodad")...)
			}
			nd.MustIP(t, args...)
		}
		nd.MustIP(t, "link", "set", dev, "up")
	}
}

// Start implements Peer.
func (f *FRR) Start(t testing.TB) {
	t.Helper()
	if f.Running() {
		t.Fatalf("%s: already running", f.name)
	}
	f.setup(t)
	if err := os.WriteFile(f.path("frr.conf"), []byte(f.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"zserv.api", "zebra.vty", "vrrpd.vty", "zebra.pid", "vrrpd.pid"} {
		_ = os.Remove(f.path(n))
	}
	common := []string{"-u", "frr", "-g", "frr", "-z", f.path("zserv.api"), "--vty_socket", f.dir, "-A", "127.0.0.1", "-P", "0"}
	f.zebra = lab.StartProc(t, f.node, f.name+"/zebra", f.path("zebra.out"), append([]string{frrZebra,
		"-i", f.path("zebra.pid"), "-f", "/dev/null", "--log", "file:" + f.path("zebra.log")}, common...)...)
	f.waitFile(t, f.zebra, "zserv.api")
	f.vrrpd = lab.StartProc(t, f.node, f.name+"/vrrpd", f.path("vrrpd.out"), append([]string{frrVrrpd,
		"-i", f.path("vrrpd.pid"), "-f", f.path("frr.conf"), "--log", "file:" + f.path("vrrpd.log"), "--log-level", "debug"}, common...)...)
	f.waitFile(t, f.vrrpd, "vrrpd.vty")
}

func (f *FRR) waitFile(t testing.TB, p *lab.Proc, name string) {
	t.Helper()
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		_, err := os.Stat(f.path(name))
		return err == nil || !p.Running()
	}) || !p.Running() {
		t.Fatalf("%s did not start (no %s):\n%s", p.Name, name, lab.Tail(f.Logs(), 40))
	}
}

// Stop implements Peer: SIGTERM to vrrpd (a master sends priority 0), then
// to zebra.
func (f *FRR) Stop(t testing.TB) {
	t.Helper()
	if f.vrrpd != nil {
		f.vrrpd.Stop(t, syscall.SIGTERM)
	}
	if f.zebra != nil {
		f.zebra.Stop(t, syscall.SIGTERM)
	}
}

// Kill implements Peer: SIGKILL to vrrpd, then zebra. The macvlans keep
// their state: a killed master's VMAC device stays up with the VIPs.
func (f *FRR) Kill(t testing.TB) {
	t.Helper()
	if f.vrrpd != nil {
		f.vrrpd.Kill(t)
	}
	if f.zebra != nil {
		f.zebra.Kill(t)
	}
}

// Running implements Peer.
func (f *FRR) Running() bool { return f.vrrpd != nil && f.vrrpd.Running() }

// vtysh runs vtysh against this peer's daemons.
func (f *FRR) vtysh(cmds ...string) (string, error) {
	args := []string{"--vty_socket", f.dir}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	cmd := exec.Command("vtysh", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("vtysh %s: %v: %s", strings.Join(cmds, "; "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// frrVR is one entry of `show vrrp json`.
type frrVR struct {
	VRID int `json:"vrid"`
	V4   struct {
		Status string `json:"status"`
	} `json:"v4"`
	V6 struct {
		Status string `json:"status"`
	} `json:"v6"`
}

// State implements Peer.
func (f *FRR) State(key VRKey) (State, error) {
	if !f.Running() {
		return Unknown, fmt.Errorf("%s: not running", f.name)
	}
	out, err := f.vtysh("show vrrp json")
	if err != nil {
		return Unknown, err
	}
	var vrs []frrVR
	if err := json.Unmarshal([]byte(out), &vrs); err != nil {
		return Unknown, fmt.Errorf("%s: show vrrp json: %v: %q", f.name, err, out)
	}
	for _, v := range vrs {
		if v.VRID != int(key.VRID) {
			continue
		}
		s := v.V4.Status
		if key.Family == IPv6 {
			s = v.V6.Status
		}
		switch s {
		case "Master":
			return Master, nil
		case "Backup":
			return Backup, nil
		case "Initialize":
			return Init, nil
		}
		return Unknown, fmt.Errorf("%s: %v: status %q", f.name, key, s)
	}
	return Unknown, fmt.Errorf("%s: no VRID %d in show vrrp", f.name, key.VRID)
}

// SetPriority implements Peer, with vtysh configuration commands.
func (f *FRR) SetPriority(t testing.TB, vrid uint8, prio uint8) {
	t.Helper()
	f.setPriority(vrid, prio)
	if err := os.WriteFile(f.path("frr.conf"), []byte(f.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.vtysh("configure terminal", "interface eth0", fmt.Sprintf("vrrp %d priority %d", vrid, prio)); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
}

// Source implements Peer: eth0's IPv4 address; for IPv6 the link-local of
// the VMAC macvlan, which FRR sends from.
func (f *FRR) Source(key VRKey) (netip.Addr, error) {
	if key.Family == IPv4 {
		return f.node.V4.Addr(), nil
	}
	for _, v := range f.vrs {
		if v.Key() == key {
			return f.node.LinkLocal(macvlanName(v))
		}
	}
	return netip.Addr{}, fmt.Errorf("%s: no %v", f.name, key)
}

// VrrpdLog is vrrpd's own log (protocol debugging on).
func (f *FRR) VrrpdLog() string { return lab.ReadFile(f.path("vrrpd.log")) }

// Logs implements Peer: zebra's and vrrpd's output and logs, vrrpd's last.
// vrrpd's start-up burst of "Refusing to start Virtual Router" lines (one per
// interface event until the VMAC device is matched) is collapsed.
func (f *FRR) Logs() string {
	var b strings.Builder
	for _, n := range []string{"zebra.out", "zebra.log", "vrrpd.out", "vrrpd.log"} {
		s := lab.ReadFile(f.path(n))
		if strings.TrimSpace(s) == "" {
			continue
		}
		fmt.Fprintf(&b, "--- %s\n", n)
		refused := 0
		for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			if strings.Contains(line, "Refusing to start Virtual Router") {
				refused++
				continue
			}
			if refused > 0 {
				fmt.Fprintf(&b, "(%d 'Refusing to start Virtual Router' lines)\n", refused)
				refused = 0
			}
			b.WriteString(line + "\n")
		}
		if refused > 0 {
			fmt.Fprintf(&b, "(%d 'Refusing to start Virtual Router' lines)\n", refused)
		}
	}
	return b.String()
}

// Dump implements Peer: `show vrrp` and the VMAC devices.
func (f *FRR) Dump() string {
	var b strings.Builder
	if f.Running() {
		out, err := f.vtysh("show vrrp")
		if err != nil {
			out += err.Error()
		}
		b.WriteString("show vrrp:\n" + indent(out, "  ") + "\n")
	}
	links, err := f.node.IP("-d", "-br", "link")
	if err != nil {
		links = err.Error()
	}
	addrs, _ := f.node.IP("-br", "addr")
	b.WriteString("links:\n" + indent(links, "  ") + "\naddresses:\n" + indent(addrs, "  "))
	return b.String()
}
