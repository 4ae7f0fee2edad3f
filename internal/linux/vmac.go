package linux

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"govrrp/vrrp"
)

// VirtualMAC returns the virtual router MAC of spec §9: 00:00:5e:00:01:VRID
// for IPv4 (VRRPv2 and v3), 00:00:5e:00:02:VRID for IPv6.
func VirtualMAC(vrid uint8, fam vrrp.Family) net.HardwareAddr {
	if fam == vrrp.IPv6 {
		return net.HardwareAddr{0, 0, 0x5e, 0, 2, vrid}
	}
	return net.HardwareAddr{0, 0, 0x5e, 0, 1, vrid}
}

// VMACName is the default macvlan name, as FRR's convention:
// vrrp4-<parent ifindex>-<vrid> (at most 15 bytes for indexes < 100000).
// The parent index keeps the same VRID on two interfaces apart.
func VMACName(parentIndex int, vrid uint8, fam vrrp.Family) string {
	return fmt.Sprintf("vrrp%d-%d-%d", fam, parentIndex, vrid)
}

// VMACConfig describes one virtual router's macvlan.
type VMACConfig struct {
	Parent string
	VRID   uint8
	Family vrrp.Family
	Name   string // default VMACName

	// ParentARPIgnore sets arp_ignore=1 and arp_filter=1 on the parent
	// (restored by Remove), so the parent does not answer ARP for the
	// macvlan's IPv4 VIPs with the physical MAC [5798-8.1.2-a]. It is the
	// only sysctl we touch on a device we did not create, hence opt-in:
	// it also changes how the parent answers for its own addresses.
	// IPv6 needs nothing: Linux answers an NS only on the interface that
	// holds the target.
	ParentARPIgnore bool
}

// VMAC is a macvlan created for one virtual router.
type VMAC struct {
	Name      string
	Index     int
	Parent    string
	MAC       net.HardwareAddr
	LinkLocal netip.Addr // IPv6 VMAC only: its own random link-local, the advert source
}

// VMACs creates and removes the virtual routers' macvlans.
//
// Design: mode bridge. A peer Master's advert carries the same VMAC as our
// own macvlan; in private mode the kernel would hand it to the macvlan only,
// so every virtual router would need its own receive socket. In bridge mode
// the parent sees it too (spec §9.1), so the one receive Conn per interface
// and family stays on the parent, and the macvlan only sends: a Conn with
// SendOnly on it, and the Announcer with the VMAC as source. A Backup's
// macvlan has no VIP, so it answers nothing, and its gate (vmacgate.go)
// discards whatever is addressed to the VMAC until SetMaster opens it.
//
// Sysctls on the macvlan (ours): IPv4: arp_ignore=1 (answer ARP only for
// addresses on it), accept_local=1, rp_filter=0, promote_secondaries=1, and
// IPv6 disabled so no link-local is derived from the VMAC [5798-7.4-a].
// IPv6: addr_gen_mode=random set before link-up (never EUI-64 from the VMAC:
// two routers would share it) and accept_dad=0 so it is usable at once.
type VMACs struct {
	h       *netlink.Handle
	mu      sync.Mutex
	created map[string]*vmacEntry
	// The gate that makes a non-Master's macvlan discard what is addressed
	// to the VMAC (vmacgate.go).
	masters   map[string]bool
	gateBuilt bool
}

type vmacEntry struct {
	vmac    *VMAC
	restore map[string]string // parent sysctl path -> old value
}

// NewVMACs returns a manager using h (nil: the caller's namespace). Sysctls
// are written through /proc/sys from the calling thread, so call it in the
// namespace h points at.
func NewVMACs(h *netlink.Handle) *VMACs {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &VMACs{h: h, created: make(map[string]*vmacEntry), masters: make(map[string]bool)}
}

// Create makes the macvlan of cfg, up, with its sysctls, and its gate
// closed: it discards what is addressed to the VMAC until SetMaster opens
// it [5798-6.4.2-d]. A link of the same name left by a killed instance is
// deleted first (if it is a macvlan).
// Its errors name the macvlan and its parent once ("linux: vmac vrrp.4.1 on
// eth0: ..."); the caller adds only which router it was for.
func (m *VMACs) Create(cfg VMACConfig) (*VMAC, error) {
	parent, err := m.h.LinkByName(cfg.Parent)
	if err != nil {
		return nil, fmt.Errorf("linux: vmac on %s: %w", cfg.Parent, err)
	}
	name := cfg.Name
	if name == "" {
		name = VMACName(parent.Attrs().Index, cfg.VRID, cfg.Family)
	}
	v, err := m.create(cfg, parent, name)
	if err != nil {
		return nil, fmt.Errorf("linux: vmac %s on %s: %w", name, cfg.Parent, err)
	}
	return v, nil
}

