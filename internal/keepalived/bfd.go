package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// keepalived's BFD: bfd_instance sections become govrrpd's top-level bfd
// sessions, an instance's track_bfd its track.bfd.

// bfdInst is a bfd_instance section, with keepalived 2.2.7's defaults
// (bfd.h: 10 ms both ways, multiplier 5, weight 0).
type bfdInst struct {
	name         string // the YAML name
	pos          Pos
	peer, local  netip.Addr
	minRx, minTx time.Duration
	mult         int
	passive      bool
	weight       int
	reverse      bool
	bad          bool // not translatable: tracking it is dropped
}

// bfdTrack is one tracked session of an instance, weight and reverse as
// govrrp reads them (see bfdBump).
type bfdTrack struct {
	name    string
	weight  int
	reverse bool
}

// bfdInstance reads a bfd_instance section.
func (t *translator) bfdInstance(n *Node) {
	if len(n.Args) < 1 {
		t.note(n, "no name", "name the bfd_instance", true)
		return
	}
	b := &bfdInst{name: keyName(n.Args[0]), pos: n.Pos, minRx: 10 * time.Millisecond, minTx: 10 * time.Millisecond, mult: 5}
	ms := func(c *Node) time.Duration {
		v, ok := t.intArg(c, 1, 60000)
		if !ok {
			return 10 * time.Millisecond
		}
		if v < 10 {
			t.note(c, "govrrp's BFD intervals start at 10 ms", "10 ms is written", false)
			v = 10
		}
		return time.Duration(v) * time.Millisecond
	}
	addr := func(c *Node) netip.Addr {
		a, err := netip.ParseAddr(t.strArg(c))
		if err != nil || a.IsMulticast() || a.IsUnspecified() {
			t.note(c, "not a unicast address", "write the address; the session is left out", true)
			b.bad = true
		}
		return a.WithZone("")
	}
	for _, c := range n.Children {
		switch c.Key {
		case "neighbor_ip", "neighbour_ip":
			b.peer = addr(c)
		case "source_ip":
			b.local = addr(c)
		case "min_rx":
			b.minRx = ms(c)
		case "min_tx":
			b.minTx = ms(c)
		case "multiplier":
			if v, ok := t.intArg(c, 1, 255); ok {
				b.mult = v
			}
		case "passive":
			b.passive = true
		case "weight":
			if v, ok := t.intArg(c, -253, 253); ok {
				b.weight = v
			}
			b.reverse = len(c.Args) > 1 && c.Args[1] == "reverse"
		case "idle_tx":
			t.note(c, "govrrpd sends every second while the session is not Up (RFC 5880 §6.8.3)", "nothing to do", false)
		case "ttl", "hoplimit":
			if len(c.Args) == 0 || c.Args[0] != "255" {
				t.note(c, "govrrpd always sends with TTL / hop limit 255 and drops anything else (RFC 5881 GTSM)", "nothing to do; the peer must send 255 too", false)
			}
		case "max_hops", "multihop":
			t.note(c, "multihop BFD is not supported by govrrp: single hop only (RFC 5881)", "keep keepalived for this session, or run it single hop", true)
			b.bad = true
		case "vrrp":
			// Which keepalived process is told: govrrpd's routers are.
		case "checker":
			t.note(c, "tells keepalived's checker (LVS real servers) too: not VRRP, skipped", "", false)
		default:
			t.note(c, "bfd_instance setting not translated", "remove it", true)
		}
	}
	if !b.peer.IsValid() && !b.bad {
		t.note(n, "no neighbor_ip", "add neighbor_ip ADDRESS", true)
		b.bad = true
	}
	if b.local.IsValid() && b.peer.IsValid() && b.local.Is4() != b.peer.Is4() {
		t.note(n, "source_ip and neighbor_ip are of different families", "write a source_ip of the neighbour's family", true)
		b.bad = true
	}
	if !b.bad {
		t.note(n, "keepalived lets the kernel route BFD; govrrpd binds each session to an interface", "the import takes the interface of the first vrrp_instance tracking it; check it is the neighbour's", false)
	}
	if t.bfds == nil {
		t.bfds = map[string]*bfdInst{}
	}
	t.bfds[n.Args[0]] = b
	t.bfdOrder = append(t.bfdOrder, n.Args[0])
}

