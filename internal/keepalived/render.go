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
	if a := t.notifyAs; a.user != "" && !t.noUsers {
		fmt.Fprintf(&b, "notify_user: %s # script_user, or the notify scripts' USER\n", q(a.user))
		if a.group != "" {
			fmt.Fprintf(&b, "notify_group: %s\n", q(a.group))
		}
	}
	if t.g.agentx != "" {
		fmt.Fprintf(&b, "snmp_agentx: %s\n", q(t.g.agentx))
	}
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
		if r.version == 3 && r.vips[0].p.Addr().Is4() {
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
		if r.unicastSrc.IsValid() && len(r.peers) > 0 {
			fmt.Fprintf(&b, "    unicast_source: %s\n", r.unicastSrc)
		} else if r.unicastSrc.IsValid() {
			fmt.Fprintf(&b, "    multicast_source: %s\n", r.unicastSrc)
		}
		addrs(&b, "addresses", r.vips, r.iface)
		addrs(&b, "excluded_addresses", r.excluded, r.iface)
		if len(r.routes) > 0 {
			b.WriteString("    routes:\n")
			for _, rt := range r.routes {
				mapping(&b, "to", rt.to, "via", rt.via, "dev", rt.dev, "src", rt.src, "table", rt.table, "metric", rt.metric, "scope", rt.scope, "type", rt.typ)
			}
		}
		if len(r.rules) > 0 {
			b.WriteString("    rules:\n")
			for _, ru := range r.rules {
				mapping(&b, "from", ru.from, "to", ru.to, "table", ru.table, "priority", ru.priority, "iif", ru.iif, "oif", ru.oif, "fwmark", ru.fwmark)
			}
		}
		tracking(&b, r, "    ")
		hooks(&b, r, "    ")
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
		fmt.Fprintf(&b, "  # vrrp_sync_group %s at %s\n  %s:\n    routers: [%s]\n", g.name, g.pos, q(g.name), strings.Join(ms, ", "))
		if g.own != nil {
			tracking(&b, g.own, "    ")
			hooks(&b, g.own, "    ")
		}
	}
	t.renderBFD(&b, routers)
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
		fmt.Fprintf(&b, "  %s:\n    exec: %s\n", q(s.name), list(s.exec))
		fmt.Fprintf(&b, "    interval: %s\n    timeout: %s\n    rise: %d\n    fall: %d\n", dur(s.interval), dur(s.timeout), s.rise, s.fall)
		if s.initUnknown {
			b.WriteString("    init: unknown # keepalived's start without init_fail\n")
		}
		if s.user != "" && !t.noUsers {
			fmt.Fprintf(&b, "    user: %s\n", q(s.user))
		}
		if s.group != "" && !t.noUsers {
			fmt.Fprintf(&b, "    group: %s\n", q(s.group))
		}
		spans = append(spans, span{from: from, to: line() - 1, s: s})
	}
	return []byte(b.String()), spans
}

// list writes strings as a YAML flow list of quoted strings.
func list(l []string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, a := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(a))
	}
	b.WriteString("]")
	return b.String()
}

// addrs writes an address list: plain items, or a mapping for an address
// with a device, label or scope.
func addrs(b *strings.Builder, key string, l []vip, iface string) {
	if len(l) == 0 {
		return
	}
	plainList := true
	for _, a := range l {
		plainList = plainList && (a.dev == "" || a.dev == iface) && a.label == "" && a.scope == ""
	}
	if plainList {
		fmt.Fprintf(b, "    %s: [", key)
		for i, a := range l {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(prefix(a.p))
		}
		b.WriteString("]\n")
		return
	}
	fmt.Fprintf(b, "    %s:\n", key)
	for _, a := range l {
		dev := a.dev
		if dev == iface {
			dev = ""
		}
		if dev == "" && a.label == "" && a.scope == "" {
			fmt.Fprintf(b, "      - %s\n", prefix(a.p))
			continue
		}
		mapping(b, "address", prefix(a.p), "dev", dev, "label", a.label, "scope", a.scope)
	}
}

// mapping writes "    - {k: v, ...}" with the non-empty values; numbers
// plain, the rest quoted when they need it.
func mapping(b *strings.Builder, kv ...string) {
	b.WriteString("      - {")
	sep := ""
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" {
			continue
		}
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			v = q(v)
		}
		fmt.Fprintf(b, "%s%s: %s", sep, kv[i], v)
		sep = ", "
	}
	b.WriteString("}\n")
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

// tracking writes a router's or a sync group's track mapping, indented by
// ind.
func tracking(b *strings.Builder, r *router, ind string) {
	if len(r.trackIfs)+len(r.trackScripts)+len(r.trackFiles)+len(r.trackBFD) == 0 {
		return
	}
	b.WriteString(ind + "track:\n")
	if len(r.trackIfs) > 0 {
		b.WriteString(ind + "  interfaces:\n")
		for _, it := range r.trackIfs {
			fmt.Fprintf(b, "%s    - {name: %s, weight: %d}\n", ind, q(it.name), it.weight)
		}
	}
	if len(r.trackScripts) > 0 {
		b.WriteString(ind + "  scripts:\n")
		for _, it := range r.trackScripts {
			fmt.Fprintf(b, "%s    - {name: %s, weight: %d}\n", ind, q(it.name), it.weight)
		}
	}
	if len(r.trackFiles) > 0 {
		b.WriteString(ind + "  files:\n")
		for _, it := range r.trackFiles {
			fmt.Fprintf(b, "%s    - {path: %s, weight: %d}\n", ind, strconv.Quote(it.name), it.weight)
		}
	}
	if len(r.trackBFD) > 0 {
		b.WriteString(ind + "  bfd:\n")
		for _, it := range r.trackBFD {
			rev := ""
			if it.reverse {
				rev = ", reverse: true"
			}
			fmt.Fprintf(b, "%s    - {name: %s, weight: %d%s}\n", ind, q(it.name), it.weight, rev)
		}
	}
}

// hookKeys are the hooks' keys, in the order they are written.
var hookKeys = []string{"notify_master", "notify_backup", "notify_fault", "notify_stop", "notify_keepalived"}

// hooks writes keepalived's notify scripts of a router or a sync group.
func hooks(b *strings.Builder, r *router, ind string) {
	for _, k := range hookKeys {
		if argv := r.hooks[k]; argv != nil {
			fmt.Fprintf(b, "%s%s: [%s]\n", ind, k, list(argv))
		}
	}
}
