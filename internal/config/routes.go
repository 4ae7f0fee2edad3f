package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Route is a route a router installs while Master (keepalived
// virtual_routes).
type Route struct {
	To     netip.Prefix
	Via    netip.Addr
	Dev    string
	Src    netip.Addr
	Table  uint32 // 0: main
	Metric uint32
	Scope  string // "": the kernel's default; global | site | link | host
	Type   string // "": unicast; unicast | blackhole | unreachable | prohibit
	Pos    Pos

	isDefault bool // `to: default`: the family is the router's
}

// Rule is a policy routing rule a router installs while Master (keepalived
// virtual_rules).
type Rule struct {
	Family   vrrp.Family
	From, To netip.Prefix // zero: any
	Table    uint32
	Priority uint32 // 0: the kernel picks one
	IIF, OIF string
	Mark     uint32
	Mask     uint32 // 0: no mask given (all bits)
	HasMark  bool
	Pos      Pos
}

// maxRoutes bounds routes and rules per router, as addresses are.
const maxRoutes = 255

func (p *parser) uint32(n *yaml.Node, lo uint64, fix string) uint32 {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.Fail(n, fix, "expected a whole number, got %s", yamlwalk.KindName(n))
		return 0
	}
	v, err := strconv.ParseUint(n.Value, 0, 32)
	if err != nil || v < lo {
		p.Fail(n, fix, "%s is out of range %d..%d", n.Value, lo, uint32(1<<32-1))
		return 0
	}
	return uint32(v)
}

