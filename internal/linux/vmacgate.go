package linux

import (
	"fmt"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// A Backup must discard frames addressed to the VMAC [5798-6.4.2-d]
// [IMPL-12]: in bridge mode its macvlan stays up (its link-local is the IPv6
// advert source, and a new Master's first advert leaves through it before
// any netlink work), so without a gate a frame flooded to the VMAC (a
// switch that has not learnt where the Master is, a host with a stale
// neighbour entry) would be accepted by the Backup too, and with
// forwarding on, routed: a duplicate.
//
// Why not protodown, as FRR does: on this kernel (6.18) a macvlan with
// protodown on still hands the frames addressed to it to the IP stack (the
// macvlan's receive path checks IFF_UP, not the carrier; measured: pings
// through a protodown macvlan are answered), and it drops what the macvlan
// sends (the carrier loss swaps its queue for noop), so a new Master's
// first advert, sent the instant it takes over, would be lost until a
// worker lifts it. Nor admin down: that removes the IPv6 link-local.
//
// So govrrp owns an nftables table (family inet, hook prerouting, before
// conntrack) with two sets, the macvlans it made and those of them whose
// router is Master, and one rule: a packet that arrives on one of its
// macvlans that is not a Master's, addressed to the macvlan's MAC (pkttype
// host), is dropped and counted. Multicast and broadcast (adverts, ND, MLD)
// are untouched: they are not addressed to the VMAC. ARP needs no gate: a
// Backup's macvlan holds no address and answers ARP only for its own
// (arp_ignore=1). Becoming Master adds one set element: 0.3 ms here.
// Removing one (leaving Master) took 15 to 25 ms, which is why the set
// lists Masters rather than Backups: the takeover is the fast path.

// VMACGateTable is the nftables table (family inet) of the gate.
const VMACGateTable = "govrrp_vmac"

var (
	gateTable   = &nftables.Table{Family: nftables.TableFamilyINet, Name: VMACGateTable}
	gateVMACs   = &nftables.Set{Table: gateTable, Name: "vmacs", KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian}
	gateMasters = &nftables.Set{Table: gateTable, Name: "masters", KeyType: nftables.TypeIFName, KeyByteOrder: binaryutil.NativeEndian}
)

func ifnameKey(name string) []nftables.SetElement {
	k := make([]byte, unix.IFNAMSIZ)
	copy(k, name)
	return []nftables.SetElement{{Key: k}}
}

// gateConn talks to nftables in the calling thread's namespace, as the
// sysctls are written.
func gateConn() (*nftables.Conn, error) { return nftables.New() }

// gateEdit applies one set edit; if it fails (the table was changed
// behind our back, say by nft flush ruleset) the table is written again
// from what m knows. Called with m.mu held, after m's maps are updated.
func (m *VMACs) gateEdit(edit func(c *nftables.Conn) error) error {
	if !m.gateBuilt {
		return m.rebuildGate()
	}
	c, err := gateConn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if err := edit(c); err != nil || c.Flush() != nil {
		return m.rebuildGate()
	}
	return nil
}

// rebuildGate writes the whole table from m in one transaction, replacing
// whatever was there (a killed instance's table included), or removes it
// when m has no macvlan left. Called with m.mu held.
func (m *VMACs) rebuildGate() error {
	c, err := gateConn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if slices.ContainsFunc(tables, func(x *nftables.Table) bool { return x.Name == VMACGateTable }) {
		c.DelTable(gateTable)
	}
	m.gateBuilt = len(m.created) > 0
	if m.gateBuilt {
		c.AddTable(gateTable)
		var all, masters []nftables.SetElement
		for name := range m.created {
			all = append(all, ifnameKey(name)...)
			if m.masters[name] {
				masters = append(masters, ifnameKey(name)...)
			}
		}
		vmacs, ms := *gateVMACs, *gateMasters // AddSet assigns IDs
		if err := c.AddSet(&vmacs, all); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		if err := c.AddSet(&ms, masters); err != nil {
			return fmt.Errorf("nftables: %w", err)
		}
		ch := c.AddChain(&nftables.Chain{Name: "backup_vmac_in", Table: gateTable, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw})
		c.AddRule(&nftables.Rule{Table: gateTable, Chain: ch, Exprs: []expr.Any{
			// iifname @vmacs iifname != @masters pkttype host counter drop
			&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
			&expr.Lookup{SourceRegister: 1, SetName: vmacs.Name, SetID: vmacs.ID},
			&expr.Lookup{SourceRegister: 1, SetName: ms.Name, SetID: ms.ID, Invert: true},
			&expr.Meta{Key: expr.MetaKeyPKTTYPE, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.PACKET_HOST}},
			&expr.Counter{},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	}
	if err := c.Flush(); err != nil {
		m.gateBuilt = false
		return fmt.Errorf("nftables: %w", err)
	}
	return nil
}

// gateAdd puts a new macvlan behind a closed gate. Called with m.mu held,
// after m.created has it.
func (m *VMACs) gateAdd(name string) error {
	wasMaster := m.masters[name] // a macvlan of that name was Master before
	delete(m.masters, name)
	return m.gateEdit(func(c *nftables.Conn) error {
		if wasMaster {
			if err := c.SetDeleteElements(gateMasters, ifnameKey(name)); err != nil {
				return err
			}
		}
		return c.SetAddElements(gateVMACs, ifnameKey(name))
	})
}

// gateRemove forgets a deleted macvlan, and removes the table with the
// last one. Called with m.mu held, after m.created has lost it.
func (m *VMACs) gateRemove(name string) error {
	wasMaster := m.masters[name]
	delete(m.masters, name)
	if len(m.created) == 0 {
		return m.rebuildGate()
	}
	return m.gateEdit(func(c *nftables.Conn) error {
		if wasMaster {
			if err := c.SetDeleteElements(gateMasters, ifnameKey(name)); err != nil {
				return err
			}
		}
		return c.SetDeleteElements(gateVMACs, ifnameKey(name))
	})
}

// SetMaster opens the gate of the macvlan name when its router becomes
// Master (frames addressed to the VMAC are taken from then on), and closes
// it in every other state [5798-6.4.2-d]. Create starts it closed.
func (m *VMACs) SetMaster(name string, master bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.created[name] == nil {
		return fmt.Errorf("linux: vmac %s: not ours", name)
	}
	if m.masters[name] == master {
		return nil
	}
	if master {
		m.masters[name] = true
	} else {
		delete(m.masters, name)
	}
	err := m.gateEdit(func(c *nftables.Conn) error {
		if master {
			return c.SetAddElements(gateMasters, ifnameKey(name))
		}
		return c.SetDeleteElements(gateMasters, ifnameKey(name))
	})
	if err != nil {
		return fmt.Errorf("linux: vmac %s gate: %w", name, err)
	}
	return nil
}
