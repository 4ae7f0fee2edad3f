package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"

	"govrrp/internal/lab"
)

// Family is the address family of a virtual router: the codec's.
type Family = vrrp.Family

// Address families.
const (
	IPv4 = vrrp.IPv4
	IPv6 = vrrp.IPv6
)

// State is what a peer says one of its virtual routers is doing.
type State int

// States, numbered as fsm's. Unknown also covers "not running" and "cannot
// tell".
const (
	Unknown State = iota
	Init          // configured but not started (FRR's Initialize)
	Backup  = State(fsm.Backup)
	Master  = State(fsm.Master)
	Fault   = State(fsm.Fault)
)

func (s State) String() string {
	switch s {
	case Unknown:
		return "Unknown"
	case Init:
		return "Init"
	}
	return fsm.State(s).String()
}

// VRKey names one virtual router of a peer: a VRID in one address family.
type VRKey struct {
	VRID   uint8
	Family Family
}

func (k VRKey) String() string { return fmt.Sprintf("vrid %d/%v", k.VRID, k.Family) }

// VR describes one virtual router in implementation-neutral terms; each Peer
// turns it into its own configuration and refuses what it cannot do.
type VR struct {
	// Name is the VR's name in the peer's configuration when the test
	// brings its own (a keepalived.conf run unchanged, or its import):
	// keepalived's vrrp_instance, govrrp's router; "" is the harness's.
	Name     string
	VRID     uint8
	Version  int    // 2 or 3
	Family   Family // IPv4 or IPv6 (v2 is IPv4 only)
	Priority uint8  // 1..254; 255 = address owner (keepalived, govrrp)
	// Interval is the advertisement interval: v3 in 10 ms steps, v2 whole
	// seconds.
	Interval time.Duration
	VIPs     []netip.Prefix // the virtual addresses, with the LAN's prefix length
	AuthPass string         // VRRPv2 simple password (keepalived, govrrp)
	Unicast  []netip.Addr   // unicast peers (keepalived, govrrp)
	// Source is the source of the adverts: with Unicast keepalived's
	// unicast_src_ip and govrrp's unicast_source, without it keepalived's
	// mcast_src_ip and govrrp's multicast_source; zero: the interface's.
	Source netip.Addr
	// NoLinkLocal: an IPv6 VR's list is VIPs as they are, without the
	// virtual link-local first (keepalived accepts such a list; govrrp
	// warns outside strict).
	NoLinkLocal bool
	// CheckUnicastSrc: keepalived drops unicast adverts from an address
	// not in Unicast (check_unicast_src; keepalived only).
	CheckUnicastSrc bool
	VMAC            bool // keepalived use_vmac, govrrp vmac; FRR always uses a VMAC
	// NoPreempt turns Preempt_Mode off (the RFC default is on).
	NoPreempt bool
	// PreemptDelay holds off preemption for this long after first hearing
	// a lower-priority master (keepalived preempt_delay, govrrp
	// preempt_delay; FRR has none).
	PreemptDelay time.Duration
	// PlainChecksum sends VRRPv3 IPv4 adverts with the RFC 9568 checksum
	// (message only) instead of the pseudo-header form (govrrp only:
	// keepalived 2.2.7 and FRR 8.4 have no such setting).
	PlainChecksum bool
	// V2Compat is the VRRPv2/v3 interoperation mode of RFC 5798 §8.4
	// (govrrp v2_compat): a VRRPv3 IPv4 VR, whole-second interval, that
	// also sends and hears VRRPv2 (govrrp only).
	V2Compat bool
	// Interface is where the VR runs; "" is eth0 (eth1 is the second LAN:
	// lab.LAN.AddSecondLAN).
	Interface string
	// SyncGroup names a sync group: a peer's VRs with the same name form
	// one (keepalived vrrp_sync_group, govrrp sync_groups).
	SyncGroup string
	// BFDMaster is govrrp's routers[].bfd_master as a YAML flow mapping
	// ("" none; govrrp only): Master–Backup BFD.
	BFDMaster string
}

// ifname is the interface the VR runs on.
func (v VR) ifname() string {
	if v.Interface == "" {
		return "eth0"
	}
	return v.Interface
}

// syncGroups lists the sync groups of vrs with their members, in order.
func syncGroups(vrs []VR) (names []string, members map[string][]VR) {
	members = map[string][]VR{}
	for _, v := range vrs {
		if v.SyncGroup == "" {
			continue
		}
		if members[v.SyncGroup] == nil {
			names = append(names, v.SyncGroup)
		}
		members[v.SyncGroup] = append(members[v.SyncGroup], v)
	}
	return names, members
}

// Key returns the VR's key.
func (v VR) Key() VRKey { return VRKey{v.VRID, v.Family} }

// MasterDown is the Master_Down_Interval of a backup of priority prio listening to a master
// advertising every v.Interval (RFC 5798 §6.1; v2: RFC 3768, skew in whole
// seconds' fractions independent of the interval).
func (v VR) MasterDown(prio uint8) time.Duration {
	if v.Version == 2 {
		return 3*v.Interval + time.Duration(256-int(prio))*time.Second/256
	}
	return 3*v.Interval + time.Duration(256-int(prio))*v.Interval/256
}

