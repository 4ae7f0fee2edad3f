// Package netnstest builds throw-away Ethernet LANs out of Linux network
// namespaces for tests that need the real kernel: one namespace holding a
// bridge and N "router" namespaces, each with a veth named eth0 plugged into
// the bridge. Everything it creates carries a per-process name prefix and is
// removed when the test ends (t.Cleanup), when the test binary is interrupted
// (SIGINT/SIGTERM), and, as a last resort, by the next run, which deletes the
// namespaces of dead processes and kills what still runs inside them.
//
// Network safety: the helper only ever touches namespaces it created. Node i
// (1-based) gets 10.77.0.i/24 and fd77::i/64 on eth0; tests should keep to
// 10.77.0.0/16, 10.78.0.0/16, fd77::/16 and link-local addresses.
package netnstest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"govrrp/internal/nsrun"
	"govrrp/internal/testenv"
)

// Prefix starts the name of every namespace this package creates; the pid
// follows, so concurrent test binaries never collide.
const Prefix = "gvt"

var (
	lanSeq   atomic.Uint32
	regMu    sync.Mutex
	registry = map[string]bool{} // live namespaces, for the signal handler
	sigOnce  sync.Once
	hooks    = map[uint64]func(){} // OnInterrupt callbacks, under regMu
	hookSeq  uint64
)

// OnInterrupt registers fn to run when the test binary is interrupted
// (SIGINT/SIGTERM), before the namespaces are removed: t.Cleanup does not run
// then, so tests that start processes inside namespaces register their
// killing here. The returned function unregisters fn; call it once the
// processes are gone.
func OnInterrupt(fn func()) (remove func()) {
	installSignalCleanup()
	regMu.Lock()
	defer regMu.Unlock()
	hookSeq++
	id := hookSeq
	hooks[id] = fn
	return func() {
		regMu.Lock()
		defer regMu.Unlock()
		delete(hooks, id)
	}
}

// Node is one network namespace of a LAN.
type Node struct {
	Name   string          // namespace name (ip netns)
	NS     netns.NsHandle  // open handle, closed at cleanup
	Handle *netlink.Handle // netlink socket inside the namespace

	// Router nodes only:
	Index  int          // 1-based position on the LAN
	IfName string       // "eth0"
	Port   string       // the bridge-side veth in the bridge namespace
	V4     netip.Prefix // 10.77.0.Index/24
	V6     netip.Prefix // fd77::Index/64
}

// LAN is a bridge namespace plus router namespaces.
type LAN struct {
	Bridge *Node
	Nodes  []*Node // Nodes[0] is router 1
	t      testing.TB
	base   string
}

// NewLAN builds a LAN of n routers. It needs root and the ip tool; it fails
// the test when the kernel refuses.
func NewLAN(t testing.TB, n int) *LAN {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	installSignalCleanup()
	sweepStale()
	base := fmt.Sprintf("%s%d-%d", Prefix, os.Getpid(), lanSeq.Add(1))
	lan := &LAN{t: t, base: base}
	lan.Bridge = newNode(t, base+"-br")
	lan.Bridge.mustIP(t, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	lan.Bridge.mustIP(t, "link", "set", "br0", "up")
	for i := 1; i <= n; i++ {
		lan.Nodes = append(lan.Nodes, lan.AddNode(t, base+"-r"+strconv.Itoa(i), i))
	}
	return lan
}

// AddNode adds one more router namespace, plugged into the bridge, with
// addresses 10.77.0.index/24 and fd77::index/64 on its eth0.
func (l *LAN) AddNode(t testing.TB, name string, index int) *Node {
	t.Helper()
	a16 := netip.MustParseAddr("fd77::").As16()
	a16[15] = byte(index)
	return l.AddNodeWith(t, name, index,
		netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 0, byte(index)}), 24),
		netip.PrefixFrom(netip.AddrFrom16(a16), 64))
}

// AddNodeWith is AddNode with explicit addresses for eth0 (a host on the LAN,
// say). index names the bridge port ("p"+index) and must be unique.
func (l *LAN) AddNodeWith(t testing.TB, name string, index int, v4, v6 netip.Prefix) *Node {
	t.Helper()
	nd := newNode(t, name)
	nd.Index, nd.IfName, nd.Port = index, "eth0", "p"+strconv.Itoa(index)
	nd.V4, nd.V6 = v4, v6
	// DAD off before the device appears: it inherits "default".
	for _, k := range []string{"all", "default"} {
		nd.MustSysctl(t, "net/ipv6/conf/"+k+"/accept_dad", "0")
	}
	l.Bridge.mustIP(t, "link", "add", nd.Port, "type", "veth", "peer", "name", nd.IfName, "netns", nd.Name)
	l.Bridge.mustIP(t, "link", "set", nd.Port, "master", "br0", "up")
	nd.MustSysctl(t, "net/ipv6/conf/eth0/accept_dad", "0")
	nd.mustIP(t, "link", "set", "lo", "up")
	nd.mustIP(t, "addr", "add", nd.V4.String(), "dev", "eth0")
	nd.mustIP(t, "-6", "addr", "add", nd.V6.String(), "dev", "eth0", "nodad")
	nd.mustIP(t, "link", "set", "eth0", "up")
	return nd
}

