package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Addresses installs and removes virtual addresses with netlink and
// remembers what it installed, so shutdown removes exactly that.
//
// A Backup must neither answer ARP/NS for a VIP nor accept traffic to it
// (spec §6.4.2): the daemon therefore installs VIPs only while Master and
// removes them on leaving it, as keepalived does; the kernel then has no
// reason to answer for them.
type Addresses struct {
	h         *netlink.Handle
	mu        sync.Mutex
	installed map[vipKey]netip.Prefix
}

type vipKey struct {
	ifname string
	addr   netip.Addr
}

// NewAddresses returns an address manager using h (nil: the caller's
// namespace).
func NewAddresses(h *netlink.Handle) *Addresses {
	if h == nil {
		h = &netlink.Handle{}
	}
	return &Addresses{h: h, installed: make(map[vipKey]netip.Prefix)}
}

func toNetlinkAddr(p netip.Prefix) *netlink.Addr {
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}}
	if p.Addr().Is6() {
		// No DAD: the address must work the moment we are Master, and a
		// Backup that still answers would make DAD fail (spec §9.1, §11.2).
		a.Flags = unix.IFA_F_NODAD
	} else {
		a.Scope = unix.RT_SCOPE_UNIVERSE
	}
	return a
}

// Add installs vip on ifname. Already installed by Add is not an error;
// already there otherwise is the host's address: ErrNotOurs, and nothing
// is recorded, so Remove and RemoveAll leave it alone.
func (a *Addresses) Add(ifname string, vip netip.Prefix) error {
	return a.add(ifname, vip, toNetlinkAddr(vip), false)
}

// AddWith is Add with a label (IPv4 only; "": none) and a scope (global,
// site, link or host; "": global), for the addresses a router installs on
// another device or does not advertise (keepalived dev, label, scope).
func (a *Addresses) AddWith(ifname string, vip netip.Prefix, label, scope string) error {
	na := toNetlinkAddr(vip)
	na.Label = label
	if s, ok := routeScopes[scope]; ok {
		na.Scope = int(s)
	}
	return a.add(ifname, vip, na, false)
}

// add installs na (vip) on ifname with an exclusive add, so that an
// address the interface already has is never claimed. One this process
// installed is added again (EEXIST: fine), or replaced when replace is set
// (AddNoSource changing its flags).
func (a *Addresses) add(ifname string, vip netip.Prefix, na *netlink.Addr, replace bool) error {
	link, err := a.h.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("linux: add %v on %s: %w", vip, ifname, err)
	}
	k := vipKey{ifname, vip.Addr()}
	a.mu.Lock()
	_, ours := a.installed[k]
	// Recorded before the kernel has it: Installed covers every address of
	// ours an address dump can show (the reload's host checks read both).
	a.installed[k] = vip
	a.mu.Unlock()
	if ours && replace {
		err = a.h.AddrReplace(link, na)
	} else {
		err = a.h.AddrAdd(link, na)
	}
	switch {
	case err == nil, ours && errors.Is(err, unix.EEXIST):
		return nil
	case errors.Is(err, unix.EEXIST):
		err = fmt.Errorf("linux: add %v on %s: %w", vip, ifname, ErrNotOurs)
	default:
		err = fmt.Errorf("linux: add %v on %s: %w", vip, ifname, err)
	}
	if !ours {
		a.mu.Lock()
		delete(a.installed, k)
		a.mu.Unlock()
	}
	return err
}

// Remove deletes vip from ifname if Add installed it; an address Add did
// not install (the host's) is left alone. Already absent is not an error.
func (a *Addresses) Remove(ifname string, vip netip.Prefix) error {
	k := vipKey{ifname, vip.Addr()}
	a.mu.Lock()
	p, ours := a.installed[k]
	a.mu.Unlock()
	if !ours {
		return nil
	}
	// Forgotten once the kernel no longer has it (see add).
	defer func() {
		a.mu.Lock()
		delete(a.installed, k)
		a.mu.Unlock()
	}()
	link, err := a.h.LinkByName(ifname)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil // the device is gone, and its addresses with it
		}
		return fmt.Errorf("linux: remove %v from %s: %w", vip, ifname, err)
	}
	return a.remove(link, p)
}

func (a *Addresses) remove(link netlink.Link, vip netip.Prefix) error {
	err := a.h.AddrDel(link, toNetlinkAddr(vip))
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("linux: remove %v from %s: %w", vip, link.Attrs().Name, err)
	}
	return nil
}

// Flush removes from ifname every address equal to one of vips, whatever
// its prefix length: the leftovers of an earlier instance that was killed
// before it could clean up. Call it at startup, before any VR runs. It
// returns what it removed.
func (a *Addresses) Flush(ifname string, vips []netip.Addr) ([]netip.Prefix, error) {
	link, held, err := a.held(ifname, vips, "flush")
	if err != nil {
		return nil, err
	}
	var removed []netip.Prefix
	var errs []error
	for _, p := range held {
		if err := a.remove(link, p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// Held returns the addresses of ifname equal to one of vips, whatever their
// prefix length: what Flush would remove.
func (a *Addresses) Held(ifname string, vips []netip.Addr) ([]netip.Prefix, error) {
	_, held, err := a.held(ifname, vips, "read")
	return held, err
}

func (a *Addresses) held(ifname string, vips []netip.Addr, op string) (netlink.Link, []netip.Prefix, error) {
	link, err := a.h.LinkByName(ifname)
	if err != nil {
		return nil, nil, fmt.Errorf("linux: %s %s: %w", op, ifname, err)
	}
	want := make(map[netip.Addr]bool, len(vips))
	for _, v := range vips {
		want[v.Unmap()] = true
	}
	list, err := addrList(a.h, link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, nil, fmt.Errorf("linux: %s %s: %w", op, ifname, err)
	}
	var held []netip.Prefix
	for _, ad := range list {
		ip, ok := netip.AddrFromSlice(ad.IP)
		if !ok || !want[ip.Unmap()] {
			continue
		}
		ones, _ := ad.Mask.Size()
		held = append(held, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return link, held, nil
}

// RemoveAll removes every address Add installed and Remove did not: the
// shutdown path.
func (a *Addresses) RemoveAll() error {
	a.mu.Lock()
	todo := make(map[vipKey]netip.Prefix, len(a.installed))
	for k, v := range a.installed {
		todo[k] = v
	}
	a.mu.Unlock()
	var errs []error
	for k, p := range todo {
		errs = append(errs, a.Remove(k.ifname, p))
	}
	return errors.Join(errs...)
}

// Installed reports the addresses Add installed and not yet removed.
func (a *Addresses) Installed() []netip.Prefix {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]netip.Prefix, 0, len(a.installed))
	for _, p := range a.installed {
		out = append(out, p)
	}
	return out
}

// addrList is AddrList, dumped again when the kernel reports that addresses
// changed during the dump (netlink.ErrDumpInterrupted). That is common
// here, not rare: at start-up one router's source address is looked up
// while the workers install other routers' addresses.
func addrList(h *netlink.Handle, link netlink.Link, family int) ([]netlink.Addr, error) {
	for try := 0; ; try++ {
		list, err := h.AddrList(link, family)
		if !errors.Is(err, netlink.ErrDumpInterrupted) || try == 9 {
			return list, err
		}
	}
}

// ErrNotOurs reports a virtual address that the interface already has, or
// a route or rule the kernel already has, that govrrpd did not install: the
// host's (put there by the operator or networkd). It is left alone, never
// recorded, never removed. The error wrapping it says what it is.
var ErrNotOurs = errors.New("already there, not installed by govrrpd: left alone")
