package keepalived

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
)

// What keepalived installs while Master besides the advertised addresses,
// its notify scripts and its tracked files, as keepalived 2.2.7 reads them.

// vip is one line of virtual_ipaddress or virtual_ipaddress_excluded.
type vip struct {
	p                 netip.Prefix
	dev, label, scope string
	noTrack           bool
	pos               Pos
}

// route is one line of virtual_routes; numbers are kept as written (decimal).
type route struct {
	to, via, dev, src, table, metric, scope, typ string
	noTrack                                      bool
}

// rule is one line of virtual_rules.
type rule struct {
	from, to, table, priority, iif, oif, fwmark string
	noTrack                                     bool
}

// keepalived's address scopes; "nowhere" has no govrrpd equivalent.
var scopes = map[string]string{"global": "global", "universe": "global", "site": "site", "link": "link", "host": "host"}

// addrList reads the lines of a virtual_ipaddress(_excluded) block:
// ADDR[/LEN] [brd A] [dev D] [scope S] [label L] [peer A] [home] [-nodad]
// [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [use_vmac]
// [preferred_lft N|forever] [track_group G].
func (t *translator) addrList(n *Node) []vip {
	var out []vip
	for _, c := range n.Children {
		p, ok := parsePrefix(c.Key)
		if !ok {
			t.note(c, "not an address", "write ADDR or ADDR/PREFIX", true)
			continue
		}
		a := vip{p: p, pos: c.Pos}
		// Notes name the block and the option, at the address's line.
		note := func(opt, why, fix string) {
			t.notes = append(t.notes, Note{Pos: c.Pos, Keyword: n.Key + " " + opt, Why: why, Fix: fix, Lost: true})
		}
		for i := 0; i < len(c.Args); i++ {
			opt, val := c.Args[i], ""
			switch opt {
			case "no_track":
				a.noTrack = true
				continue
			case "use_vmac", "home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin":
				note(opt, "not supported by govrrp", "remove it; the address is installed without it")
				continue
			}
			if i+1 < len(c.Args) {
				i++
				val = c.Args[i]
			} else {
				note(opt, "no value", "write "+opt+" VALUE")
				continue
			}
			switch opt {
			case "dev":
				a.dev = val
			case "label":
				a.label = val
			case "scope":
				if s, ok := scopes[val]; ok {
					a.scope = s
				} else {
					note("scope", val+": govrrpd knows global, site, link and host", "the address gets scope global; write one of those")
				}
			case "brd":
				note("brd", "the kernel's broadcast address is used", "remove it if it is the standard one")
			default:
				note(opt, "not supported by govrrp", "remove it")
			}
		}
		out = append(out, a)
	}
	return out
}

// rtTables are the tables iproute2 names by default; keepalived reads others
// from /etc/iproute2/rt_tables, which the import does not.
var rtTables = map[string]string{"main": "254", "local": "255", "default": "253"}

func tableArg(s string) (string, bool) {
	if v, ok := rtTables[s]; ok {
		return v, true
	}
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil || v == 0 {
		return "", false
	}
	return strconv.FormatUint(v, 10), true
}

func uintArg(s string) (string, bool) {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(v, 10), true
}

// routeTypes are the types keepalived accepts before the destination; the
// others (local, broadcast, throw...) have no govrrpd form.
var routeTypes = map[string]bool{"unicast": true, "blackhole": true, "unreachable": true, "prohibit": true,
	"local": true, "broadcast": true, "anycast": true, "multicast": true, "throw": true, "nat": true, "xresolve": true}

