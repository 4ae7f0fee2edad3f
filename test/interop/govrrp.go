package interop

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/lab/govrrpd"
)

// GovrrpdBin is the govrrpd binary the Govrrp peers run; TestMain builds it
// (with -race) from the tree under test.
var GovrrpdBin string

// Govrrp runs govrrpd in a router namespace with the lab's harness
// (internal/lab/govrrpd), configured from VRs: one routers: entry per VR,
// named vr<VRID>-<family>, on eth0. State comes from the control API.
type Govrrp struct {
	peerBase
	d *govrrpd.Daemon
	// imported, when set, is what `govrrp import keepalived` made of a
	// keepalived.conf: Config serves it instead of rendering the VRs, and
	// the routers carry keepalived's instance names.
	imported string

	// Set before Start, for the benchmark:
	Log     string // the log: setting; "{format: text, level: debug}" when empty
	Top     string // more top-level YAML (metrics_listen: ...)
	Routers string // a routers: section of its own, instead of the VRs'
}

// UseImported makes the daemon run yaml, the output of
// `govrrp import keepalived` (routers named as keepalived's instances), with
// the harness's control socket and log settings put before it.
func (g *Govrrp) UseImported(yaml string) { g.imported = yaml }

// routerName is the name of k in this daemon's API.
func (g *Govrrp) routerName(k VRKey) string {
	for _, v := range g.VRs() {
		if v.Key() == k && v.Name != "" {
			return v.Name
		}
	}
	if g.imported != "" {
		return instanceName(VR{VRID: k.VRID, Family: k.Family})
	}
	return routerName(k)
}

// NewGovrrp prepares a govrrpd peer in nd, keeping its files under
// dir/<node>-govrrp.
func NewGovrrp(t testing.TB, nd *lab.Node, dir string, vrs ...VR) *Govrrp {
	t.Helper()
	if GovrrpdBin == "" {
		t.Fatal("govrrp: GovrrpdBin is not set (TestMain builds it)")
	}
	return NewGovrrpBin(t, GovrrpdBin, nd, dir, vrs...)
}

// NewGovrrpBin is NewGovrrp running another govrrpd binary.
func NewGovrrpBin(t testing.TB, bin string, nd *lab.Node, dir string, vrs ...VR) *Govrrp {
	t.Helper()
	checkVRs(t, "govrrp", vrs, func(v VR) string {
		if v.AuthPass != "" && v.Version != 2 {
			return "auth needs VRRPv2"
		}
		return ""
	})
	g := &Govrrp{}
	g.init(t, nd, "govrrp", vrs, dir, 0) // the harness makes the directory
	g.d = govrrpd.NewT(t, nd, g.name, bin, g.dir)
	return g
}

// routerName is the name of a VR in the daemon's configuration and API.
func routerName(k VRKey) string { return fmt.Sprintf("vr%d-%v", k.VRID, k.Family) }

// virtualLinkLocal is the virtual link-local address an IPv6 VR lists first
// (RFC 9568 §5.2.9): fe80::<VRID>.
func virtualLinkLocal(vrid uint8) netip.Prefix {
	return netip.MustParsePrefix(fmt.Sprintf("fe80::%d/64", vrid))
}

// addresses is what govrrpd gets as the VR's address list.
func (v VR) addresses() []netip.Prefix {
	if v.Family == IPv6 && !v.NoLinkLocal && !slices.ContainsFunc(v.VIPs, func(p netip.Prefix) bool { return p.Addr().IsLinkLocalUnicast() }) {
		return append([]netip.Prefix{virtualLinkLocal(v.VRID)}, v.VIPs...)
	}
	return v.VIPs
}

// Config renders govrrpd.yaml for the current VRs.
func (g *Govrrp) Config() string { return g.d.Header() + g.body() }

