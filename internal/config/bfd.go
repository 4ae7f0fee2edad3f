package config

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/internal/yamlwalk"
)

// BFD session defaults (Schema documents them): FRR's.
const (
	DefaultBFDInterval   = 300 * time.Millisecond
	DefaultBFDMultiplier = 3
	maxBFDSessions       = 1024
)

// bfdSessions reads the top-level bfd list.
func (p *parser) bfdSessions(n *yaml.Node) []BFDSession {
	items := p.Seq(n, "bfd")
	if len(items) > maxBFDSessions {
		p.Fail(n, fmt.Sprintf("configure at most %d sessions", maxBFDSessions), "%d BFD sessions", len(items))
		return nil
	}
	var out []BFDSession
	names := map[string]int{}
	peers := map[[2]string]int{}
	for i, item := range items {
		s, ok := p.bfdSession(item)
		if !ok {
			continue
		}
		if j, dup := names[s.Name]; dup {
			p.Fail(item, "give each session its own name", "BFD session name %q is used twice (also item %d)", s.Name, j+1)
			continue
		}
		key := [2]string{s.Interface, s.Peer.String()}
		if j, dup := peers[key]; dup {
			p.Fail(item, "remove one: a peer has one session per interface", "BFD peer %v on %s is configured twice (also item %d)", s.Peer, s.Interface, j+1)
			continue
		}
		names[s.Name], peers[key] = i, i
		out = append(out, s)
	}
	return out
}

func (p *parser) bfdSession(n *yaml.Node) (BFDSession, bool) {
	s := BFDSession{MinTx: DefaultBFDInterval, MinRx: DefaultBFDInterval, Multiplier: DefaultBFDMultiplier, Pos: p.Pos(n)}
	set := map[string]*yaml.Node{}
	ok := true
	p.mapping(n, "bfd[]", func(k, v *yaml.Node) {
		set[k.Value] = v
		switch k.Value {
		case "name":
			s.Name = p.Str(v)
			if !nameRE.MatchString(s.Name) {
				p.Fail(v, "use letters, digits, '.', '_' and '-' (names appear in logs and metrics)", "BFD session name %q has characters that are not allowed", s.Name)
				ok = false
			}
		case "peer":
			s.Peer, _ = p.Addr(v)
			if s.Peer.IsValid() && (s.Peer.IsMulticast() || s.Peer.IsUnspecified()) {
				p.Fail(v, "write the neighbour's unicast address", "BFD peer %v is not a unicast address", s.Peer)
			}
		case "interface":
			s.Interface = p.Str(v)
		case "local_address":
			s.Local, _ = p.Addr(v)
		case "min_tx":
			s.MinTx = p.bfdInterval(v)
		case "min_rx":
			s.MinRx = p.bfdInterval(v)
		case "multiplier":
			s.Multiplier = uint8(p.Int(v, 1, 255, "write 1..255 (3 is usual)"))
		case "passive":
			s.Passive = p.Bool(v)
		}
	})
	if n.Kind != yaml.MappingNode {
		return s, false
	}
	for _, k := range []struct{ key, fix string }{
		{"name", "add `name: NAME`"}, {"peer", "add `peer: ADDRESS`, the neighbour's address"},
		{"interface", "add `interface: IFNAME`, where the neighbour is"},
	} {
		if set[k.key] == nil {
			p.Fail(n, k.fix, "BFD session without %s", k.key)
			ok = false
		}
	}
	if s.Local.IsValid() && s.Peer.IsValid() && s.Local.Is4() != s.Peer.Is4() {
		p.Fail(set["local_address"], fmt.Sprintf("write an address of the peer's family (%v)", s.Peer), "local_address %v and peer %v are of different families", s.Local, s.Peer)
		ok = false
	}
	return s, ok && s.Peer.IsValid()
}

// bfdInterval reads min_tx or min_rx: on the wire in microseconds.
func (p *parser) bfdInterval(v *yaml.Node) time.Duration {
	d := p.Duration(v, 10*time.Millisecond, time.Minute)
	if d%time.Microsecond != 0 {
		p.Fail(v, fmt.Sprintf("write whole microseconds, e.g. %v", d.Truncate(time.Microsecond)), "BFD intervals are carried in microseconds: %v is not", d)
	}
	return d
}

// bfdWarnings are what the host says about the BFD sessions: an interface
// that does not exist, or lacks the session's local address, leaves the
// session waiting until they appear.
func bfdWarnings(c *Config, byName map[string]*Interface) []*Error {
	var out []*Error
	for _, s := range c.BFD {
		ifi := byName[s.Interface]
		switch {
		case ifi == nil:
			out = append(out, &Error{Pos: s.Pos, What: yamlwalk.Clip(fmt.Sprintf("BFD session %s: interface %q: %v", s.Name, s.Interface, ErrNoInterface)),
				Fix: "the session waits and starts when the interface appears; check the name (ip link lists them)"})
		case s.Local.IsValid() && !slices.ContainsFunc(ifi.Addrs, func(p netip.Prefix) bool { return p.Addr() == s.Local }):
			out = append(out, &Error{Pos: s.Pos, What: yamlwalk.Clip(fmt.Sprintf("BFD session %s: local_address %v is not an address of %s", s.Name, s.Local, s.Interface)),
				Fix: "add it to the interface, or write one it has; the session waits and starts when it appears"})
		}
	}
	return out
}
