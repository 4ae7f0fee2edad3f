package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"govrrp/internal/nsrun"
)

// Prefix starts the name of every namespace and temporary directory a lab
// creates; the pid of the govrrp-lab process follows ("gvlab1234-r1"), so
// concurrent labs never collide and leftovers of dead runs are recognisable.
const Prefix = "gvlab"

// keptMarker, a file in a lab's directory, says the lab was kept on purpose
// (--keep): the sweep of dead runs leaves it alone, --clean removes it.
const keptMarker = "KEPT"

// Node is one network namespace of the lab.
type Node struct {
	Name      string           // namespace name, e.g. gvlab1234-r1
	Short     string           // r1, r2, r3, host
	Port      string           // its veth's name on the bridge side
	V4, V6    netip.Prefix     // addresses of eth0
	MAC       net.HardwareAddr // of eth0
	LinkLocal netip.Addr       // of eth0
	ns        netns.NsHandle
	nl        *netlink.Handle
}

// Network is the lab's LAN: a bridge namespace, routers and one host.
type Network struct {
	Base    string // gvlab<pid>
	Dir     string // configurations, control sockets, logs
	Bridge  *Node
	Routers []*Node
	Host    *Node
	nodes   []*Node // every namespace created, bridge first
}

// BuildNetwork creates the namespaces: a bridge (multicast snooping off, so
// adverts to 224.0.0.18 and ff02::12 reach every port), n routers with
// 10.77.0.i/24 and fd77::i/64, and a host with 10.77.0.100/24 and
// fd77::100/64, each plugged into the bridge by a veth named eth0. IPv6 DAD
// is off in every namespace so addresses are usable at once. On error
// everything created so far is removed.
func BuildNetwork(base, dir string, n int) (nw *Network, err error) {
	nw = &Network{Base: base, Dir: dir}
	defer func() {
		if err != nil {
			nw.Destroy()
			nw = nil
		}
	}()
	if nw.Bridge, err = nw.newNode("br"); err != nil {
		return nil, err
	}
	if err := nw.Bridge.ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0"); err != nil {
		return nil, err
	}
	if err := nw.Bridge.ip("link", "set", "br0", "up"); err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		nd, err := nw.plug(fmt.Sprintf("r%d", i),
			netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 0, byte(i)}), 24),
			netip.MustParsePrefix(fmt.Sprintf("fd77::%d/64", i)))
		if err != nil {
			return nil, err
		}
		nw.Routers = append(nw.Routers, nd)
	}
	nw.Host, err = nw.plug("host", netip.MustParsePrefix("10.77.0.100/24"), netip.MustParsePrefix("fd77::100/64"))
	if err != nil {
		return nil, err
	}
	for _, nd := range append([]*Node{nw.Host}, nw.Routers...) {
		if err := nd.learn(); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

func (nw *Network) newNode(short string) (*Node, error) {
	nd := &Node{Name: nw.Base + "-" + short, Short: short}
	if out, err := exec.Command("ip", "netns", "add", nd.Name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", nd.Name, err, bytes.TrimSpace(out))
	}
	nw.nodes = append(nw.nodes, nd)
	var err error
	if nd.ns, err = netns.GetFromName(nd.Name); err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", nd.Name, err)
	}
	if nd.nl, err = netlink.NewHandleAt(nd.ns); err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", nd.Name, err)
	}
	return nd, nil
}