// routes reads virtual_routes: [src A] [to] [TYPE] PREFIX|default [via|gw A]
// [dev|oif D] [scope S] [table T] [metric|priority|preference N] [no_track],
// and keepalived's other options, which leave the route out with a note.
func (t *translator) routes(r *router, n *Node) {
	for _, c := range n.Children {
		w := append([]string{c.Key}, c.Args...)
		var rt route
		six := false // inet6 given: "default" is ::/0
		bad := ""
		for i := 0; i < len(w) && bad == ""; i++ {
			next := func() string {
				if i+1 < len(w) {
					i++
					return w[i]
				}
				bad = w[i] + " without a value"
				return ""
			}
			switch k := w[i]; k {
			case "inet":
			case "inet6":
				six = true
			case "src":
				rt.src = next()
			case "via", "gw":
				v := next()
				if v == "inet" || v == "inet6" {
					v = next()
				}
				rt.via = v
			case "dev", "oif":
				rt.dev = next()
			case "scope":
				v := next()
				if s, ok := scopes[v]; ok {
					rt.scope = s
				} else if bad == "" {
					bad = "scope " + v + " (govrrpd knows global, site, link and host)"
				}
			case "table":
				v := next()
				if tb, ok := tableArg(v); ok {
					rt.table = tb
				} else if bad == "" {
					bad = "table " + v + " (name tables by number)"
				}
			case "metric", "priority", "preference":
				v := next()
				if m, ok := uintArg(v); ok {
					rt.metric = m
				} else if bad == "" {
					bad = k + " " + v
				}
			case "no_track":
				rt.noTrack = true
			case "protocol":
				next() // govrrpd marks its routes itself
			default:
				if k == "to" {
					i++
				}
				if i < len(w) && routeTypes[w[i]] {
					rt.typ = w[i]
					i++
				}
				if i >= len(w) {
					bad = "no destination"
					break
				}
				d := w[i]
				if d == "default" {
					rt.to = "default"
					break
				}
				p, ok := parsePrefix(d)
				if !ok {
					bad = d
					break
				}
				rt.to = p.String()
				six = six || p.Addr().Is6()
			}
		}
		if bad == "" && rt.to == "" {
			bad = "no destination"
		}
		if bad == "" && rt.typ != "" && rt.typ != "unicast" && rt.typ != "blackhole" && rt.typ != "unreachable" && rt.typ != "prohibit" {
			bad = "route type " + rt.typ
		}
		if bad != "" {
			t.notes = append(t.notes, Note{Pos: c.Pos, Keyword: "virtual_routes", Lost: true,
				Why: "not translated: " + bad + " (govrrpd's routes take to, via, dev, src, table, metric, scope and the types unicast, blackhole, unreachable, prohibit)",
				Fix: "the route is left out; install it from a notify_master hook"})
			continue
		}
		if rt.to == "default" {
			// keepalived's family is the one of the other addresses, else IPv4.
			for _, s := range []string{rt.via, rt.src} {
				if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
					six = true
				}
			}
			rt.to = "0.0.0.0/0"
			if six {
				rt.to = "::/0"
			}
		}
		if rt.typ == "unicast" {
			rt.typ = ""
		}
		r.routes = append(r.routes, rt)
	}
}

// rules reads virtual_rules: [from P|all] [to P|all] [table|lookup T]
// [preference|order|priority N] [fwmark N[/M]] [dev|iif D] [oif D] [no_track],
// and keepalived's other selectors and actions, which leave the rule out.
func (t *translator) rules(r *router, n *Node) {
	for _, c := range n.Children {
		w := append([]string{c.Key}, c.Args...)
		var ru rule
		bad := ""
		for i := 0; i < len(w) && bad == ""; i++ {
			next := func() string {
				if i+1 < len(w) {
					i++
					return w[i]
				}
				bad = w[i] + " without a value"
				return ""
			}
			switch k := w[i]; k {
			case "inet", "inet6":
			case "from", "to":
				v := next()
				if v == "all" || bad != "" {
					break
				}
				p, ok := parsePrefix(v)
				if !ok {
					bad = k + " " + v
					break
				}
				if k == "from" {
					ru.from = p.String()
				} else {
					ru.to = p.String()
				}
			case "table", "lookup":
				v := next()
				if tb, ok := tableArg(v); ok {
					ru.table = tb
				} else if bad == "" {
					bad = "table " + v + " (name tables by number)"
				}
			case "preference", "order", "priority":
				v := next()
				if p, ok := uintArg(v); ok {
					ru.priority = p
				} else if bad == "" {
					bad = k + " " + v
				}
			case "fwmark":
				v := next()
				mark, mask, hasMask := strings.Cut(v, "/")
				m, ok := uintArg(mark)
				if hasMask {
					var ok2 bool
					mask, ok2 = uintArg(mask)
					ok = ok && ok2
					m += "/" + mask
				}
				if ok {
					ru.fwmark = m
				} else if bad == "" {
					bad = "fwmark " + v
				}
			case "dev", "iif":
				ru.iif = next()
			case "oif":
				ru.oif = next()
			case "no_track":
				ru.noTrack = true
			default:
				bad = k
			}
		}
		if bad == "" && ru.table == "" {
			bad = "no table"
		}
		if bad != "" {
			t.notes = append(t.notes, Note{Pos: c.Pos, Keyword: "virtual_rules", Lost: true,
				Why: "not translated: " + bad + " (govrrpd's rules take from, to, table, priority, iif, oif and fwmark, and need a table)",
				Fix: "the rule is left out; install it from a notify_master hook"})
			continue
		}
		r.rules = append(r.rules, ru)
	}
}

// implicitTracking adds what keepalived tracks without being asked: the
// device of a virtual address on another interface, of a virtual route and
// the interfaces of a virtual rule, unless no_track (Fault while it is down).
func (t *translator) implicitTracking(r *router) {
	var devs []string
	for _, l := range [][]vip{r.vips, r.excluded} {
		for _, a := range l {
			if a.dev != "" && a.dev != r.iface && !a.noTrack {
				devs = append(devs, a.dev)
			}
		}
	}
	for _, rt := range r.routes {
		if rt.dev != "" && !rt.noTrack {
			devs = append(devs, rt.dev)
		}
	}
	for _, ru := range r.rules {
		for _, d := range []string{ru.iif, ru.oif} {
			if d != "" && !ru.noTrack {
				devs = append(devs, d)
			}
		}
	}
next:
	for _, d := range devs {
		if d == r.iface {
			continue
		}
		for _, it := range r.trackIfs {
			if it.name == d {
				continue next
			}
		}
		r.trackIfs = append(r.trackIfs, trackItem{name: d})
		t.notes = append(t.notes, Note{Pos: r.pos, Keyword: "track_interface",
			Why: d + " added with weight 0: keepalived puts the instance in Fault while a device its virtual addresses, routes or rules use is down (no_track turns that off)"})
	}
}

