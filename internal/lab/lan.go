// Package lab builds throw-away Ethernet LANs out of Linux network
// namespaces, for the tests that need the real kernel (internal/linux,
// test/e2e, test/interop, test/chaos, test/bench) and for `make demo`
// (internal/demo): one namespace holding a bridge and N node namespaces, each
// with a veth named eth0 plugged into the bridge, a second LAN on demand,
// processes started inside a node (Proc), traffic tools (Flood, Sniff,
// DropVRRP), and the clean-up of all of it.
//
// Everything it creates carries a per-process name prefix (Prefix, the pid,
// a sequence number: "gvlab1234-1-r1") and is removed when its owner ends:
// a test through t.Cleanup (NewLAN), the demo through a Cleanups it runs
// itself (Build). A test binary interrupted with SIGINT/SIGTERM removes its
// namespaces and kills its processes before it exits; as a last resort the
// next run removes what dead runs left (SweepStale).
//
// Network safety: the package only ever touches namespaces it created. Node i
// (1-based) gets 10.77.0.i/24 and fd77::i/64 on eth0, a host 10.77.0.100/24
// and fd77::100/64; users keep to 10.77.0.0/16, 10.78.0.0/16, fd77::/16 and
// link-local addresses.
package lab

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"govrrp/internal/nsrun"
	"govrrp/internal/testenv"
)

// Host addresses: the host a LAN gets from AddHost.
var (
	HostV4 = netip.MustParsePrefix("10.77.0.100/24")
	HostV6 = netip.MustParsePrefix("fd77::100/64")
)

// HostIndex is the host's index (bridge port "p100").
const HostIndex = 100

var lanSeq atomic.Uint32

// Cleaner is what the lab needs to undo what it builds: testing.TB has it,
// and so has Cleanups, for code that runs without a test.
type Cleaner interface {
	Cleanup(fn func())
}

// Cleanups collects undo steps, as t.Cleanup does in a test; Run runs them,
// the last registered first. The demo builds its LAN with one.
type Cleanups struct {
	mu  sync.Mutex
	fns []func()
}

// Cleanup registers fn.
func (c *Cleanups) Cleanup(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fns = append(c.fns, fn)
}

// Run runs the registered steps, last first, and forgets them.
func (c *Cleanups) Run() {
	c.mu.Lock()
	fns := c.fns
	c.fns = nil
	c.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Node is one network namespace of a LAN.
type Node struct {
	Name   string          // namespace name (ip netns), e.g. gvlab1234-1-r1
	Short  string          // the name without the LAN's base: r1, h, br
	NS     netns.NsHandle  // open handle, closed at cleanup
	Handle *netlink.Handle // netlink socket inside the namespace

	// Nodes on the bridge only:
	Index  int          // 1-based position on the LAN (HostIndex for the host)
	IfName string       // "eth0"
	Port   string       // the bridge-side veth in the bridge namespace
	V4     netip.Prefix // 10.77.0.Index/24
	V6     netip.Prefix // fd77::Index/64
}

// LAN is a bridge namespace plus node namespaces.
type LAN struct {
	Bridge *Node
	Nodes  []*Node // Nodes[0] is router 1
	c      Cleaner
	base   string
	kept   atomic.Bool
}

// NewLAN builds a LAN of n routers for a test, removed when it ends. It needs
// root and the ip tool; it fails the test when the kernel refuses. It also
// makes SIGINT/SIGTERM remove the namespaces (t.Cleanup does not run then).
func NewLAN(t testing.TB, n int) *LAN {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	installSignalCleanup()
	SweepStale()
	l, err := Build(t, n)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Build builds a LAN of n routers whose namespaces c removes: a bridge
// (multicast snooping off, so adverts to 224.0.0.18 and ff02::12 reach every
// port) and n routers with 10.77.0.i/24 and fd77::i/64 on eth0. IPv6 DAD is
// off in every namespace so addresses are usable at once, and each eth0 has
// its link-local address when Build returns. On error what was
// built is c's to remove.
func Build(c Cleaner, n int) (*LAN, error) {
	base := fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), lanSeq.Add(1))
	l := &LAN{c: c, base: base}
	var err error
	if l.Bridge, err = l.newNode(base + "-br"); err != nil {
		return nil, err
	}
	if err := l.Bridge.ipAll([][]string{
		{"link", "add", "br0", "type", "bridge", "mcast_snooping", "0"},
		{"link", "set", "br0", "up"},
	}); err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		nd, err := l.Attach(base+"-r"+strconv.Itoa(i), i, nodeV4(10, 77, i), nodeV6(i))
		if err != nil {
			return nil, err
		}
		l.Nodes = append(l.Nodes, nd)
	}
	return l, nil
}

func nodeV4(a, b byte, index int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{a, b, 0, byte(index)}), 24)
}

func nodeV6(index int) netip.Prefix {
	a16 := netip.MustParseAddr("fd77::").As16()
	a16[15] = byte(index)
	return netip.PrefixFrom(netip.AddrFrom16(a16), 64)
}

