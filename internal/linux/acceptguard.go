package linux

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// AcceptGuard enforces Accept_Mode false: a non-owner Master does not
// accept packets addressed to its virtual addresses [5798-6.4.3-f]
// [3768-6.4.3-b]. The kernel accepts for every local address, so govrrp owns
// one nftables table (family inet, named like the ARP guard's) whose input
// chain drops them, apart from what the protocol needs:
//
//   - what comes in on the loopback: the box's own traffic to its VIPs (a
//     local health check, curl VIP on the Master) is no packet from the LAN;
//   - VRRP itself (protocol 112);
//   - ICMPv6 neighbour solicitations and advertisements (types 135 and 136),
//     as [11.6] of the reference names: hosts resolve and probe the VIP with
//     NS to it, and the NA answering an NS the Master sent from the VIP comes
//     back to it. Router solicitations and advertisements and redirects
//     (133, 134, 137) are not let through: an RS goes to all-routers, and
//     an RA or a redirect unicast to a VIP would only configure the box from
//     the LAN through an address it must not accept on. ARP is not IP and
//     never reaches the chain.
//
// Everything else to a VIP is dropped, replies included: without connection
// tracking a reply cannot be told from a new packet, and turning conntrack on
// for the whole namespace (every forwarded flow of a router, a table that
// can fill) is not a VRRP daemon's to decide. So traffic the Master sends
// from a VIP (ping -I VIP) gets no answer, and ICMP errors about it are
// dropped too; a box that uses the VIP as a host address wants accept: true.
//
// The addresses are set elements, so a change is one small batch. A
// link-local VIP is matched with the device it lives on: fe80::1 on other
// links (another router's, or a static gateway's) is another address.
type AcceptGuard struct {
	netnsFD int // -1: the caller's namespace
	mu      sync.Mutex
	owners  map[string][]acceptKey // what each router asked to drop
	refs    map[acceptKey]int      // how many owners drop each key
	made    bool                   // the table exists
}

// acceptKey is one set element: dev is set for IPv6 link-local addresses only.
type acceptKey struct {
	dev  string
	addr netip.Addr
}

// AcceptGuardTable is the nftables table (family inet) the guard owns.
const AcceptGuardTable = "govrrp"

// The chain and set names, as `nft list table inet govrrp` shows them.
const (
	acceptChain  = "accept_mode"
	acceptSet4   = "vips4"
	acceptSet6   = "vips6"
	acceptSet6LL = "vips6_ll" // ifname . ipv6_addr
)

// NewAcceptGuard returns a guard for the namespace of netnsFD (-1: the
// caller's). It removes a table a killed instance left behind; the table is
// created again by the first Set that drops something.
func NewAcceptGuard(netnsFD int) (*AcceptGuard, error) {
	g := &AcceptGuard{netnsFD: netnsFD, owners: map[string][]acceptKey{}, refs: map[acceptKey]int{}}
	c, err := g.conn()
	if err != nil {
		return nil, err
	}
	if err := deleteTable(c, nftables.TableFamilyINet, AcceptGuardTable); err != nil {
		return nil, err
	}
	return g, nil
}

func (g *AcceptGuard) conn() (*nftables.Conn, error) {
	var c *nftables.Conn
	var err error
	if g.netnsFD >= 0 {
		c, err = nftables.New(nftables.WithNetNSFd(g.netnsFD))
	} else {
		c, err = nftables.New()
	}
	if err != nil {
		return nil, fmt.Errorf("linux: nftables: %w", err)
	}
	return c, nil
}

// deleteTable removes the table when it exists.
func deleteTable(c *nftables.Conn, fam nftables.TableFamily, name string) error {
	tables, err := c.ListTablesOfFamily(fam)
	if err != nil {
		return fmt.Errorf("linux: nftables: %w", err)
	}
	if !slices.ContainsFunc(tables, func(x *nftables.Table) bool { return x.Name == name }) {
		return nil
	}
	c.DelTable(&nftables.Table{Family: fam, Name: name})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("linux: nftables: %w", err)
	}
	return nil
}