// trackBFD reads an instance's track_bfd block: NAME [weight W [reverse]].
// keepalived looks the name up as it reads the instance, so the
// bfd_instance section must come first.
func (t *translator) trackBFD(r *router, n *Node) {
	for _, c := range n.Children {
		b := t.bfds[c.Key]
		if b == nil {
			t.note(c, "no bfd_instance of this name before it: ignored, as keepalived does", "define it (before this instance) or remove it", false)
			continue
		}
		if b.bad {
			t.note(c, "its bfd_instance could not be translated: tracking dropped", "see the bfd_instance's note", true)
			continue
		}
		w, rev := b.weight, b.reverse
		if len(c.Args) > 0 {
			if c.Args[0] != "weight" || len(c.Args) < 2 {
				t.note(c, "unknown option "+c.Args[0]+": ignored, as keepalived does", "write weight N [reverse]", false)
				continue
			}
			v, err := strconv.Atoi(c.Args[1])
			if err != nil || v < -253 || v > 253 {
				t.note(c, "weight is not an integer in -253..253: the bfd_instance's own is used, as keepalived does", "write weight N", false)
			} else {
				w = v
			}
			if len(c.Args) > 2 {
				switch c.Args[2] {
				case "reverse":
					rev = true
				case "noreverse":
					rev = false
				default:
					t.note(c, "unknown option "+c.Args[2]+": ignored, as keepalived does", "write reverse or noreverse", false)
					continue
				}
			}
		}
		if slices.ContainsFunc(r.trackBFD, func(x bfdTrack) bool { return x.name == b.name }) {
			t.note(c, "tracked twice: the second is ignored, as keepalived does", "remove it", false)
			continue
		}
		if !r.group && w != 0 && t.groupBFD[r.kaName][c.Key] {
			// vrrp.c add_vrrp_to_track_bfd: the group's weight replaces a
			// member's weighted tracking of the same session.
			t.note(c, "its vrrp_sync_group tracks it too: the group's weight applies, as keepalived does", "remove it from the instance", false)
			continue
		}
		r.trackBFD = append(r.trackBFD, bfdTrack{name: b.name, weight: w, reverse: rev})
	}
}

// bfdBump turns keepalived's track_bfd weights into govrrp's and returns
// what the base priority carries. keepalived adds a positive weight while
// the session is Up and a negative one while it is down, each negated by
// reverse; govrrp adds the weight while the session counts as failed
// (down, or Up when reversed). So each weight becomes -|W| with the same
// reverse, and the base priority carries |W| when keepalived adds it in
// the state govrrp counts as healthy: a positive weight not reversed (+W
// while Up), or a negative one reversed (+|W| while down).
func bfdBump(items []bfdTrack) int {
	bump := 0
	for i := range items {
		it := &items[i]
		w := it.weight
		if w == 0 {
			continue
		}
		if (w > 0) != it.reverse {
			bump += abs(w)
		}
		it.weight = -abs(w)
	}
	return bump
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// tracksBFD reports whether r tracks the session named name.
func tracksBFD(r *router, name string) bool {
	return r != nil && slices.ContainsFunc(r.trackBFD, func(x bfdTrack) bool { return x.name == name })
}

// bfdIface is the interface of a session: that of the first written
// router tracking it, else of the first written member of the first
// vrrp_sync_group tracking it ("" when none).
func (t *translator) bfdIface(routers []*router, name string) string {
	for _, r := range routers {
		if !r.skip && tracksBFD(r, name) {
			return r.iface
		}
	}
	for _, g := range t.groups {
		if !tracksBFD(g.own, name) {
			continue
		}
		for _, m := range g.members {
			for _, r := range routers {
				if !r.skip && r.kaName == m {
					return r.iface
				}
			}
		}
	}
	return ""
}

// untrackedBFD notes the bfd_instance sections no instance or sync group
// tracks: govrrpd needs a session's interface, which the import takes from
// the first instance tracking it, so those are left out.
func (t *translator) untrackedBFD(routers []*router) {
	for _, k := range t.bfdOrder {
		s := t.bfds[k]
		if s.bad || t.bfdIface(routers, s.name) != "" {
			continue
		}
		t.notes = append(t.notes, Note{Pos: s.pos, Keyword: "bfd_instance", Lost: true,
			Why: "no vrrp_instance tracks it, so the import cannot tell its interface: left out",
			Fix: "add it under the top-level bfd: list with its interface (docs/CONFIG.md)"})
	}
}

// renderBFD writes the top-level bfd list: the sessions a written router
// or sync group tracks, on the interface of the first of them (bfdIface).
func (t *translator) renderBFD(b *strings.Builder, routers []*router) {
	first := true
	for _, k := range t.bfdOrder {
		s := t.bfds[k]
		if s.bad {
			continue
		}
		iface := t.bfdIface(routers, s.name)
		if iface == "" {
			continue
		}
		if first {
			b.WriteString("bfd:\n")
			first = false
		}
		fmt.Fprintf(b, "  # bfd_instance %s at %s\n  - name: %s\n    peer: %s\n    interface: %s\n", k, s.pos, q(s.name), s.peer, q(iface))
		if s.local.IsValid() {
			fmt.Fprintf(b, "    local_address: %s\n", s.local)
		}
		fmt.Fprintf(b, "    min_tx: %s\n    min_rx: %s\n    multiplier: %d\n", dur(s.minTx), dur(s.minRx), s.mult)
		if s.passive {
			b.WriteString("    passive: true\n")
		}
	}
}