// AddNode adds one more router namespace, plugged into the bridge, with
// addresses 10.77.0.index/24 and fd77::index/64 on its eth0.
func (l *LAN) AddNode(t testing.TB, name string, index int) *Node {
	t.Helper()
	return l.AddNodeWith(t, name, index, nodeV4(10, 77, index), nodeV6(index))
}

// AddNodeWith is AddNode with explicit addresses for eth0. index names the
// bridge port ("p"+index) and must be unique.
func (l *LAN) AddNodeWith(t testing.TB, name string, index int, v4, v6 netip.Prefix) *Node {
	t.Helper()
	nd, err := l.Attach(name, index, v4, v6)
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

// AddHost adds the LAN's host: HostV4 and HostV6 on eth0, namespace Base()+"-h".
func (l *LAN) AddHost(t testing.TB) *Node {
	t.Helper()
	return l.AddNodeWith(t, l.base+"-h", HostIndex, HostV4, HostV6)
}

// Attach is AddNodeWith that returns its error (for code without a test).
func (l *LAN) Attach(name string, index int, v4, v6 netip.Prefix) (*Node, error) {
	nd, err := l.newNode(name)
	if err != nil {
		return nil, err
	}
	nd.Index, nd.IfName, nd.Port = index, "eth0", "p"+strconv.Itoa(index)
	nd.V4, nd.V6 = v4, v6
	// DAD off before the device appears: it inherits "default".
	for _, k := range []string{"all", "default"} {
		if err := nd.Sysctl("net/ipv6/conf/"+k+"/accept_dad", "0"); err != nil {
			return nil, err
		}
	}
	if err := l.Bridge.ipAll([][]string{
		{"link", "add", nd.Port, "type", "veth", "peer", "name", nd.IfName, "netns", nd.Name},
		{"link", "set", nd.Port, "master", "br0", "up"},
	}); err != nil {
		return nil, err
	}
	if err := nd.Sysctl("net/ipv6/conf/eth0/accept_dad", "0"); err != nil {
		return nil, err
	}
	if err := nd.ipAll([][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", nd.V4.String(), "dev", "eth0"},
		{"-6", "addr", "add", nd.V6.String(), "dev", "eth0", "nodad"},
		{"link", "set", "eth0", "up"},
	}); err != nil {
		return nd, err
	}
	// The kernel adds the link-local a moment after carrier comes up; IPv6
	// VRRP sends from it, so the node is not ready before it is there.
	_, err = nd.WaitLinkLocal("eth0", 3*time.Second)
	return nd, err
}

// Base is the unique name prefix of this LAN's namespaces ("gvlab<pid>-<n>");
// name extra namespaces or nodes Base()+"-suffix" so the interrupt handler
// and the stale sweep treat them like the LAN's own.
func (l *LAN) Base() string { return l.base }

// Names lists the LAN's namespaces, the bridge first.
func (l *LAN) Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var out []string
	for n := range registry {
		if strings.HasPrefix(n, l.base+"-") {
			out = append(out, n)
		}
	}
	return sortBridgeFirst(out, l.Bridge.Name)
}

// Keep makes the cleanup leave the namespaces up (the demo's --keep): it
// still closes the handles.
func (l *LAN) Keep() { l.kept.Store(true) }

// AddSecondLAN puts a second bridge, br1, in the bridge namespace (the
// first call) and gives each of nodes an eth1 on it with 10.78.0.Index/24;
// its bridge side is port "q"+Index (UnplugSecond). For routers on two
// LANs, such as the members of a sync group; called again, it plugs more
// nodes in (or one whose eth1 was deleted, as a new device). It goes with
// the namespaces.
func (l *LAN) AddSecondLAN(t testing.TB, nodes ...*Node) {
	t.Helper()
	if _, err := l.Bridge.Handle.LinkByName("br1"); err != nil {
		l.Bridge.MustIP(t, "link", "add", "br1", "type", "bridge", "mcast_snooping", "0")
		l.Bridge.MustIP(t, "link", "set", "br1", "up")
	}
	for _, nd := range nodes {
		port := "q" + strconv.Itoa(nd.Index)
		l.Bridge.MustIP(t, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", nd.Name)
		l.Bridge.MustIP(t, "link", "set", port, "master", "br1", "up")
		nd.MustSysctl(t, "net/ipv6/conf/eth1/accept_dad", "0")
		nd.MustIP(t, "addr", "add", nodeV4(10, 78, nd.Index).String(), "dev", "eth1")
		nd.MustIP(t, "link", "set", "eth1", "up")
	}
}

// UnplugSecond pulls nd's cable to the second LAN: its eth1 loses carrier.
// PlugSecond puts it back.
func (l *LAN) UnplugSecond(t testing.TB, nd *Node) {
	l.Bridge.MustIP(t, "link", "set", "q"+strconv.Itoa(nd.Index), "down")
}

// PlugSecond undoes UnplugSecond.
func (l *LAN) PlugSecond(t testing.TB, nd *Node) {
	l.Bridge.MustIP(t, "link", "set", "q"+strconv.Itoa(nd.Index), "up")
}

// Unplug pulls nd's cable: its bridge port goes down, so its eth0 loses
// carrier. Plug puts it back.
func (l *LAN) Unplug(t testing.TB, nd *Node) {
	t.Helper()
	if err := l.SetCable(nd, false); err != nil {
		t.Fatal(err)
	}
}

// Plug undoes Unplug.
func (l *LAN) Plug(t testing.TB, nd *Node) {
	t.Helper()
	if err := l.SetCable(nd, true); err != nil {
		t.Fatal(err)
	}
}

// SetCable is Unplug (in false) and Plug (in true) returning the error.
func (l *LAN) SetCable(nd *Node, in bool) error {
	state := "down"
	if in {
		state = "up"
	}
	_, err := l.Bridge.IP("link", "set", nd.Port, state)
	return err
}

func (l *LAN) newNode(name string) (*Node, error) {
	register(name, true)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		register(name, false)
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	nd := &Node{Name: name, Short: strings.TrimPrefix(name, l.base+"-")}
	l.c.Cleanup(func() {
		if nd.Handle != nil {
			nd.Handle.Close()
		}
		if nd.NS.IsOpen() {
			nd.NS.Close()
		}
		if l.kept.Load() {
			register(name, false)
			return
		}
		// Processes still inside would outlive the namespace; their
		// owners stop them gracefully before.
		KillNSProcesses(name, 0)
		deleteNS(name)
	})
	ns, err := netns.GetFromName(name)
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", name, err)
	}
	nd.NS = ns
	if nd.Handle, err = netlink.NewHandleAt(ns); err != nil {
		return nil, fmt.Errorf("netlink handle in %s: %w", name, err)
	}
	return nd, nil
}