// body is the configuration after the control socket.
func (g *Govrrp) body() string {
	vrs := g.VRs()
	var b strings.Builder
	log := cmp.Or(g.Log, "{format: text, level: debug}")
	fmt.Fprintf(&b, "log: %s\n%s", log, g.Top)
	if g.imported != "" {
		return b.String() + g.imported
	}
	if g.Routers != "" {
		return b.String() + "routers:\n" + g.Routers
	}
	b.WriteString("routers:\n")
	for _, v := range vrs {
		fmt.Fprintf(&b, "  - name: %s\n    interface: %s\n    vrid: %d\n    version: %d\n    priority: %d\n",
			routerName(v.Key()), v.ifname(), v.VRID, v.Version, v.Priority)
		fmt.Fprintf(&b, "    advert_interval: %v\n    preempt: %v\n", v.Interval, !v.NoPreempt)
		if v.PreemptDelay > 0 {
			fmt.Fprintf(&b, "    preempt_delay: %v\n", v.PreemptDelay)
		}
		// Accept_Mode on (VRRPv2 too), so the host's pings to the VIP
		// are answered by a non-owner master, as keepalived and FRR do.
		b.WriteString("    accept: true\n")
		if v.Version == 3 {
			if v.Family == IPv4 {
				form := "pseudo-header"
				if v.PlainChecksum {
					form = "plain"
				}
				fmt.Fprintf(&b, "    checksum: %s\n", form)
			}
			if v.V2Compat {
				b.WriteString("    v2_compat: true\n")
			}
		}
		fmt.Fprintf(&b, "    vmac: %v\n", v.VMAC)
		if v.BFDMaster != "" {
			fmt.Fprintf(&b, "    bfd_master: %s\n", v.BFDMaster)
		}
		if len(v.Unicast) > 0 {
			as := make([]string, len(v.Unicast))
			for i, a := range v.Unicast {
				as[i] = a.String()
			}
			fmt.Fprintf(&b, "    unicast_peers: [%s]\n", strings.Join(as, ", "))
		}
		if v.Source.IsValid() && len(v.Unicast) > 0 {
			fmt.Fprintf(&b, "    unicast_source: %v\n", v.Source)
		} else if v.Source.IsValid() {
			fmt.Fprintf(&b, "    multicast_source: %v\n", v.Source)
		}
		if v.AuthPass != "" {
			fmt.Fprintf(&b, "    auth: {type: pass, password: %q}\n", v.AuthPass)
		}
		as := make([]string, 0, len(v.VIPs)+1)
		for _, p := range v.addresses() {
			as = append(as, p.String())
		}
		fmt.Fprintf(&b, "    addresses: [%s]\n", strings.Join(as, ", "))
	}
	names, members := syncGroups(vrs)
	if len(names) > 0 {
		b.WriteString("sync_groups:\n")
	}
	for _, g := range names {
		rs := make([]string, len(members[g]))
		for i, v := range members[g] {
			rs[i] = routerName(v.Key())
		}
		fmt.Fprintf(&b, "  %s: {routers: [%s]}\n", g, strings.Join(rs, ", "))
	}
	return b.String()
}

func (g *Govrrp) writeConfig(t testing.TB) {
	t.Helper()
	if err := g.d.WriteConfig(g.body()); err != nil {
		t.Fatal(err)
	}
}

// Start implements Peer. An address owner (priority 255) gets its VIPs as
// real addresses of eth0 first, as govrrpd requires.
func (g *Govrrp) Start(t testing.TB) {
	t.Helper()
	if g.Running() {
		t.Fatalf("%s: already running", g.name)
	}
	for _, v := range g.VRs() {
		if v.Priority != 255 {
			continue
		}
		for _, p := range v.addresses() {
			args := []string{"addr", "replace", p.String(), "dev", "eth0"}
			if p.Addr().Is6() {
				args = append(args, "nodad")
			}
			g.node.MustIP(t, args...)
		}
	}
	g.d.StartT(t, g.body())
}

func (g *Govrrp) routers() ([]api.RouterStatus, error) {
	return g.d.Routers(context.Background())
}

// Detail is the daemon's full view of one VR (counters, discards,
// transitions).
func (g *Govrrp) Detail(k VRKey) (api.RouterDetail, error) {
	return g.d.Detail(g.routerName(k))
}

// Stop implements Peer: SIGTERM; a clean shutdown exits 0 (the race
// detector would make it 66).
func (g *Govrrp) Stop(t testing.TB) {
	t.Helper()
	if err := g.d.Stop(lab.StopTimeout); err != nil {
		t.Error(err)
	}
}

// Kill implements Peer: SIGKILL, no goodbye; the VIPs and VMAC devices stay.
func (g *Govrrp) Kill(t testing.TB) {
	t.Helper()
	if err := g.d.Kill(); err != nil {
		t.Fatal(err)
	}
}

// Proc is the running daemon's process (nil before Start), for tests that
// signal it or read its use of CPU and memory.
func (g *Govrrp) Proc() *lab.Proc { return g.d.Proc() }

// Daemon is the harness running the daemon.
func (g *Govrrp) Daemon() *govrrpd.Daemon { return g.d }

// ConfigPath is the file govrrpd reads (at Start and on SIGHUP).
func (g *Govrrp) ConfigPath() string { return g.d.Conf }

// LogPath is the file the daemon's output goes to.
func (g *Govrrp) LogPath() string { return g.d.Log }

// Client is the daemon's control API.
func (g *Govrrp) Client() *api.Client { return g.d.Client }

// Running implements Peer.
func (g *Govrrp) Running() bool { return g.d.Running() }