func (v VR) check() error {
	switch {
	case v.VRID == 0:
		return fmt.Errorf("VR: VRID 0")
	case v.Version != 2 && v.Version != 3:
		return fmt.Errorf("VR %d: version %d", v.VRID, v.Version)
	case v.Family != IPv4 && v.Family != IPv6:
		return fmt.Errorf("VR %d: family %v", v.VRID, v.Family)
	case v.Version == 2 && v.Family == IPv6:
		return fmt.Errorf("VR %d: VRRPv2 is IPv4 only", v.VRID)
	case v.Priority == 0:
		return fmt.Errorf("VR %d: priority 0", v.VRID)
	case len(v.VIPs) == 0:
		return fmt.Errorf("VR %d: no VIPs", v.VRID)
	case v.Interval <= 0:
		return fmt.Errorf("VR %d: interval %v", v.VRID, v.Interval)
	case v.Version == 3 && v.Interval%(10*time.Millisecond) != 0:
		return fmt.Errorf("VR %d: v3 interval %v is not a multiple of 10ms", v.VRID, v.Interval)
	case v.Version == 2 && v.Interval%time.Second != 0:
		return fmt.Errorf("VR %d: v2 interval %v is not whole seconds", v.VRID, v.Interval)
	case v.PlainChecksum && (v.Version != 3 || v.Family != IPv4):
		return fmt.Errorf("VR %d: the plain checksum form is a VRRPv3 IPv4 setting", v.VRID)
	case v.V2Compat && (v.Version != 3 || v.Family != IPv4 || v.Interval%time.Second != 0):
		return fmt.Errorf("VR %d: the v2/v3 interoperation mode is a VRRPv3 IPv4 setting with whole seconds", v.VRID)
	}
	for _, p := range v.VIPs {
		if (p.Addr().Is4() && v.Family != IPv4) || (p.Addr().Is6() && v.Family != IPv6) {
			return fmt.Errorf("VR %d: VIP %v is not %v", v.VRID, p, v.Family)
		}
	}
	return nil
}

// Peer is one VRRP implementation running in one router namespace.
//
// Methods taking a testing.TB fail the test when the implementation cannot do
// what was asked; State reports instead of failing so that waits can poll it.
// Start may be called again after Stop or Kill.
type Peer interface {
	// Name is a short label for reports ("r1/keepalived").
	Name() string
	// Node is the router namespace the peer runs in.
	Node() *lab.Node
	// VRs is the current configuration (SetPriority updates it).
	VRs() []VR
	// Start writes the configuration and starts the daemon(s); it returns
	// once they run (not once they have elected anything). The processes
	// are killed in t.Cleanup and on interrupt.
	Start(t testing.TB)
	// Stop sends SIGTERM and waits for the exit (a clean shutdown: a master
	// sends priority 0), falling back to SIGKILL after a deadline.
	Stop(t testing.TB)
	// Kill sends SIGKILL to every process of the peer and waits: no
	// goodbye; addresses and VMAC devices stay behind.
	Kill(t testing.TB)
	// Running reports whether the daemon processes are alive.
	Running() bool
	// State is what the peer says about one of its virtual routers.
	State(k VRKey) (State, error)
	// SetPriority changes the priority of every VR with this VRID, in the
	// running daemon (a reload or a command) and in VRs.
	SetPriority(t testing.TB, vrid uint8, prio uint8)
	// Source is the IP source address of the peer's adverts for k.
	Source(k VRKey) (netip.Addr, error)
	// Logs is everything the peer has logged so far.
	Logs() string
	// Dump is the peer's own view, for failure reports (status output,
	// addresses on its interfaces).
	Dump() string
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return prefix + "(empty)"
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// checkVRs fails the test for a VR that is invalid, given twice, or that
// impl refuses (refuse says why, "" when it can run the VR).
func checkVRs(t testing.TB, impl string, vrs []VR, refuse func(VR) string) {
	t.Helper()
	seen := map[VRKey]bool{}
	for _, v := range vrs {
		if err := v.check(); err != nil {
			t.Fatal(err)
		}
		if seen[v.Key()] {
			t.Fatalf("%s: %v twice", impl, v.Key())
		}
		seen[v.Key()] = true
		if why := refuse(v); why != "" {
			t.Fatalf("%s: VR %d: %s", impl, v.VRID, why)
		}
	}
}

// peerBase is what every Peer keeps alike: its name (<node>/<kind>), its
// node, its directory and its VRs, which SetPriority changes under mu.
type peerBase struct {
	name string
	node *lab.Node
	dir  string
	mu   sync.Mutex
	vrs  []VR
}

// init names the peer and gives it the directory parent/<node>-<kind>,
// made with exactly perm (past the umask) unless perm is 0.
func (b *peerBase) init(t testing.TB, nd *lab.Node, kind string, vrs []VR, parent string, perm os.FileMode) {
	t.Helper()
	b.name, b.node, b.vrs = nd.Short+"/"+kind, nd, append([]VR(nil), vrs...)
	b.dir = filepath.Join(parent, nd.Short+"-"+kind)
	if perm == 0 {
		return
	}
	if err := os.MkdirAll(b.dir, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(b.dir, perm); err != nil {
		t.Fatal(err)
	}
}

// setPriority sets the priority of the peer's VRs with vrid and returns
// their keys.
func (b *peerBase) setPriority(vrid, prio uint8) []VRKey {
	b.mu.Lock()
	defer b.mu.Unlock()
	var keys []VRKey
	for i := range b.vrs {
		if b.vrs[i].VRID == vrid {
			b.vrs[i].Priority = prio
			keys = append(keys, b.vrs[i].Key())
		}
	}
	return keys
}

// path is the file f in the peer's directory.
func (b *peerBase) path(f string) string { return filepath.Join(b.dir, f) }

// Name implements Peer.
func (b *peerBase) Name() string { return b.name }

// Node implements Peer.
func (b *peerBase) Node() *lab.Node { return b.node }

// VRs implements Peer.
func (b *peerBase) VRs() []VR {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]VR(nil), b.vrs...)
}
