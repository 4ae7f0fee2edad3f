package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// checkRouter applies the rules that tie one router's keys together.
func (p *parser) checkRouter(r *Router, n *yaml.Node, set map[string]*yaml.Node) {
	at := func(key string) *yaml.Node {
		if v := set[key]; v != nil {
			return v
		}
		return n
	}
	if r.Interface == "" && set["interface"] == nil {
		p.Fail(n, "add `interface: eth0` (the interface it runs on)", "router has no interface")
	}
	if set["vrid"] == nil {
		p.Fail(n, "add `vrid: 1..255`", "router has no vrid")
	}
	if len(r.Addresses) == 0 {
		if set["addresses"] == nil {
			p.Fail(n, "add `addresses: [10.77.0.254/24]`", "router has no addresses")
		} else if p.Errs.Len() == 0 {
			p.Fail(at("addresses"), "list at least one virtual address", "addresses is empty")
		}
		return
	}
	if len(r.Addresses) > 255 {
		p.Fail(at("addresses"), "split them over several virtual routers", "%d addresses; an advert carries at most 255", len(r.Addresses))
	}
	r.Family = vrrp.FamilyOf(r.Addresses[0].Addr())
	addrNodes := set["addresses"].Content
	seen := map[string]int{}
	for i, a := range r.Addresses {
		node := addrNodes[min(i, len(addrNodes)-1)]
		if vrrp.FamilyOf(a.Addr()) != r.Family {
			p.Fail(node, "use one router per family (the same vrid may run for both)", "%v is not %v like the first address; a virtual router carries one family", a.Addr(), r.Family)
		}
		if j, dup := seen[a.Addr().String()]; dup {
			p.Fail(node, "remove the duplicate", "%v is listed twice (also item %d)", a.Addr(), j+1)
		}
		seen[a.Addr().String()] = i
	}
	if r.Family == vrrp.IPv6 {
		if r.Version == 2 {
			p.Fail(at("version"), "write `version: 3` (VRRPv2 is IPv4 only)", "a VRRPv2 router cannot carry IPv6 addresses")
		}
		if !r.Addresses[0].Addr().IsLinkLocalUnicast() {
			// RFC 9568 §5.2.9 [E8300]; keepalived accepts such a list and
			// FRR never sends a link-local one, so outside strict the list
			// is sent as written, as the receive side takes it [IMPL-8].
			fix := fmt.Sprintf("put the virtual link-local address first, e.g. fe80::%x:%x", r.VRID, r.VRID)
			if r.Strict {
				p.Fail(addrNodes[0], fix, "an IPv6 address list must start with the virtual link-local address (RFC 9568 §5.2.9)")
			} else {
				p.warn(addrNodes[0], fix+" (peers that check it, e.g. with `strict: true`, drop these adverts); sent as written", "the IPv6 address list does not start with a link-local address (RFC 9568 §5.2.9)")
			}
		}
	}
	if r.Name == "" {
		r.Name = fmt.Sprintf("%s-%d-%v", r.Interface, r.VRID, r.Family)
	} else if !nameRE.MatchString(r.Name) {
		p.Fail(at("name"), "use letters, digits, '.', '_' and '-' (names appear in URLs and metrics)", "name %q has characters that are not allowed", r.Name)
	}
	switch r.Version {
	case 3:
		if r.AdvertInterval%(10*time.Millisecond) != 0 || r.AdvertInterval > 4095*10*time.Millisecond {
			p.Fail(at("advert_interval"), "write 10ms..40.95s in 10ms steps", "advert_interval %v is not a VRRPv3 interval", r.AdvertInterval)
		}
		if set["auth"] != nil {
			p.Fail(set["auth"], "remove it, or write `version: 2` (VRRPv3 has no authentication)", "auth is VRRPv2 only")
		}
	case 2:
		if r.AdvertInterval%time.Second != 0 || r.AdvertInterval < time.Second {
			p.Fail(at("advert_interval"), fmt.Sprintf("write whole seconds, e.g. %v, or `version: 3` for sub-second adverts", max(r.AdvertInterval.Round(time.Second), time.Second)), "advert_interval %v: VRRPv2 counts in whole seconds", r.AdvertInterval)
		}
		if set["checksum"] != nil {
			p.Fail(set["checksum"], "remove it: VRRPv2 checksums never cover a pseudo-header", "checksum is for VRRPv3 over IPv4")
		}
	}
	if r.Family == vrrp.IPv6 && set["checksum"] != nil {
		p.Fail(set["checksum"], "remove it: VRRPv3 over IPv6 always uses the IPv6 pseudo-header", "checksum is for VRRPv3 over IPv4")
	}
	if r.AuthType == vrrp.AuthPassword && r.AuthPassword == "" {
		p.Fail(at("auth"), "add `password: ...` (1 to 8 characters)", "auth type pass needs a password")
	}
	if r.AuthType != vrrp.AuthPassword && r.AuthPassword != "" {
		p.Fail(at("auth"), "add `type: pass`", "a password without `type: pass` would not be sent")
	}
	if src := r.UnicastSource; set["unicast_source"] != nil && src.IsValid() {
		n := set["unicast_source"]
		switch {
		case len(r.UnicastPeers) == 0:
			p.Fail(n, "add `unicast_peers: [...]`, or remove it (multicast adverts leave from the interface's own address)", "unicast_source without unicast_peers")
		case vrrp.FamilyOf(src) != r.Family:
			p.Fail(n, "write an address of the interface in the addresses' family", "unicast_source %v is not %v", src, r.Family)
		case src.Zone() != "" || src.IsMulticast() || src.IsUnspecified() || src.IsLoopback():
			p.Fail(n, "write one of the interface's own unicast addresses, without a %zone", "unicast_source %v cannot be the source of adverts", src)
		case slices.Contains(r.VIPs(), src):
			p.Fail(n, "write an address of the interface that is not virtual: a Backup has no VIP to send from", "unicast_source %v is one of the router's virtual addresses", src)
		}
	}
	if src := r.MulticastSource; set["multicast_source"] != nil && src.IsValid() {
		n := set["multicast_source"]
		switch {
		case len(r.UnicastPeers) > 0:
			p.Fail(n, "write it as unicast_source: unicast adverts leave from that", "multicast_source with unicast_peers")
		case vrrp.FamilyOf(src) != r.Family:
			p.Fail(n, "write an address of the interface in the addresses' family", "multicast_source %v is not %v", src, r.Family)
		case src.Zone() != "" || src.IsMulticast() || src.IsUnspecified() || src.IsLoopback():
			p.Fail(n, "write one of the interface's own unicast addresses, without a %zone", "multicast_source %v cannot be the source of adverts", src)
		case slices.Contains(r.VIPs(), src):
			p.Fail(n, "write an address of the interface that is not virtual: a Backup has no VIP to send from", "multicast_source %v is one of the router's virtual addresses", src)
		case src.Is6() && !src.IsLinkLocalUnicast():
			// [5798-5.1.2.1-a]: an IPv6 advert's source is the interface's link-local.
			p.Fail(n, "write one of the interface's fe80:: link-local addresses", "multicast_source %v is not a link-local address: IPv6 adverts leave from the interface's link-local (RFC 5798 §5.1.2.1)", src)
		case src.Is6() && r.VMAC:
			p.Fail(n, "remove it: the VMAC's adverts leave from a random link-local of its own, so that routers never share one", "multicast_source with vmac on IPv6")
		}
	}
	for i, peer := range r.UnicastPeers {
		if vrrp.FamilyOf(peer) != r.Family {
			p.Fail(set["unicast_peers"].Content[i], "list peers of the addresses' family", "unicast peer %v is not %v", peer, r.Family)
		}
	}
}