func (m *VMACs) create(cfg VMACConfig, parent netlink.Link, name string) (*VMAC, error) {
	if old, err := m.h.LinkByName(name); err == nil {
		if old.Type() != "macvlan" {
			return nil, fmt.Errorf("a %s of that name exists", old.Type())
		}
		if err := m.h.LinkDel(old); err != nil {
			return nil, fmt.Errorf("remove the stale one: %w", err)
		}
	}
	mac := VirtualMAC(cfg.VRID, cfg.Family)
	la := netlink.NewLinkAttrs()
	la.Name, la.ParentIndex, la.HardwareAddr = name, parent.Attrs().Index, mac
	mv := &netlink.Macvlan{LinkAttrs: la, Mode: netlink.MACVLAN_MODE_BRIDGE}
	if err := m.h.LinkAdd(mv); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	ent := &vmacEntry{vmac: &VMAC{Name: name, Parent: cfg.Parent, MAC: mac}, restore: map[string]string{}}
	m.mu.Lock()
	m.created[name] = ent
	m.mu.Unlock()
	fail := func(err error) (*VMAC, error) {
		_ = m.Remove(name)
		return nil, err
	}
	link, err := m.h.LinkByName(name)
	if err != nil {
		return fail(err)
	}
	ent.vmac.Index = link.Attrs().Index

	// Everything below must happen before link-up: IPv6 generates the
	// link-local on up, and nothing may reach the macvlan ungated.
	m.mu.Lock()
	err = m.gateAdd(name)
	m.mu.Unlock()
	if err != nil {
		return fail(fmt.Errorf("gate: %w", err))
	}
	var sysctls [][2]string
	if cfg.Family == vrrp.IPv4 {
		sysctls = [][2]string{
			{"net/ipv6/conf/" + name + "/disable_ipv6", "1"},
			{"net/ipv4/conf/" + name + "/arp_ignore", "1"},
			{"net/ipv4/conf/" + name + "/accept_local", "1"},
			{"net/ipv4/conf/" + name + "/rp_filter", "0"},
			{"net/ipv4/conf/" + name + "/promote_secondaries", "1"},
		}
	} else {
		if err := m.h.LinkSetIP6AddrGenMode(link, 3 /* IN6_ADDR_GEN_MODE_RANDOM */); err != nil {
			// Fall back to the sysctl (some kernels reject the netlink
			// attribute, as `ip link add ... addrgenmode` fails here).
			sysctls = append(sysctls, [2]string{"net/ipv6/conf/" + name + "/addr_gen_mode", "3"})
		}
		sysctls = append(sysctls,
			[2]string{"net/ipv6/conf/" + name + "/accept_dad", "0"},
			[2]string{"net/ipv4/conf/" + name + "/arp_ignore", "1"})
	}
	for _, s := range sysctls {
		if err := writeSysctl(s[0], s[1]); err != nil {
			return fail(err)
		}
	}
	if cfg.ParentARPIgnore && cfg.Family == vrrp.IPv4 {
		for _, k := range []string{"arp_ignore", "arp_filter"} {
			p := "net/ipv4/conf/" + cfg.Parent + "/" + k
			old, err := readSysctl(p)
			if err != nil {
				return fail(err)
			}
			ent.restore[p] = old
			if err := writeSysctl(p, "1"); err != nil {
				return fail(err)
			}
		}
	}
	if err := m.h.LinkSetUp(link); err != nil {
		return fail(err)
	}
	if cfg.Family == vrrp.IPv6 {
		// The kernel adds the random link-local on up; wait for it so the
		// caller can send from it.
		deadline := time.Now().Add(2 * time.Second)
		for {
			ll, err := SourceAddress(m.h, link, vrrp.IPv6, nil)
			if err == nil {
				ent.vmac.LinkLocal = ll
				break
			}
			if time.Now().After(deadline) {
				return fail(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	v := *ent.vmac
	return &v, nil
}

// Remove deletes a macvlan Create made (its addresses go with it) and
// restores the parent sysctls it changed.
func (m *VMACs) Remove(name string) error {
	m.mu.Lock()
	ent := m.created[name]
	delete(m.created, name)
	m.mu.Unlock()
	if ent == nil {
		return nil
	}
	var errs []error
	if link, err := m.h.LinkByName(name); err == nil {
		errs = append(errs, m.h.LinkDel(link))
	}
	// Its gate goes once it is gone, not before.
	m.mu.Lock()
	errs = append(errs, m.gateRemove(name))
	m.mu.Unlock()
	for p, v := range ent.restore {
		errs = append(errs, writeSysctl(p, v))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("linux: remove vmac %s: %w", name, err)
	}
	return nil
}

// RemoveAll removes every macvlan Create made: the shutdown path.
func (m *VMACs) RemoveAll() error {
	m.mu.Lock()
	names := make([]string, 0, len(m.created))
	for n := range m.created {
		names = append(names, n)
	}
	m.mu.Unlock()
	var errs []error
	for _, n := range names {
		errs = append(errs, m.Remove(n))
	}
	return errors.Join(errs...)
}

func writeSysctl(key, value string) error {
	f, err := os.OpenFile(filepath.Join("/proc/sys", key), os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		var pe *fs.PathError // its op and path repeat the key
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

func readSysctl(key string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	return strings.TrimSpace(string(b)), err
}