// strictFor tells whether strict mode applies to r (before strictMode runs).
func (t *translator) strictFor(r *router) bool {
	if r.strict != nil {
		return *r.strict
	}
	return t.g.strict
}

// hook reads notify_master/backup/fault/stop and the generic notify:
// "COMMAND [ARGS]" [USER [GROUP]]. govrrpd runs them as keepalived does (no
// arguments added; notify_keepalived appends TYPE NAME STATE PRIORITY).
func hook(key string) instKey {
	return func(t *translator, r *router, n *Node) {
		if len(n.Args) == 0 {
			t.note(n, "no command", "write the script's path", true)
			return
		}
		argv := strings.Fields(n.Args[0])
		if !t.command(n, argv, "the hook is left out") {
			return
		}
		switch {
		case len(n.Args) > 3:
			t.note(n, "words after USER GROUP are not translated", "put the whole command line in the quotes", true)
			fallthrough
		case len(n.Args) == 3:
			r.hookAs[key] = runAs{n.Args[1], n.Args[2]}
		case len(n.Args) == 2:
			r.hookAs[key] = runAs{user: n.Args[1]}
		}
		r.hookNodes[key] = n
		if key == "notify_keepalived" && keyName(r.kaName) != r.kaName {
			t.note(n, fmt.Sprintf("the script gets the router's name %s, not %q", keyName(r.kaName), r.kaName), "rename the instance, or adapt the script", true)
		}
		r.hooks[key] = argv
	}
}

// trackFile reads a top-level track_file (vrrp_track_file) section:
// file PATH, weight W [reverse], init_file [VALUE] [overwrite].
func (t *translator) trackFile(n *Node) {
	if len(n.Args) < 1 {
		t.note(n, "no name", "name the track_file", true)
		return
	}
	f := &tfile{weight: 1}
	bad := false
	for _, c := range n.Children {
		switch c.Key {
		case "file":
			f.path = t.strArg(c)
			if !filepath.IsAbs(f.path) {
				t.note(c, "not an absolute path", "write the file's full path; tracking it is dropped", true)
				bad = true
			}
		case "weight":
			w, ok := t.intArg(c, -254, 254)
			if ok {
				f.weight = w
			}
			if len(c.Args) > 1 && c.Args[1] == "reverse" {
				f.reverse = true
			}
		case "init_file":
			lost := len(c.Args) > 0 && c.Args[0] != "0" && c.Args[0] != "overwrite" || len(c.Args) > 1
			t.note(c, "govrrpd does not create the file (a missing file counts as 0 in both)", "create it with its initial value before govrrpd starts", lost)
		default:
			t.note(c, "track_file setting not translated", "remove it", true)
		}
	}
	if f.path == "" && !bad {
		t.note(n, "no file", "add file /path/to/file", true)
		bad = true
	}
	f.bad = bad
	t.files[n.Args[0]] = f
}

// trackFiles reads an instance's track_file block: NAME [weight W [reverse]].
// keepalived looks the name up as it reads the instance, so a track_file
// section must come first.
func (t *translator) trackFiles(r *router, n *Node) {
	for _, c := range n.Children {
		f := t.files[c.Key]
		if f == nil {
			t.note(c, "no track_file of this name before this instance: ignored, as keepalived does", "define the track_file section before the instance", false)
			continue
		}
		if f.bad {
			t.note(c, "its track_file could not be translated: tracking dropped", "see the track_file's note", true)
			continue
		}
		dup := false
		for _, it := range r.trackFiles {
			dup = dup || it.name == f.path
		}
		if dup {
			t.note(c, "tracked twice: ignored, as keepalived does", "remove the duplicate", false)
			continue
		}
		w, rev := f.weight, f.reverse
		if len(c.Args) > 0 {
			if c.Args[0] != "weight" || len(c.Args) < 2 {
				t.note(c, "unknown option "+c.Args[0]+": ignored, as keepalived does", "write weight N", false)
				continue
			}
			v, err := strconv.Atoi(c.Args[1])
			if err != nil || v < -254 || v > 254 {
				t.note(c, "weight is not an integer in -254..254: the track_file's own is used, as keepalived does", "write weight N", false)
			} else {
				w = v
			}
			if len(c.Args) > 2 {
				rev = c.Args[2] == "reverse"
			}
		}
		if rev {
			if w == 0 {
				t.note(c, "reverse with weight 0 (Fault while the value is 0) is not supported by govrrp", "write the opposite value into the file; tracking it is dropped", true)
				continue
			}
			// reverse subtracts V*weight: the same as the opposite weight.
			w = -w
		}
		r.trackFiles = append(r.trackFiles, trackItem{name: f.path, weight: w})
	}
}