// crossCheck applies the rules between routers and scripts.
func (p *parser) crossCheck(c *Config) {
	type key struct {
		ifname string
		vrid   uint8
		fam    vrrp.Family
	}
	byKey := map[key]*Router{}
	byName := map[string]*Router{}
	// A virtual address in two routers would be installed by one and
	// deleted by the other as they change state independently.
	type vipAt struct {
		router int
		pos    Pos
	}
	type vipKey struct {
		addr   netip.Addr
		ifname string // for a link-local address, which is one per link
	}
	byVIP := map[vipKey]vipAt{}
	// Likewise a route or rule in two routers (routes.go).
	byRoute, byRule := map[Route]vipAt{}, map[Rule]vipAt{}
	for i := range c.Routers {
		r := &c.Routers[i]
		keys := p.routerKeys[i]
		at := func(k string) *yaml.Node {
			if v := keys[k]; v != nil {
				return v
			}
			return &yaml.Node{Line: r.Pos.Line, Column: r.Pos.Col}
		}
		if r.Interface != "" && r.VRID != 0 && r.Family != 0 {
			k := key{r.Interface, r.VRID, r.Family}
			if other := byKey[k]; other != nil {
				p.Fail(at("vrid"), fmt.Sprintf("pick another vrid, or merge it with %q (line %d)", other.Name, other.Pos.Line), "interface %s VRID %d %v is already used", r.Interface, r.VRID, r.Family)
			} else {
				byKey[k] = r
			}
		}
		if other := byName[r.Name]; other != nil && r.Name != "" {
			p.Fail(at("name"), "give each router its own name", "name %q is already used at line %d", r.Name, other.Pos.Line)
		} else {
			byName[r.Name] = r
		}
		for j, a := range r.Addresses {
			pos := r.addrPos(j)
			k := vipKey{addr: a.Addr()}
			if a.Addr().IsLinkLocalUnicast() {
				k.ifname = r.Interface
			}
			if first, dup := byVIP[k]; dup {
				if first.router != i { // twice in one router is checkRouter's
					p.Errs.Add(&Error{Pos: pos, What: fmt.Sprintf("%v is also a virtual address of %q at %s", a.Addr(), c.Routers[first.router].Name, first.pos), Fix: "give each address to one virtual router"})
				}
				continue
			}
			byVIP[k] = vipAt{i, pos}
		}
		for j, a := range r.Excluded {
			pos := r.excludedPos(j)
			k := vipKey{addr: a.Addr()}
			if a.Addr().IsLinkLocalUnicast() {
				k.ifname = r.AddrDev(a.Addr())
			}
			if first, dup := byVIP[k]; dup {
				if first.router != i {
					p.Errs.Add(&Error{Pos: pos, What: fmt.Sprintf("%v is also an address of %q at %s", a.Addr(), c.Routers[first.router].Name, first.pos), Fix: "give each address to one virtual router"})
				}
				continue
			}
			byVIP[k] = vipAt{i, pos}
		}
		for _, rt := range r.Routes {
			k := rt
			k.Pos = Pos{}
			if first, dup := byRoute[k]; dup && first.router != i {
				p.Errs.Add(&Error{Pos: rt.Pos, What: fmt.Sprintf("the route to %v is also one of %q at %s", rt.To, c.Routers[first.router].Name, first.pos), Fix: "give each route to one virtual router"})
			} else if !dup {
				byRoute[k] = vipAt{i, rt.Pos}
			}
		}
		for _, ru := range r.Rules {
			k := ru
			k.Pos = Pos{}
			if first, dup := byRule[k]; dup && first.router != i {
				p.Errs.Add(&Error{Pos: ru.Pos, What: fmt.Sprintf("this rule is also one of %q at %s", c.Routers[first.router].Name, first.pos), Fix: "give each rule to one virtual router"})
			} else if !dup {
				byRule[k] = vipAt{i, ru.Pos}
			}
		}
		if n := keys["track"]; n != nil {
			for _, t := range r.Track.Scripts {
				if _, ok := c.Scripts[t.Name]; !ok && t.Name != "" {
					p.Fail(n, fmt.Sprintf("define it under `scripts: {%s: {exec: [...]}}`", t.Name), "tracked script %q is not defined", t.Name)
				}
			}
		}
		p.checkTrackBFD(c, r.Track.BFD, "")
	}
	p.checkSyncGroups(c)
}