// plug creates a namespace with eth0 on the bridge (bridge-side port named
// after the node) and the given addresses.
func (nw *Network) plug(short string, v4, v6 netip.Prefix) (*Node, error) {
	nd, err := nw.newNode(short)
	if err != nil {
		return nil, err
	}
	nd.Port, nd.V4, nd.V6 = short, v4, v6
	// DAD off before eth0 appears: it inherits "default".
	for _, k := range []string{"all", "default"} {
		if err := nd.sysctl("net/ipv6/conf/"+k+"/accept_dad", "0"); err != nil {
			return nil, err
		}
	}
	steps := []struct {
		on   *Node
		args []string
	}{
		{nw.Bridge, []string{"link", "add", nd.Port, "type", "veth", "peer", "name", "eth0", "netns", nd.Name}},
		{nw.Bridge, []string{"link", "set", nd.Port, "master", "br0", "up"}},
		{nd, []string{"link", "set", "lo", "up"}},
		{nd, []string{"addr", "add", v4.String(), "dev", "eth0"}},
		{nd, []string{"-6", "addr", "add", v6.String(), "dev", "eth0", "nodad"}},
		{nd, []string{"link", "set", "eth0", "up"}},
	}
	for _, s := range steps {
		if err := s.on.ip(s.args...); err != nil {
			return nil, err
		}
	}
	return nd, nil
}

