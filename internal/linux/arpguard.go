package linux

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// ARPGuard keeps a VMAC router's parent interface from answering ARP for the
// router's virtual addresses with its own MAC: hosts must only ever learn
// the VMAC for a VIP [5798-8.1.2-a].
//
// Linux answers ARP for any local address on any interface (arp_ignore=0),
// so the parent answers for VIPs living on its macvlan. keepalived flips the
// parent's arp_ignore/arp_filter sysctls, which changes how the parent
// answers for every other address too. Instead, govrrp owns one nftables
// table (family arp) whose output chain drops exactly the ARP replies that
// leave a parent with a VIP as sender address; the macvlan's own replies
// (sender MAC = VMAC) leave through the macvlan and are untouched.
//
// The parent also asks: for a packet the Master sends from a VIP to a host
// it has not resolved, Linux (arp_announce=0) puts the VIP as sender address
// of an ARP request that leaves the parent with the physical MAC, and the
// host asked learns that MAC for the VIP. Given the parent's own address
// (SetSource), the same chain rewrites the sender address of such requests
// to it, as arp_announce=2 would: the answer still comes back to the parent,
// which resolves the host.
//
// IPv6 needs nothing for a VIP that lives only on the macvlan: neighbour
// solicitations are answered per interface. An address owner's VIPs are
// also the parent's own addresses, so the parent answers for them with its
// MAC [5798-8.2.2-a][5798-8.2.2-d]; for IPv6 VIPs given to Guard the same
// table name in family ip6 drops the neighbour advertisements that leave the
// parent with a VIP as target (the macvlan's, with the VMAC, are untouched)
// and gives the parent's link-local as source to its solicitations from a
// VIP, which carry the physical MAC as source link-layer option
// [5798-8.2.2-b].
type ARPGuard struct {
	netnsFD int // -1: the caller's namespace
	mu      sync.Mutex
	entries map[guardEntry]int         // reference counts
	sources map[guardSource]netip.Addr // the parent's own address per family
}

type guardEntry struct {
	parent string
	vip    netip.Addr
}

type guardSource struct {
	parent string
	ipv6   bool
}

// nfARPOut is the ARP family's output hook (linux/netfilter_arp.h). The
// library's ChainHookOutput is the inet one (NF_INET_LOCAL_OUT = 3), which
// the kernel refuses for an arp table.
const nfARPOut nftables.ChainHook = 1

// ARPGuardTable is the nftables table govrrp owns.
const ARPGuardTable = "govrrp"

// NewARPGuard returns a guard for the namespace of netnsFD (-1: the
// caller's), or an error when nftables cannot be used there. A table a
// killed instance left behind stays until the first Guard (or Close)
// replaces it in one netlink batch: a restarted daemon guards its VIPs
// again with no moment in which the parent answers for them with its MAC
// [5798-8.1.2-c].
func NewARPGuard(netnsFD int) (*ARPGuard, error) {
	g := &ARPGuard{netnsFD: netnsFD, entries: map[guardEntry]int{}, sources: map[guardSource]netip.Addr{}}
	c, err := g.conn()
	if err == nil {
		_, err = c.ListTablesOfFamily(nftables.TableFamilyARP)
	}
	if err != nil {
		return nil, fmt.Errorf("linux: nftables: %w", err)
	}
	return g, nil
}

func (g *ARPGuard) conn() (*nftables.Conn, error) {
	if g.netnsFD >= 0 {
		return nftables.New(nftables.WithNetNSFd(g.netnsFD))
	}
	return nftables.New()
}

// Guard drops the parent's ARP replies for the IPv4 vips and its neighbour
// advertisements for the IPv6 ones.
func (g *ARPGuard) Guard(parent string, vips []netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, v := range vips {
		g.entries[guardEntry{parent, v}]++
	}
	return g.sync()
}

// SetSource records one of parent's own addresses: IPv4, its primary, the
// sender address its ARP requests for the guarded VIPs are given instead;
// IPv6, its link-local, the source its neighbour solicitations from a
// guarded VIP are given instead (the owner's case, whose VIPs are also the
// parent's: the kernel solicits from them with the physical MAC as source
// link-layer option [5798-8.2.2-b][5798-8.2.2-d]). Unchanged, it costs
// nothing; an invalid address is ignored.
func (g *ARPGuard) SetSource(parent string, src netip.Addr) error {
	if !src.IsValid() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := guardSource{parent, src.Is6()}
	if g.sources[k] == src {
		return nil
	}
	g.sources[k] = src
	return g.sync()
}

// Release undoes one Guard of the same arguments.
func (g *ARPGuard) Release(parent string, vips []netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, v := range vips {
		e := guardEntry{parent, v}
		if g.entries[e]--; g.entries[e] <= 0 {
			delete(g.entries, e)
		}
	}
	return g.sync()
}