// Base is the unique name prefix of this LAN's namespaces ("gvt<pid>-<n>");
// name extra namespaces or nodes Base()+"-suffix" so the interrupt handler
// and the stale sweep treat them like the LAN's own.
func (l *LAN) Base() string { return l.base }

// AddSecondLAN puts a second bridge, br1, in the bridge namespace and
// gives each of nodes an eth1 on it with 10.78.0.Index/24; its bridge side
// is port "q"+Index (UnplugSecond). For routers on two LANs, such as the
// members of a sync group. It goes with the namespaces.
func (l *LAN) AddSecondLAN(t testing.TB, nodes ...*Node) {
	t.Helper()
	l.Bridge.mustIP(t, "link", "add", "br1", "type", "bridge", "mcast_snooping", "0")
	l.Bridge.mustIP(t, "link", "set", "br1", "up")
	for _, nd := range nodes {
		port := "q" + strconv.Itoa(nd.Index)
		l.Bridge.mustIP(t, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", nd.Name)
		l.Bridge.mustIP(t, "link", "set", port, "master", "br1", "up")
		nd.MustSysctl(t, "net/ipv6/conf/eth1/accept_dad", "0")
		nd.mustIP(t, "addr", "add", netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 78, 0, byte(nd.Index)}), 24).String(), "dev", "eth1")
		nd.mustIP(t, "link", "set", "eth1", "up")
	}
}

// UnplugSecond pulls nd's cable to the second LAN: its eth1 loses carrier.
// PlugSecond puts it back.
func (l *LAN) UnplugSecond(t testing.TB, nd *Node) {
	l.Bridge.mustIP(t, "link", "set", "q"+strconv.Itoa(nd.Index), "down")
}

// PlugSecond undoes UnplugSecond.
func (l *LAN) PlugSecond(t testing.TB, nd *Node) {
	l.Bridge.mustIP(t, "link", "set", "q"+strconv.Itoa(nd.Index), "up")
}

// Unplug pulls router i's cable: its bridge port goes down, so its eth0
// loses carrier. Plug puts it back.
func (l *LAN) Unplug(t testing.TB, nd *Node) { l.Bridge.mustIP(t, "link", "set", nd.Port, "down") }

// Plug undoes Unplug.
func (l *LAN) Plug(t testing.TB, nd *Node) { l.Bridge.mustIP(t, "link", "set", nd.Port, "up") }

func newNode(t testing.TB, name string) *Node {
	t.Helper()
	register(name, true)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		register(name, false)
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	nd := &Node{Name: name}
	t.Cleanup(func() {
		if nd.Handle != nil {
			nd.Handle.Close()
		}
		if nd.NS.IsOpen() {
			nd.NS.Close()
		}
		deleteNS(name)
	})
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open namespace %s: %v", name, err)
	}
	nd.NS = ns
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", name, err)
	}
	nd.Handle = h
	return nd
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
	return nd.Do(func() error {
		return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0o644)
	})
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
		t.Fatalf("sysctl %s=%s in %s: %v", key, value, nd.Name, err)
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

func (nd *Node) mustIP(t testing.TB, args ...string) string {
	t.Helper()
	out, err := nd.IP(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// MustIP is IP that fails the test on error.
func (nd *Node) MustIP(t testing.TB, args ...string) string {
	t.Helper()
	return nd.mustIP(t, args...)
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

func register(name string, live bool) {
	regMu.Lock()
	defer regMu.Unlock()
	if live {
		registry[name] = true
	} else {
		delete(registry, name)
	}
}

func deleteNS(name string) {
	// Deleting the namespace destroys its veths (and their peers) and
	// bridges; processes started in it are the caller's to stop.
	_ = exec.Command("ip", "netns", "del", name).Run()
	register(name, false)
}

// installSignalCleanup removes every live namespace when the test binary is
// interrupted; t.Cleanup does not run then.
func installSignalCleanup() {
	sigOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			s := <-c
			regMu.Lock()
			names := make([]string, 0, len(registry))
			for n := range registry {
				names = append(names, n)
			}
			fns := make([]func(), 0, len(hooks))
			for _, fn := range hooks {
				fns = append(fns, fn)
			}
			regMu.Unlock()
			for _, fn := range fns {
				fn()
			}
			for _, n := range names {
				deleteNS(n)
			}
			fmt.Fprintf(os.Stderr, "netnstest: %v: removed %d namespaces\n", s, len(names))
			os.Exit(1)
		}()
	})
}

// killNSProcesses SIGKILLs the processes still running in a stale namespace
// (daemons a killed test binary had started there), which would otherwise
// outlive it.
func killNSProcesses(name string) {
	out, err := exec.Command("ip", "netns", "pids", name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// sweepStale deletes namespaces left by test binaries that died without
// cleaning up (SIGKILL): names are Prefix+pid+"-", and the pid is dead.
func sweepStale() {
	ents, err := os.ReadDir("/var/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		pidStr, _, ok := strings.Cut(strings.TrimPrefix(name, Prefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			killNSProcesses(name)
			deleteNS(name)
		}
	}
}