// learn reads eth0's MAC and link-local address (the source of IPv6
// adverts), waiting briefly for the kernel to assign the latter.
func (nd *Node) learn() error {
	deadline := time.Now().Add(3 * time.Second)
	for {
		l, err := nd.nl.LinkByName("eth0")
		if err != nil {
			return fmt.Errorf("eth0 in %s: %w", nd.Name, err)
		}
		nd.MAC = l.Attrs().HardwareAddr
		addrs, err := nd.nl.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return fmt.Errorf("addresses of eth0 in %s: %w", nd.Name, err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() {
				nd.LinkLocal = ip
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("eth0 in %s has no IPv6 link-local address after 3s", nd.Name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Unplug pulls the node's cable: its port on the bridge goes down, so its
// eth0 loses carrier.
func (nw *Network) Unplug(nd *Node) error { return nw.Bridge.ip("link", "set", nd.Port, "down") }

// Plug puts the cable back.
func (nw *Network) Plug(nd *Node) error { return nw.Bridge.ip("link", "set", nd.Port, "up") }

// Names lists the namespaces of the lab.
func (nw *Network) Names() []string {
	out := make([]string, 0, len(nw.nodes))
	for _, nd := range nw.nodes {
		out = append(out, nd.Name)
	}
	return out
}

// Release closes the lab's handles without removing anything (--keep).
func (nw *Network) Release() {
	for _, nd := range nw.nodes {
		nd.close()
	}
}

// Destroy removes the namespaces (and with them every veth and the bridge).
// Processes still inside are killed first; callers stop their daemons
// gracefully before.
func (nw *Network) Destroy() {
	for i := len(nw.nodes) - 1; i >= 0; i-- {
		nd := nw.nodes[i]
		nd.close()
		killNSProcesses(nd.Name, 0)
		_ = exec.Command("ip", "netns", "del", nd.Name).Run()
	}
	nw.nodes = nil
}

func (nd *Node) close() {
	if nd.nl != nil {
		nd.nl.Close()
		nd.nl = nil
	}
	if nd.ns.IsOpen() {
		nd.ns.Close()
	}
}

// neighbour returns the link-layer address the node's neighbour table holds
// for ip ("" when none or not valid).
func (nd *Node) neighbour(ip netip.Addr) string {
	if nd.nl == nil {
		return ""
	}
	fam := netlink.FAMILY_V4
	if ip.Is6() {
		fam = netlink.FAMILY_V6
	}
	ns, err := nd.nl.NeighList(0, fam)
	if err != nil {
		return ""
	}
	for _, n := range ns {
		a, ok := netip.AddrFromSlice(n.IP)
		if !ok || a.Unmap() != ip || n.HardwareAddr == nil {
			continue
		}
		if n.State&(netlink.NUD_FAILED|netlink.NUD_INCOMPLETE|netlink.NUD_NOARP) != 0 {
			continue
		}
		return n.HardwareAddr.String()
	}
	return ""
}

func (nd *Node) ip(args ...string) error {
	out, err := exec.Command("ip", append([]string{"-n", nd.Name}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -n %s %s: %v: %s", nd.Name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (nd *Node) sysctl(key, value string) error {
	return nd.do(func() error {
		return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644)
	})
}

// do runs fn on an OS thread switched into the node's namespace.
func (nd *Node) do(fn func() error) error { return nsrun.Run(nd.ns, fn) }

// killNSProcesses signals every process inside namespace name with SIGTERM,
// waits up to grace for them to exit, then SIGKILLs what remains.
func killNSProcesses(name string, grace time.Duration) {
	pids := func() []int {
		out, err := exec.Command("ip", "netns", "pids", name).Output()
		if err != nil {
			return nil
		}
		var ps []int
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				ps = append(ps, pid)
			}
		}
		return ps
	}
	ps := pids()
	if len(ps) == 0 {
		return
	}
	if grace > 0 {
		for _, p := range ps {
			_ = syscall.Kill(p, syscall.SIGTERM)
		}
		for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ps = pids(); len(ps) == 0 {
				return
			}
		}
	}
	for _, p := range ps {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// LabInfo describes a lab found on the machine.
type LabInfo struct {
	Base       string   // gvlab<pid>
	PID        int      // of the govrrp-lab run that made it
	Namespaces []string // its namespaces
	Dirs       []string // its directories under the temp dir
	Kept       bool     // left up on purpose with --keep
	Running    bool     // the govrrp-lab process still runs
}

// parseBase splits "gvlab1234-r1" into its lab base "gvlab1234" and pid.
func parseBase(name string) (base string, pid int, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found {
		return "", 0, false
	}
	digits, _, found := strings.Cut(rest, "-")
	if !found || digits == "" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return "", 0, false
	}
	return Prefix + digits, pid, true
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// FindLabs lists the labs on the machine: namespaces and temporary
// directories named Prefix<pid>-..., grouped by run.
func FindLabs() []LabInfo {
	byBase := map[string]*LabInfo{}
	get := func(base string, pid int) *LabInfo {
		if li, ok := byBase[base]; ok {
			return li
		}
		li := &LabInfo{Base: base, PID: pid, Running: pid != os.Getpid() && processAlive(pid)}
		byBase[base] = li
		return li
	}
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			if base, pid, ok := parseBase(e.Name()); ok {
				li := get(base, pid)
				li.Namespaces = append(li.Namespaces, e.Name())
			}
		}
	}
	if dirs, err := filepath.Glob(filepath.Join(os.TempDir(), Prefix+"*-*")); err == nil {
		for _, d := range dirs {
			if base, pid, ok := parseBase(filepath.Base(d)); ok {
				li := get(base, pid)
				li.Dirs = append(li.Dirs, d)
				if _, err := os.Stat(filepath.Join(d, keptMarker)); err == nil {
					li.Kept = true
				}
			}
		}
	}
	out := make([]LabInfo, 0, len(byBase))
	for _, li := range byBase {
		out = append(out, *li)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Base < out[j].Base })
	return out
}

// RemoveLab stops what runs in the lab's namespaces (SIGTERM, then SIGKILL
// after grace), deletes the namespaces and its directories.
func RemoveLab(li LabInfo, grace time.Duration) {
	for _, n := range li.Namespaces {
		killNSProcesses(n, grace)
	}
	for _, n := range li.Namespaces {
		_ = exec.Command("ip", "netns", "del", n).Run()
	}
	for _, d := range li.Dirs {
		_ = os.RemoveAll(d)
	}
}

// SweepStale removes the leftovers of earlier runs that died without
// cleaning up (killed with SIGKILL, say): labs whose process is gone and
// that were not kept on purpose. It returns what it removed.
func SweepStale() []LabInfo {
	var removed []LabInfo
	for _, li := range FindLabs() {
		if li.Running || li.Kept || li.PID == os.Getpid() {
			continue
		}
		RemoveLab(li, time.Second)
		removed = append(removed, li)
	}
	return removed
}

// Clean removes every lab that is kept or whose run is gone; labs of demos
// still running are left alone.
func Clean() (removed []LabInfo) {
	for _, li := range FindLabs() {
		if li.PID == os.Getpid() || (li.Running && !li.Kept) {
			continue
		}
		RemoveLab(li, 2*time.Second)
		removed = append(removed, li)
	}
	return removed
}