// checkTrackBFD refuses tracked BFD sessions that the top-level bfd list
// does not define; group names the sync group they come from, if any.
func (p *parser) checkTrackBFD(c *Config, items []TrackBFD, group string) {
	for _, t := range items {
		if t.Name == "" || slices.ContainsFunc(c.BFD, func(s BFDSession) bool { return s.Name == t.Name }) {
			continue
		}
		names := make([]string, 0, len(c.BFD))
		for _, s := range c.BFD {
			names = append(names, s.Name)
		}
		fix := fmt.Sprintf("define it under the top-level `bfd:` list (`- {name: %s, peer: ADDRESS, interface: IFNAME}`)", t.Name)
		if s := yamlwalk.Closest(t.Name, names); s != "" {
			fix = fmt.Sprintf("did you mean %q?", s)
		}
		what := fmt.Sprintf("tracked BFD session %q is not defined", t.Name)
		if group != "" {
			what = fmt.Sprintf("sync group %q: %s", group, what)
		}
		p.Errs.Add(&Error{Pos: t.Pos, What: what, Fix: fix})
	}
}

// checkSyncGroups resolves the members of each sync group and gives each
// member the group's tracked objects, as keepalived applies a group's
// track_interface/track_script to every member: a failure with weight 0
// puts every member in Fault, and so the whole group.
func (p *parser) checkSyncGroups(c *Config) {
	byName := make(map[string]int, len(c.Routers))
	for i := range c.Routers {
		byName[c.Routers[i].Name] = i
	}
	inGroup := map[string]string{}
	for gi := range c.SyncGroups {
		g := &c.SyncGroups[gi]
		at := &yaml.Node{Line: g.Pos.Line, Column: g.Pos.Col}
		for _, m := range g.Routers {
			i, ok := byName[m]
			switch {
			case !ok:
				// In file order: the first of equally close names wins,
				// the same one every time.
				names := make([]string, 0, len(c.Routers))
				for _, r := range c.Routers {
					names = append(names, r.Name)
				}
				fix := "name a router of `routers:` (its `name:`, or <interface>-<vrid>-<family>)"
				if s := yamlwalk.Closest(m, names); s != "" {
					fix = fmt.Sprintf("did you mean %q?", s)
				}
				p.Fail(at, fix, "sync group %q: no router is named %q", g.Name, m)
				continue
			case inGroup[m] != "":
				if inGroup[m] == g.Name {
					p.Fail(at, "list it once", "sync group %q lists router %q twice", g.Name, m)
				} else {
					p.Fail(at, "keep it in one group (keepalived ignores the second too)", "router %q is in sync groups %q and %q", m, inGroup[m], g.Name)
				}
				continue
			}
			inGroup[m] = g.Name
			r := &c.Routers[i]
			r.Track.Interfaces = append(r.Track.Interfaces, g.Track.Interfaces...)
			r.Track.Scripts = append(r.Track.Scripts, g.Track.Scripts...)
			r.Track.Files = append(r.Track.Files, g.Track.Files...)
			r.Track.BFD = append(r.Track.BFD, g.Track.BFD...)
		}
		p.checkTrackBFD(c, g.Track.BFD, g.Name)
		for _, t := range g.Track.Scripts {
			if _, ok := c.Scripts[t.Name]; !ok && t.Name != "" {
				p.Fail(at, fmt.Sprintf("define it under `scripts: {%s: {exec: [...]}}`", t.Name), "sync group %q: tracked script %q is not defined", g.Name, t.Name)
			}
		}
	}
}