// Set makes the packets addressed to vips (living on dev) dropped on behalf
// of owner, replacing what owner asked before; nil stops dropping them. Each
// call is one atomic netlink batch (none when nothing changes); on error
// nothing changed. A batch that removes elements waits for the kernel's RCU
// grace period (milliseconds), one that only adds does not.
func (g *AcceptGuard) Set(owner, dev string, vips []netip.Addr) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.set(map[string][]netip.Addr{owner: vips}, dev)
}

// Forget is Set(owner, "", nil) for several owners, in one batch.
func (g *AcceptGuard) Forget(owners ...string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[string][]netip.Addr{}
	for _, o := range owners {
		m[o] = nil
	}
	return g.set(m, "")
}

// set gives each owner of m its VIPs (living on dev), in one batch. Its
// cost follows the owners of m, not the size of the table.
func (g *AcceptGuard) set(m map[string][]netip.Addr, dev string) error {
	delta := map[acceptKey]int{}
	owners := map[string][]acceptKey{}
	for owner, vips := range m {
		var keys []acceptKey
		for _, v := range vips {
			k := acceptKey{addr: v.Unmap()}
			if k.addr.Is6() && k.addr.IsLinkLocalUnicast() {
				k.dev = dev
			}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		for _, k := range g.owners[owner] {
			delta[k]--
		}
		for _, k := range keys {
			delta[k]++
		}
		owners[owner] = keys
	}
	var add, del []acceptKey
	for k, dn := range delta {
		switch was := g.refs[k]; {
		case was == 0 && was+dn > 0:
			add = append(add, k)
		case was > 0 && was+dn <= 0:
			del = append(del, k)
		}
	}
	if len(add) > 0 || len(del) > 0 {
		if err := g.apply(add, del); err != nil {
			return err
		}
	}
	for k, dn := range delta {
		if g.refs[k] += dn; g.refs[k] <= 0 {
			delete(g.refs, k)
		}
	}
	for owner, keys := range owners {
		if len(keys) == 0 {
			delete(g.owners, owner)
		} else {
			g.owners[owner] = keys
		}
	}
	return nil
}

// Close removes the table.
func (g *AcceptGuard) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	clear(g.owners)
	clear(g.refs)
	if !g.made {
		return nil
	}
	c, err := g.conn()
	if err != nil {
		return err
	}
	g.made = false
	return deleteTable(c, nftables.TableFamilyINet, AcceptGuardTable)
}

// apply adds and removes set elements in one batch, creating the table
// first when it is missing.
func (g *AcceptGuard) apply(add, del []acceptKey) error {
	c, err := g.conn()
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: AcceptGuardTable}
	sets := map[string]*nftables.Set{
		acceptSet4:   {Table: t, Name: acceptSet4, KeyType: nftables.TypeIPAddr},
		acceptSet6:   {Table: t, Name: acceptSet6, KeyType: nftables.TypeIP6Addr},
		acceptSet6LL: {Table: t, Name: acceptSet6LL, KeyType: nftables.MustConcatSetType(nftables.TypeIFName, nftables.TypeIP6Addr), Concatenation: true},
	}
	if !g.made {
		if err := g.create(c, t, sets); err != nil {
			return err
		}
	}
	elems := func(ks []acceptKey) map[string][]nftables.SetElement {
		m := map[string][]nftables.SetElement{}
		for _, k := range ks {
			name, key := k.element()
			m[name] = append(m[name], nftables.SetElement{Key: key})
		}
		return m
	}
	for name, es := range elems(del) {
		if err := c.SetDeleteElements(sets[name], es); err != nil {
			return fmt.Errorf("linux: nftables: %w", err)
		}
	}
	for name, es := range elems(add) {
		if err := c.SetAddElements(sets[name], es); err != nil {
			return fmt.Errorf("linux: nftables: %w", err)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("linux: nftables: %w", err)
	}
	g.made = true
	return nil
}

