package keepalived

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// render writes the govrrpd YAML. Every key keepalived has a default for is
// written out, so the file says what the pair runs on the wire.
// span is the lines of the YAML one router or script is written on.
type span struct {
	from, to int
	r        *router
	s        *script
}

func (t *translator) render(routers []*router, source, configID string) ([]byte, []span) {
	var b strings.Builder
	var spans []span
	line := func() int { return strings.Count(b.String(), "\n") + 1 }
	fmt.Fprintf(&b, "# govrrpd configuration imported from the keepalived configuration %s", source)
	if configID != "" {
		fmt.Fprintf(&b, " (config-id %s)", configID)
	}
	b.WriteString(" by `govrrp import keepalived`.\n# Check what it printed on stderr: what it could not translate.\n")
	b.WriteString("routers:\n")
	names := map[string]int{}
	rendered := map[string]string{} // keepalived instance name → router name
	for _, r := range routers {
		if r.skip {
			continue
		}
		name := keyName(r.kaName)
		if r.kaName == "" {
			name = fmt.Sprintf("%s-%d", r.iface, r.vrid)
		}
		if names[name]++; names[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, names[name])
		}
		rendered[r.kaName] = name
		from := line()
		fmt.Fprintf(&b, "  # vrrp_instance %s at %s\n", r.kaName, r.pos)
		fmt.Fprintf(&b, "  - name: %s\n", q(name))
		fmt.Fprintf(&b, "    interface: %s\n", q(r.iface))
		fmt.Fprintf(&b, "    vrid: %d\n", r.vrid)
		fmt.Fprintf(&b, "    version: %d\n", r.version)
		fmt.Fprintf(&b, "    priority: %d\n", r.priority)
		fmt.Fprintf(&b, "    advert_interval: %s\n", dur(r.advertDur))
		fmt.Fprintf(&b, "    preempt: %t\n", !r.nopreempt)
		fmt.Fprintf(&b, "    preempt_delay: %s\n", dur(r.preemptDelay))
		fmt.Fprintf(&b, "    accept: %t\n", r.acceptEff)
		if r.strictEff {
			b.WriteString("    strict: true\n")
		}
		fmt.Fprintf(&b, "    reply_lower_priority: %t\n", r.replyLower)
		fmt.Fprintf(&b, "    vmac: %t\n", r.vmac)
		if r.version == 3 && r.vips[0].Addr().Is4() {
			if r.plainChecksum {
				b.WriteString("    checksum: plain # v3_checksum_as_v2\n")
			} else {
				b.WriteString("    checksum: pseudo-header # keepalived's VRRPv3 IPv4 checksum\n")
			}
		}
		if r.authType == "pass" {
			fmt.Fprintf(&b, "    auth: {type: pass, password: %s}\n", strconv.Quote(r.authPass))
		}
		if len(r.peers) > 0 {
			b.WriteString("    unicast_peers: [")
			for i, a := range r.peers {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(a.String())
			}
			b.WriteString("]\n")
		}
		b.WriteString("    addresses: [")
		for i, p := range r.vips {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(prefix(p))
		}
		b.WriteString("]\n")
		if len(r.trackIfs)+len(r.trackScripts) > 0 {
			b.WriteString("    track:\n")
			if len(r.trackIfs) > 0 {
				b.WriteString("      interfaces:\n")
				for _, it := range r.trackIfs {
					fmt.Fprintf(&b, "        - {name: %s, weight: %d}\n", q(it.name), it.weight)
				}
			}
			if len(r.trackScripts) > 0 {
				b.WriteString("      scripts:\n")
				for _, it := range r.trackScripts {
					fmt.Fprintf(&b, "        - {name: %s, weight: %d}\n", q(it.name), it.weight)
				}
			}
		}
		g := r.garp
		fmt.Fprintf(&b, "    announce: {repeat: %d, delay: %s, refresh: %s}\n", g.repeat, dur(g.delay), dur(g.refresh))
		spans = append(spans, span{from: from, to: line() - 1, r: r})
	}
	// vrrp_sync_group → sync_groups, with the members that were written
	// (keepalived drops unknown members from a group too).
	first := true
	for _, g := range t.groups {
		var ms []string
		for _, m := range g.members {
			if name, ok := rendered[m]; ok {
				ms = append(ms, q(name))
			}
		}
		if len(ms) == 0 {
			continue
		}
		if first {
			b.WriteString("sync_groups:\n")
			first = false
		}
		fmt.Fprintf(&b, "  # vrrp_sync_group %s at %s\n  %s: {routers: [%s]}\n", g.name, g.pos, q(g.name), strings.Join(ms, ", "))
	}
	first = true
	for _, k := range t.order {
		s := t.scripts[k]
		if !s.used || s.bad {
			continue
		}
		if first {
			b.WriteString("scripts:\n")
			first = false
		}
		from := line()
		fmt.Fprintf(&b, "  # vrrp_script %s at %s\n", k, s.pos)
		fmt.Fprintf(&b, "  %s:\n    exec: [", q(s.name))
		for i, a := range s.exec {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(a))
		}
		fmt.Fprintf(&b, "]\n    interval: %s\n    timeout: %s\n    rise: %d\n    fall: %d\n", dur(s.interval), dur(s.timeout), s.rise, s.fall)
		spans = append(spans, span{from: from, to: line() - 1, s: s})
	}
	return []byte(b.String()), spans
}

func prefix(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

var plain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// q writes s as a YAML scalar: plain when that cannot be read as anything
// but this string, else double-quoted.
func q(s string) string {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf":
		return strconv.Quote(s)
	}
	if plain.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// dur writes a duration the way docs/CONFIG.md does: 1s, 100ms, 1m30s.
func dur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d%time.Second != 0 && d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.String()
}