// Do runs fn on an OS thread switched into the node's namespace (see nsrun.Run).
func (nd *Node) Do(fn func() error) error { return nsrun.Run(nd.NS, fn) }

// MustDo is Do that fails the test on error.
func (nd *Node) MustDo(t testing.TB, fn func() error) {
	t.Helper()
	if err := nd.Do(fn); err != nil {
		t.Fatalf("in %s: %v", nd.Name, err)
	}
}

// Sysctl writes a sysctl of the node's namespace; key is the path under
// /proc/sys, e.g. "net/ipv4/conf/eth0/arp_ignore".
func (nd *Node) Sysctl(key, value string) error {
	err := nd.Do(func() error {
		return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644)
	})
	if err != nil {
		return fmt.Errorf("sysctl %s=%s in %s: %w", key, value, nd.Name, err)
	}
	return nil
}

// ReadSysctl reads a sysctl of the node's namespace.
func (nd *Node) ReadSysctl(key string) (string, error) {
	var v []byte
	err := nd.Do(func() (err error) {
		v, err = os.ReadFile(filepath.Join("/proc/sys", key))
		return err
	})
	return strings.TrimSpace(string(v)), err
}

// MustSysctl is Sysctl that fails the test on error.
func (nd *Node) MustSysctl(t testing.TB, key, value string) {
	t.Helper()
	if err := nd.Sysctl(key, value); err != nil {
		t.Fatal(err)
	}
}

// IP runs `ip -n NAME args...` and returns its combined output.
func (nd *Node) IP(args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", nd.Name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip -n %s %s: %v: %s", nd.Name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

func (nd *Node) ipAll(cmds [][]string) error {
	for _, args := range cmds {
		if _, err := nd.IP(args...); err != nil {
			return err
		}
	}
	return nil
}

// MustIP is IP that fails the test on error.
func (nd *Node) MustIP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := nd.IP(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Interface returns the node's view of interface name.
func (nd *Node) Interface(name string) (*net.Interface, error) {
	l, err := nd.Handle.LinkByName(name)
	if err != nil {
		return nil, err
	}
	a := l.Attrs()
	return &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}, nil
}

// LinkLocal returns the (first) IPv6 link-local address of interface name.
func (nd *Node) LinkLocal(name string) (netip.Addr, error) {
	l, err := nd.Handle.LinkByName(name)
	if err != nil {
		return netip.Addr{}, err
	}
	addrs, err := nd.Handle.AddrList(l, netlink.FAMILY_V6)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no link-local on %s in %s", name, nd.Name)
}

// WaitLinkLocal is LinkLocal waiting up to within for the kernel to assign
// the address (it comes shortly after the link goes up).
func (nd *Node) WaitLinkLocal(name string, within time.Duration) (netip.Addr, error) {
	deadline := time.Now().Add(within)
	for {
		a, err := nd.LinkLocal(name)
		if err == nil || time.Now().After(deadline) {
			return a, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Neighbour returns the link-layer address the node's neighbour table holds
// for ip ("" when none or not valid).
func (nd *Node) Neighbour(ip netip.Addr) string {
	fam := netlink.FAMILY_V4
	if ip.Is6() {
		fam = netlink.FAMILY_V6
	}
	ns, err := nd.Handle.NeighList(0, fam)
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
