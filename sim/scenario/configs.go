package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Node is one simulated box: a govrrpd configuration (parsed and checked
// by config.Parse; the host checks do not apply to a simulated box).
type Node struct {
	Name   string
	Config *config.Config
}

// Fault is an event for a node of FromConfigs, at a time or (At < 0) one
// step after the fault before it (the first one step after the start).
type Fault struct {
	Node string
	Kind Kind // OnOne
	At   time.Duration
}

// modelled are the router keys the simulator plays; the others are listed
// in Scenario.Notes. unicast_source is the node's primary address.
var modelled = []string{"name", "interface", "vrid", "version", "priority", "advert_interval", "preempt",
	"preempt_delay", "accept", "addresses", "reply_lower_priority", "v2_compat", "unicast_source"}

// lanKey is what makes routers of several nodes one virtual router: the
// interface (the LAN), the VRID and the family.
type lanKey struct {
	iface string
	vrid  uint8
	fam   vrrp.Family
}

// FromConfigs builds one scenario per virtual router of the nodes: the
// routers of every node with the same interface, VRID and family are one
// LAN, each named after its node, whose primary address is its
// unicast_source or DefaultPrimary of the node's place. The faults happen
// on every LAN their node is on. Of s, loss, delay, seed and duration
// apply; the rest comes from the configurations.
func FromConfigs(nodes []Node, faults []Fault, s Settings) ([]*Scenario, error) {
	var names []string
	for _, n := range nodes {
		if slices.Contains(names, n.Name) {
			return nil, fmt.Errorf("node %q is given twice; name each file differently (NAME=FILE)", n.Name)
		}
		names = append(names, n.Name)
	}
	for _, f := range faults {
		if !slices.Contains(names, f.Node) {
			msg := fmt.Sprintf("no node is named %q", f.Node)
			if c := yamlwalk.Closest(f.Node, names); c != "" {
				return nil, fmt.Errorf("%s; did you mean %q?", msg, c)
			}
			return nil, fmt.Errorf("%s; the nodes are %s", msg, strings.Join(names, ", "))
		}
	}
	var keys []lanKey
	lans := map[lanKey]*Scenario{}
	names0 := map[lanKey]string{} // the router's name in the first file
	for ni, n := range nodes {
		for ri := range n.Config.Routers {
			r := &n.Config.Routers[ri]
			k := lanKey{r.Interface, r.VRID, r.Family}
			sc := lans[k]
			if sc == nil {
				st := s
				st.Version, st.Family, st.Interval, st.Preempt, st.PreemptDelay, st.Addresses =
					r.Version, r.Family, r.AdvertInterval, r.Preempt, r.PreemptDelay, r.VIPs()
				sc = &Scenario{VRID: r.VRID, Settings: st}
				lans[k], names0[k] = sc, r.Name
				keys = append(keys, k)
			}
			primary := r.Source()
			if !primary.IsValid() {
				primary = DefaultPrimary(r.Family, ni)
			}
			pre, pd, acc, iv, ver := r.Preempt, r.PreemptDelay, r.Accept, r.AdvertInterval, r.Version
			sc.Routers = append(sc.Routers, Router{Name: n.Name, Priority: r.Priority, Address: primary,
				Addresses: r.VIPs(), Interval: &iv, Version: &ver, Preempt: &pre, PreemptDelay: &pd, Accept: &acc,
				Config: r.FSM(primary), BFD: bfdOf(r.BFDMaster)})
			sc.Notes = append(sc.Notes, unmodelled(n, r)...)
		}
		// Notes about the whole node go to each of its LANs.
		var notes []string
		if len(n.Config.SyncGroups) > 0 {
			notes = append(notes, fmt.Sprintf("%s: node %s: sync_groups are not simulated: each virtual router runs alone",
				n.Config.KeyPos["sync_groups"], n.Name))
		}
		for _, w := range n.Config.Warnings {
			notes = append(notes, fmt.Sprintf("node %s: warning: %v", n.Name, w))
		}
		for _, k := range keys {
			if slices.ContainsFunc(lans[k].Routers, func(r Router) bool { return r.Name == n.Name }) {
				lans[k].Notes = append(lans[k].Notes, notes...)
			}
		}
	}
	splitLANs(keys, lans)
	var out []*Scenario
	for _, k := range keys {
		sc := lans[k]
		var boxes []string
		for _, r := range sc.Routers {
			boxes = append(boxes, r.Name)
		}
		sc.Name = fmt.Sprintf("%s (%s, VRID %d, %s) of %s", names0[k], k.iface, k.vrid, FamilyName(k.fam), strings.Join(boxes, ", "))
		if len(sc.Routers) > MaxRouters {
			return nil, fmt.Errorf("%s: %d routers; at most %d", sc.Name, len(sc.Routers), MaxRouters)
		}
		step := sc.Settle()
		last, end := time.Duration(0), time.Duration(0)
		for _, f := range faults {
			at := f.At
			if at < 0 {
				at = last + step
			}
			last, end = at, max(end, at)
			if slices.ContainsFunc(sc.Routers, func(r Router) bool { return r.Name == f.Node }) {
				sc.Events = append(sc.Events, Event{At: at, Kind: f.Kind, Target: f.Node, seq: len(sc.Events)})
			}
		}
		slices.SortStableFunc(sc.Events, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
		if sc.Duration == 0 {
			sc.Duration = end + step
		}
		if end > sc.Duration {
			return nil, fmt.Errorf("a fault at +%v comes after the end of the run (--duration %v)", end, sc.Duration)
		}
		used := map[netip.Addr]string{}
		for _, r := range sc.Routers {
			if other, dup := used[r.Address]; dup {
				return nil, fmt.Errorf("%s and %s both send from %v; give them each their own unicast_source", other, r.Name, r.Address)
			}
			used[r.Address] = r.Name
		}
		for _, e := range sc.Events {
			sc.Name += fmt.Sprintf("; %s %s at +%v", e.Kind, e.Target, e.At)
		}
		if err := sc.checkLength(); err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the configurations have no routers")
	}
	return out, nil
}

// unmodelled lists the keys written for r that the simulator leaves out.
func unmodelled(n Node, r *config.Router) []string {
	var keys []string
	for k := range r.KeyPos {
		if !strings.Contains(k, "[") && !slices.Contains(modelled, k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b string) int { return r.KeyPos[a].Line - r.KeyPos[b].Line })
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s: node %s, router %s: %s is not simulated", r.PosOf(k), n.Name, r.Name, k))
	}
	return out
}

// splitLANs notes the virtual routers that one interface name apart would be
// one: the same VRID and family on different interfaces of different boxes.
// The two boxes of a pair often name the LAN's interface differently (eth0,
// ens3), and then each lone router is Master; a box's own routers on two
// interfaces are two LANs indeed.
func splitLANs(keys []lanKey, lans map[lanKey]*Scenario) {
	boxes := func(sc *Scenario) []string {
		var out []string
		for _, r := range sc.Routers {
			out = append(out, r.Name)
		}
		return out
	}
	for i, k := range keys {
		for _, o := range keys[i+1:] {
			if o.vrid != k.vrid || o.fam != k.fam || o.iface == k.iface {
				continue
			}
			a, b := boxes(lans[k]), boxes(lans[o])
			if slices.ContainsFunc(a, func(n string) bool { return slices.Contains(b, n) }) {
				continue
			}
			note := fmt.Sprintf("VRID %d (%s) is on %s of %s but on %s of %s: simulated as separate LANs; "+
				"if they are one LAN, name the interface the same in each file to simulate them together",
				k.vrid, FamilyName(k.fam), k.iface, strings.Join(a, ", "), o.iface, strings.Join(b, ", "))
			lans[k].Notes = append(lans[k].Notes, note)
			lans[o].Notes = append(lans[o].Notes, note)
		}
	}
}

// bfdOf is a router's bfd_master as the simulator runs it: one interval,
// the larger of min_tx and min_rx.
func bfdOf(m *config.BFDMaster) *BFD {
	if m == nil {
		return nil
	}
	return &BFD{Interval: max(m.MinTx, m.MinRx), Multiplier: m.Multiplier, Successor: m.FSM()}
}