func (p *parser) routes(n *yaml.Node) []Route {
	items := p.Seq(n, "routers[].routes")
	if len(items) > maxRoutes {
		p.Fail(n, "split them over several routers", "%d routes; at most %d per router", len(items), maxRoutes)
		return nil
	}
	var out []Route
	for _, item := range items {
		rt := Route{Pos: p.Pos(item)}
		set := map[string]*yaml.Node{}
		p.mapping(item, "routers[].routes[]", func(k, v *yaml.Node) {
			set[k.Value] = v
			switch k.Value {
			case "to":
				if v.Kind == yaml.ScalarNode && v.Value == "default" {
					rt.isDefault = true
				} else if pfx, ok := p.Prefix(v); ok {
					if pfx.Masked() != pfx {
						p.Fail(v, fmt.Sprintf("write %v", pfx.Masked()), "%v has host bits set", pfx)
					}
					rt.To = pfx.Masked()
				}
			case "via":
				rt.Via, _ = p.Addr(v)
			case "src":
				rt.Src, _ = p.Addr(v)
			case "dev":
				rt.Dev = p.Str(v)
			case "table":
				rt.Table = p.uint32(v, 1, "write a table number, e.g. 254 (main) or 100")
			case "metric":
				rt.Metric = p.uint32(v, 0, "write 0..4294967295")
			case "scope":
				rt.Scope = p.OneOf(v, "global", "site", "link", "host")
			case "type":
				rt.Type = p.OneOf(v, "unicast", "blackhole", "unreachable", "prohibit")
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if set["to"] == nil {
			p.Fail(item, "add `to: 10.78.0.0/16` (or `to: default`)", "route has no destination")
			continue
		}
		fam := vrrp.FamilyOf(rt.To.Addr())
		if rt.isDefault {
			fam = 0
		}
		for _, k := range []string{"via", "src"} {
			a := rt.Via
			if k == "src" {
				a = rt.Src
			}
			if !a.IsValid() {
				continue
			}
			if fam == 0 {
				fam = vrrp.FamilyOf(a)
			} else if vrrp.FamilyOf(a) != fam {
				p.Fail(set[k], "use addresses of the destination's family", "%s %v is not %v", k, a, fam)
			}
		}
		switch rt.Type {
		case "", "unicast":
			if !rt.Via.IsValid() && rt.Dev == "" {
				p.Fail(item, "add `via: GATEWAY` or `dev: IF`", "a unicast route needs a gateway or a device")
			}
		default:
			if set["via"] != nil || set["dev"] != nil {
				p.Fail(item, "remove via and dev", "a %s route goes nowhere: it takes no via or dev", rt.Type)
			}
		}
		out = append(out, rt)
	}
	return out
}

func (p *parser) rules(n *yaml.Node) []Rule {
	items := p.Seq(n, "routers[].rules")
	if len(items) > maxRoutes {
		p.Fail(n, "split them over several routers", "%d rules; at most %d per router", len(items), maxRoutes)
		return nil
	}
	var out []Rule
	for _, item := range items {
		ru := Rule{Pos: p.Pos(item)}
		set := map[string]*yaml.Node{}
		p.mapping(item, "routers[].rules[]", func(k, v *yaml.Node) {
			set[k.Value] = v
			switch k.Value {
			case "from", "to":
				pfx, ok := p.Prefix(v)
				if !ok {
					return
				}
				if pfx.Masked() != pfx {
					p.Fail(v, fmt.Sprintf("write %v", pfx.Masked()), "%v has host bits set", pfx)
				}
				if k.Value == "from" {
					ru.From = pfx.Masked()
				} else {
					ru.To = pfx.Masked()
				}
			case "table":
				ru.Table = p.uint32(v, 1, "write a table number, e.g. 100")
			case "priority":
				ru.Priority = p.uint32(v, 1, "write 1..32765")
				if ru.Priority > 32765 {
					p.Fail(v, "write 1..32765 (32766 and 32767 are the main and default tables' rules)", "priority %d is out of range", ru.Priority)
				}
			case "iif":
				ru.IIF = p.Str(v)
			case "oif":
				ru.OIF = p.Str(v)
			case "fwmark":
				ru.Mark, ru.Mask, ru.HasMark = p.fwmark(v)
			}
		})
		if item.Kind != yaml.MappingNode {
			continue
		}
		if set["table"] == nil {
			p.Fail(item, "add `table: 100` (the table looked up when it matches)", "rule has no table")
		}
		if ru.From.IsValid() && ru.To.IsValid() && ru.From.Addr().Is4() != ru.To.Addr().Is4() {
			p.Fail(set["to"], "use prefixes of one family", "to %v is not the family of from %v", ru.To, ru.From)
		}
		switch {
		case ru.From.IsValid():
			ru.Family = vrrp.FamilyOf(ru.From.Addr())
		case ru.To.IsValid():
			ru.Family = vrrp.FamilyOf(ru.To.Addr())
		}
		out = append(out, ru)
	}
	return out
}

// fwmark reads N or N/MASK.
func (p *parser) fwmark(n *yaml.Node) (mark, mask uint32, ok bool) {
	s := p.Str(n)
	if n.Kind != yaml.ScalarNode {
		return 0, 0, false
	}
	m, k, hasMask := strings.Cut(s, "/")
	mv, err := strconv.ParseUint(m, 0, 32)
	if err == nil && hasMask {
		var kv uint64
		kv, err = strconv.ParseUint(k, 0, 32)
		mask = uint32(kv)
	}
	if err != nil {
		p.Fail(n, "write a number or number/mask, e.g. 1 or 0x10/0xff", "%q is not a firewall mark", s)
		return 0, 0, false
	}
	return uint32(mv), mask, true
}

// checkRoutes completes the routes and rules of r once its family is known:
// `to: default` and rules without prefixes take the router's family.
func (p *parser) checkRoutes(r *Router) {
	for i := range r.Routes {
		rt := &r.Routes[i]
		if rt.isDefault {
			fam := r.Family
			if rt.Via.IsValid() {
				fam = vrrp.FamilyOf(rt.Via)
			} else if rt.Src.IsValid() {
				fam = vrrp.FamilyOf(rt.Src)
			}
			if fam == vrrp.IPv6 {
				rt.To = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			} else {
				rt.To = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			}
			rt.isDefault = false
		}
	}
	for i := range r.Rules {
		if r.Rules[i].Family == 0 {
			r.Rules[i].Family = r.Family
		}
	}
}

// routeDevWarnings warns about the devices that r's routes and rules name
// and the host lacks: like a missing interface, it can work later (the
// route is refused by the kernel, and logged, until it appears).
func routeDevWarnings(r *Router, byName map[string]*Interface) []*Error {
	var out []*Error
	missing := func(pos Pos, key, dev string) {
		if dev != "" && byName[dev] == nil {
			out = append(out, &Error{Pos: pos, What: yamlwalk.Clip(fmt.Sprintf("%s %q: %v", key, dev, ErrNoInterface)), Fix: "check the name (ip link lists them); until it exists, installing this entry fails and is logged"})
		}
	}
	for i, a := range r.Addresses {
		missing(r.addrPos(i), fmt.Sprintf("the device of %v", a.Addr()), r.AddrOpts[a.Addr()].Dev)
	}
	for i, a := range r.Excluded {
		missing(r.excludedPos(i), fmt.Sprintf("the device of %v", a.Addr()), r.AddrOpts[a.Addr()].Dev)
	}
	for _, rt := range r.Routes {
		missing(rt.Pos, "route dev", rt.Dev)
	}
	for _, ru := range r.Rules {
		missing(ru.Pos, "rule iif", ru.IIF)
		missing(ru.Pos, "rule oif", ru.OIF)
	}
	return out
}

// AddrOpts places an address on a device other than the router's
// interface, with a label and a scope (keepalived's dev, label, scope).
type AddrOpts struct {
	Dev   string // "": the router's interface
	Label string // IPv4 only
	Scope string // "": global; global | site | link | host
}

// maxLabel is the kernel's IFNAMSIZ less its NUL: a longer label is refused.
const maxLabel = 15

// addrItem reads an address item: a string A[/P], or a mapping {address,
// dev, label, scope}, whose options go in r.AddrOpts.
func (p *parser) addrItem(r *Router, n *yaml.Node, path string) (netip.Prefix, bool) {
	if n.Kind != yaml.MappingNode {
		return p.Prefix(n)
	}
	var pfx netip.Prefix
	var o AddrOpts
	var addrNode, labelNode *yaml.Node
	ok := false
	p.mapping(n, path, func(k, v *yaml.Node) {
		switch k.Value {
		case "address":
			addrNode = v
			pfx, ok = p.Prefix(v)
		case "dev":
			o.Dev = p.Str(v)
		case "label":
			o.Label, labelNode = p.Str(v), v
		case "scope":
			o.Scope = p.OneOf(v, "global", "site", "link", "host")
		}
	})
	if addrNode == nil {
		p.Fail(n, "add `address: 10.77.0.254/24`", "address item has no address")
		return pfx, false
	}
	if !ok {
		return pfx, false
	}
	if labelNode != nil {
		dev := o.Dev
		if dev == "" {
			// The router's interface, which may be written after the
			// addresses: checked once the router is read.
			p.labels = append(p.labels, pendingLabel{labelNode, o.Label})
		}
		switch {
		case !pfx.Addr().Is4():
			p.Fail(labelNode, "remove the label: Linux labels IPv4 addresses only", "label on IPv6 address %v", pfx.Addr())
		case len(o.Label) > maxLabel:
			p.Fail(labelNode, fmt.Sprintf("write at most %d characters", maxLabel), "label %q is %d characters long", o.Label, len(o.Label))
		case dev != "":
			p.checkLabel(labelNode, o.Label, dev)
		}
	}
	if o != (AddrOpts{}) {
		if r.AddrOpts == nil {
			r.AddrOpts = map[netip.Addr]AddrOpts{}
		}
		r.AddrOpts[pfx.Addr()] = o
	}
	return pfx, true
}

type pendingLabel struct {
	n     *yaml.Node
	label string
}

func (p *parser) checkLabel(n *yaml.Node, label, dev string) {
	if !strings.HasPrefix(label, dev) {
		p.Fail(n, fmt.Sprintf("start it with the device's name, e.g. %s:1", dev), "label %q does not start with the name of its device %s (the kernel refuses it)", label, dev)
	}
}

// checkExcluded refuses an excluded address listed twice or also a virtual
// address of r, and checks the labels on r's interface.
func (p *parser) checkExcluded(r *Router) {
	for _, l := range p.labels {
		if r.Interface != "" {
			p.checkLabel(l.n, l.label, r.Interface)
		}
	}
	p.labels = nil
	seen := map[netip.Addr]bool{}
	for _, a := range r.Addresses {
		seen[a.Addr()] = true
	}
	for i, a := range r.Excluded {
		if seen[a.Addr()] {
			p.Errs.Add(&Error{Pos: r.excludedPos(i), What: fmt.Sprintf("%v is listed twice (in addresses or excluded_addresses)", a.Addr()), Fix: "remove the duplicate"})
		}
		seen[a.Addr()] = true
	}
}