// Close removes the table.
func (g *ARPGuard) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.entries)
	return g.sync()
}

// sync rewrites the whole tables from entries in one netlink batch: with at
// most a few hundred VIPs that is simpler and as atomic as editing rules.
func (g *ARPGuard) sync() error {
	c, err := g.conn()
	if err != nil {
		return fmt.Errorf("linux: nftables: %w", err)
	}
	var n4, n6 int
	for e := range g.entries {
		if e.vip.Is4() {
			n4++
		} else {
			n6++
		}
	}
	t := &nftables.Table{Family: nftables.TableFamilyARP, Name: ARPGuardTable}
	t6 := &nftables.Table{Family: nftables.TableFamilyIPv6, Name: ARPGuardTable}
	for _, x := range []*nftables.Table{t, t6} {
		tables, err := c.ListTablesOfFamily(x.Family)
		if err != nil {
			return fmt.Errorf("linux: nftables: %w", err)
		}
		if slices.ContainsFunc(tables, func(y *nftables.Table) bool { return y.Name == ARPGuardTable }) {
			c.DelTable(x)
		}
	}
	if n6 > 0 {
		c.AddTable(t6)
		ch := c.AddChain(&nftables.Chain{Name: "owner_parent_out", Table: t6, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter})
		for e := range g.entries {
			if e.vip.Is4() {
				continue
			}
			c.AddRule(&nftables.Rule{Table: t6, Chain: ch, Exprs: slices.Concat(
				icmpv6From(e.parent, 136), // neighbour advertisement
				// target address (after type, code, checksum and flags)
				payloadIs(expr.PayloadBaseTransportHeader, 8, e.vip.AsSlice()),
				[]expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}},
			)})
			src, ok := g.sources[guardSource{e.parent, true}]
			if !ok || src == e.vip {
				continue
			}
			c.AddRule(&nftables.Rule{Table: t6, Chain: ch, Exprs: slices.Concat(
				icmpv6From(e.parent, 135), // neighbour solicitation
				// IPv6 source (offset 8) = VIP
				payloadIs(expr.PayloadBaseNetworkHeader, 8, e.vip.AsSlice()),
				[]expr.Any{
					// source := the parent's link-local. The ICMPv6 checksum
					// covers it (pseudo-header): it is updated in place at its
					// offset from the network header, 40 + 2, as NS carry no
					// extension headers (the library sends the pseudo-header
					// flag only with a checksum type, so this is that type's
					// own form), and the kernel computed it before this hook.
					&expr.Immediate{Register: 1, Data: src.AsSlice()},
					&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16,
						CsumType: expr.CsumTypeInet, CsumOffset: 42},
				},
			)})
		}
	}
	if n4 > 0 {
		c.AddTable(t)
		ch := c.AddChain(&nftables.Chain{Name: "vmac_parent_out", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookRef(nfARPOut), Priority: nftables.ChainPriorityFilter})
		for e := range g.entries {
			if !e.vip.Is4() {
				continue
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: slices.Concat(
				arpFrom(e.parent, 2, e.vip), // reply
				[]expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}},
			)})
			src, ok := g.sources[guardSource{e.parent, false}]
			if !ok || src == e.vip {
				continue
			}
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: slices.Concat(
				arpFrom(e.parent, 1, e.vip), // request
				[]expr.Any{
					// sender protocol address := the parent's own
					&expr.Immediate{Register: 1, Data: src.AsSlice()},
					&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 14, Len: 4},
				},
			)})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("linux: nftables: %w", err)
	}
	return nil
}

// payloadIs matches the len(data) bytes at offset from base against data.
func payloadIs(base expr.PayloadBase, offset uint32, data []byte) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: base, Offset: offset, Len: uint32(len(data))},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// oifIs matches packets leaving by interface name.
func oifIs(name string) []expr.Any {
	ifname := make([]byte, unix.IFNAMSIZ)
	copy(ifname, name)
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname},
	}
}

// icmpv6From matches ICMPv6 messages of type typ leaving by parent.
func icmpv6From(parent string, typ byte) []expr.Any {
	return slices.Concat(oifIs(parent), []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
	}, payloadIs(expr.PayloadBaseTransportHeader, 0, []byte{typ}))
}

// arpFrom matches ARP packets of operation op (1 request, 2 reply) leaving
// by parent with vip as sender protocol address (offset 14 for
// Ethernet/IPv4; the operation is at 6).
func arpFrom(parent string, op byte, vip netip.Addr) []expr.Any {
	return slices.Concat(oifIs(parent),
		payloadIs(expr.PayloadBaseNetworkHeader, 6, []byte{0, op}),
		payloadIs(expr.PayloadBaseNetworkHeader, 14, vip.AsSlice()))
}