// element returns the set and key of k.
func (k acceptKey) element() (set string, key []byte) {
	switch {
	case k.addr.Is4():
		return acceptSet4, k.addr.AsSlice()
	case k.dev != "":
		key = make([]byte, unix.IFNAMSIZ, unix.IFNAMSIZ+16)
		copy(key, k.dev)
		return acceptSet6LL, append(key, k.addr.AsSlice()...)
	default:
		return acceptSet6, k.addr.AsSlice()
	}
}

// create queues the table, its sets and its chain (in the batch of the
// first elements, so they appear together):
//
//	meta iif lo accept
//	meta l4proto vrrp accept
//	meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 135-136 accept
//	ip daddr @vips4 drop
//	ip6 daddr @vips6 drop
//	iifname . ip6 daddr @vips6_ll drop
func (g *AcceptGuard) create(c *nftables.Conn, t *nftables.Table, sets map[string]*nftables.Set) error {
	// A table a killed instance left, or one made by hand, goes first.
	if err := deleteTable(c, t.Family, t.Name); err != nil {
		return err
	}
	c.AddTable(t)
	for _, name := range []string{acceptSet4, acceptSet6, acceptSet6LL} {
		if err := c.AddSet(sets[name], nil); err != nil {
			return fmt.Errorf("linux: nftables: %w", err)
		}
	}
	ch := c.AddChain(&nftables.Chain{Name: acceptChain, Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	l4 := func(proto byte) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		}
	}
	nfproto := func(p byte) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
		}
	}
	daddr := func(off, n uint32, reg uint32) expr.Any {
		return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n}
	}
	lookup := func(s *nftables.Set) expr.Any {
		return &expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID}
	}
	accept, drop := &expr.Verdict{Kind: expr.VerdictAccept}, &expr.Verdict{Kind: expr.VerdictDrop}
	rules := [][]expr.Any{
		// The loopback is index 1 in every namespace (LOOPBACK_IFINDEX).
		{&expr.Meta{Key: expr.MetaKeyIIF, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(1)}, accept},
		append(l4(vrrp.IPProtocol), accept),
		slices.Concat(nfproto(unix.NFPROTO_IPV6), l4(unix.IPPROTO_ICMPV6), []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Range{Op: expr.CmpOpEq, Register: 1, FromData: []byte{135}, ToData: []byte{136}},
			accept}),
		slices.Concat(nfproto(unix.NFPROTO_IPV4), []expr.Any{daddr(16, 4, 1), lookup(sets[acceptSet4]), drop}),
		slices.Concat(nfproto(unix.NFPROTO_IPV6), []expr.Any{daddr(24, 16, 1), lookup(sets[acceptSet6]), drop}),
		// The concatenation fills register 1 (ifname) then 2 (address).
		slices.Concat(nfproto(unix.NFPROTO_IPV6), []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			daddr(24, 16, 2), lookup(sets[acceptSet6LL]), drop}),
	}
	for _, exprs := range rules {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
	}
	return nil
}

// AddNoSource is Add for a router with Accept_Mode false. An IPv6 VIP is
// installed deprecated (preferred lifetime 0, valid forever), so that the
// kernel never picks it as the source of the box's own traffic: it would,
// since among the addresses of one prefix the newest wins, and the replies
// to the Master's own connections into its LAN would then be dropped. A
// deprecated address still receives and answers NS. It replaces an address
// Add installed (accept turned off by a reload). An IPv4 VIP goes in as by
// Add: Linux has no IPv4 address flag against source selection. In the
// subnet of an interface address of the same prefix length it is a
// secondary, never a source; otherwise it is a primary, the source of the
// kernel's route into its subnet, and config.AcceptSourceWarnings warns.
func (a *Addresses) AddNoSource(ifname string, vip netip.Prefix) error {
	if !vip.Addr().Is6() {
		return a.Add(ifname, vip)
	}
	na := toNetlinkAddr(vip)
	na.PreferedLft, na.ValidLft = 0, math.MaxUint32
	// Replaced when Add installed it (Accept_Mode turned off on a Master).
	return a.add(ifname, vip, na, true)
}