// State implements Peer.
func (g *Govrrp) State(k VRKey) (State, error) {
	if !g.Running() {
		return Unknown, fmt.Errorf("%s: not running", g.name)
	}
	rs, err := g.routers()
	if err != nil {
		return Unknown, err
	}
	for _, r := range rs {
		if r.VRID != k.VRID || r.Family != k.Family.String() {
			continue
		}
		switch r.State {
		case "Initialize":
			return Init, nil
		case "Backup":
			return Backup, nil
		case "Master":
			return Master, nil
		case "Fault":
			return Fault, nil
		}
		return Unknown, fmt.Errorf("%s: %v: state %q", g.name, k, r.State)
	}
	return Unknown, fmt.Errorf("%s: no %v", g.name, k)
}

// SetPriority implements Peer: rewrite the YAML, SIGHUP, and wait until the
// API reports the new priority in effect.
func (g *Govrrp) SetPriority(t testing.TB, vrid uint8, prio uint8) {
	t.Helper()
	keys := g.setPriority(vrid, prio)
	g.writeConfig(t)
	if err := g.d.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("%s: reload: %v", g.name, err)
	}
	for _, k := range keys {
		var got uint8
		if !lab.Poll(takeoverWait, 10*time.Millisecond, func() bool {
			d, err := g.Detail(k)
			got = d.EffectivePriority
			return err == nil && d.Priority == prio && d.EffectivePriority == prio
		}) {
			t.Fatalf("%s: %v: effective priority %d, want %d after reload:\n%s", g.name, k, got, prio, lab.Tail(g.Logs(), 20))
		}
	}
}

// takeoverWait bounds waits inside the peer (reload taking effect).
const takeoverWait = 5 * time.Second

// Source implements Peer: the VR's unicast_source when set, else eth0's
// IPv4 address; for IPv6 the link-local of
// eth0, or with a VMAC the macvlan's own random link-local (govrrpd sends
// from it so that two routers' adverts never share a source).
func (g *Govrrp) Source(k VRKey) (netip.Addr, error) {
	var v VR
	for _, x := range g.VRs() {
		if x.Key() == k {
			v = x
		}
	}
	if v.Source.IsValid() {
		return v.Source, nil
	}
	if k.Family == IPv4 {
		return g.node.V4.Addr(), nil
	}
	if v.VRID == 0 {
		return netip.Addr{}, fmt.Errorf("%s: no %v", g.name, k)
	}
	var dev netlink.Link
	var err error
	if v.VMAC {
		dev, err = g.vmacDevice(v)
	} else {
		dev, err = g.node.Handle.LinkByName("eth0")
	}
	if err != nil {
		return netip.Addr{}, err
	}
	return ownLinkLocal(g.node, dev, v.VRID)
}

// ownLinkLocal is dev's link-local address other than the virtual one of
// vrid, which the device also holds while Master.
func ownLinkLocal(nd *lab.Node, dev netlink.Link, vrid uint8) (netip.Addr, error) {
	addrs, err := nd.Handle.AddrList(dev, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if ok && ip.IsLinkLocalUnicast() && ip != virtualLinkLocal(vrid).Addr() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no link-local of its own on %s in %s", dev.Attrs().Name, nd.Name)
}

// vmacDevice finds the macvlan govrrpd made for v, by its MAC.
func (g *Govrrp) vmacDevice(v VR) (netlink.Link, error) {
	links, err := g.node.Handle.LinkList()
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if l.Type() == "macvlan" && l.Attrs().HardwareAddr.String() == vmac(v) {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%s: no VMAC device with %s", g.name, vmac(v))
}

// Logs implements Peer.
func (g *Govrrp) Logs() string { return g.d.Logs() }

// Dump implements Peer: per VR the daemon's detail (state, priorities,
// master, counters, discards, last transitions), then the addresses.
func (g *Govrrp) Dump() string {
	var b strings.Builder
	if g.Running() {
		for _, v := range g.VRs() {
			d, err := g.Detail(v.Key())
			if err != nil {
				fmt.Fprintf(&b, "%v: %v\n", v.Key(), err)
				continue
			}
			fmt.Fprintf(&b, "%s: %s prio %d/%d master %s (prio %d) adv %.0fms mdi %.0fms since %s\n",
				d.Name, d.State, d.Priority, d.EffectivePriority, d.Master, d.MasterPriority,
				d.AdvertIntervalMS, d.MasterDownMS, d.Since.Format("15:04:05.000"))
			c, _ := json.Marshal(d.Counters)
			ds, _ := json.Marshal(d.Discards)
			fmt.Fprintf(&b, "  counters %s\n  discards %s\n", c, ds)
			for _, e := range d.Transitions[max(0, len(d.Transitions)-5):] {
				fmt.Fprintf(&b, "  %s %s -> %s (%s, prio %d)\n", e.Time.Format("15:04:05.000"), e.From, e.To, e.Reason, e.Priority)
			}
		}
	}
	addrs, err := g.node.IP("-br", "addr")
	if err != nil {
		addrs = err.Error()
	}
	b.WriteString("addresses:\n" + indent(addrs, "  "))
	return b.String()
}
