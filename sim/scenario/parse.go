package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/fsm"
	"govrrp/internal/config"
	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Keys of a scenario file. interval and advert_interval are one key (the
// second is govrrpd.yaml's name), as are the other keys a govrrpd.yaml
// router shares with a simulated one.
var (
	topKeys    = []string{"version", "family", "vrid", "interval", "advert_interval", "preempt", "preempt_delay", "loss", "delay", "seed", "duration", "addresses", "routers", "events"}
	routerKeys = []string{"name", "priority", "owner", "address", "addresses", "interval", "advert_interval", "version", "preempt", "preempt_delay", "accept", "start", "bfd"}
	eventKeys  = append([]string{"at"}, kindNames[1:]...)
)

// eventNodes are where an event's parts were written, for messages.
type eventNodes struct {
	at, target *yaml.Node
	prios      []*yaml.Node
	groups     [][]*yaml.Node
}

type parser struct {
	yamlwalk.Walker
}

func (p *parser) fail(n *yaml.Node, fix, what string) { p.Fail(n, fix, "%s", what) }

// Parse reads the scenario in data, the contents of file. override, when
// not nil, changes the top-level settings (the command line's flags) before
// the routers inherit them. On failure the error is a *yamlwalk.Errors, in
// file order.
func Parse(file string, data []byte, override func(*Settings)) (*Scenario, error) {
	p := &parser{Walker: yamlwalk.Walker{File: file, Reader: "govrrp simulate"}}
	sc := p.parse(data, override)
	if p.Errs.Len() > 0 {
		slices.SortStableFunc(p.Errs.List, func(a, b *yamlwalk.Error) int {
			return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
		})
		return nil, &p.Errs
	}
	return sc, nil
}

func (p *parser) parse(data []byte, override func(*Settings)) *Scenario {
	sc := &Scenario{Name: p.File, VRID: DefaultVRID, Settings: Defaults()}
	root, extra := p.Decode(data, "write at least routers: with one {name: ..., priority: ...} (see govrrp help simulate)")
	if root == nil {
		return nil
	}
	defer extra()
	var routersNode, eventsNode, addressesNode *yaml.Node
	var top election
	p.Mapping(root, "the scenario", topKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "version", "interval", "advert_interval", "preempt", "preempt_delay":
			p.election(&top, k, v)
		case "family":
			if f, ok := ParseFamily(v.Value); ok && v.Kind == yaml.ScalarNode {
				sc.Family = f
			} else {
				p.Fail(v, "write ipv4 or ipv6", "family %q is not an address family", v.Value)
			}
		case "vrid":
			sc.VRID = uint8(p.Int(v, 1, 255, "VRIDs are 1..255"))
		case "loss":
			sc.Loss = p.prob(v)
		case "delay":
			sc.Delay = p.Duration(v, 0, time.Hour)
		case "seed":
			if s, err := strconv.ParseUint(v.Value, 10, 64); err == nil && v.Kind == yaml.ScalarNode {
				sc.Seed = s
			} else {
				p.Fail(v, fmt.Sprintf("write a whole number 0..%d", uint64(1<<64-1)), "seed %q is not a whole number", v.Value)
			}
		case "duration":
			sc.Duration = p.Duration(v, time.Millisecond, maxTime)
		case "addresses":
			sc.Addresses, addressesNode = p.addrs(v), v
		case "routers":
			routersNode = v
		case "events":
			eventsNode = v
		}
	})
	top.apply(&sc.Version, &sc.Interval, &sc.Preempt, &sc.PreemptDelay, nil)
	if override != nil {
		override(&sc.Settings)
	}
	for _, a := range sc.Addresses {
		if vrrp.FamilyOf(a) != sc.Family {
			p.Fail(addressesNode, "write family: ipv6 for IPv6 addresses", "virtual address %v is not %s (the family of this scenario)", a, FamilyName(sc.Family))
			return nil
		}
	}
	if routersNode == nil {
		p.fail(root, "add routers: with at least one {name: ..., priority: ...}", "no routers")
		return nil
	}
	names := map[string]bool{}
	var order []string // the names, in file order
	for _, n := range p.Seq(routersNode, "routers") {
		r, ok := p.router(n)
		if names[r.Name] {
			p.Fail(n, "give each router its own name", "router name %q is used twice", r.Name)
			continue
		}
		if r.Name != "" {
			names[r.Name] = true // events may name it, even if it has errors
			order = append(order, r.Name)
		}
		if ok {
			sc.Routers = append(sc.Routers, r)
		}
	}
	if len(names) == 0 && p.Errs.Len() == 0 {
		p.fail(routersNode, "add at least one {name: ..., priority: ...}", "routers is empty")
	}
	if len(sc.Routers) > MaxRouters {
		p.Fail(routersNode, "simulate fewer routers", "%d routers; at most %d", len(sc.Routers), MaxRouters)
	}
	if eventsNode != nil {
		for _, n := range p.Seq(eventsNode, "events") {
			if e, ok := p.event(n, len(sc.Events)); ok {
				sc.Events = append(sc.Events, e)
			}
		}
	}
	sc.resolve(p.fail)
	p.checkNames(sc, names, order)
	if p.Errs.Len() > 0 {
		return nil
	}
	for i, r := range sc.Routers {
		if r.Start > 0 && !r.Never {
			sc.Events = append(sc.Events, Event{At: r.Start, Kind: Start, Target: r.Name, seq: -len(sc.Routers) + i})
		}
	}
	slices.SortStableFunc(sc.Events, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.seq, b.seq))
	})
	sc.fillDuration()
	for _, e := range sc.Events {
		if e.At > sc.Duration && e.nodes.at != nil {
			p.Fail(e.nodes.at, "make duration longer, or the event earlier", "event at %v comes after the end of the run (duration %v)", e.At, sc.Duration)
		}
	}
	if p.Errs.Len() == 0 {
		if err := sc.checkLength(); err != nil {
			p.fail(root, "shorten it, or lengthen the shortest interval", err.Error())
		}
	}
	return sc
}

// election is what a mapping says of the keys govrrpd.yaml has too,
// read as config reads them; interval is another name of advert_interval.
type election struct {
	r        config.Router
	set      map[string]bool
	interval string // the name the interval was written with
}

func (p *parser) election(e *election, k, v *yaml.Node) {
	key := k.Value
	if key == "interval" || key == "advert_interval" {
		if e.interval != "" {
			p.Fail(k, "keep one of them", "%s and %s are the same key", e.interval, key)
			return
		}
		e.interval, key = key, "advert_interval"
	}
	if e.set == nil {
		e.set = map[string]bool{}
	}
	e.set[key] = config.ElectionKey(&p.Walker, key, v, &e.r)
}

// apply sets what was written; a nil destination is not a key there.
func (e *election) apply(version *uint8, interval *time.Duration, preempt *bool, delay *time.Duration, accept *bool) {
	for key, f := range map[string]func(){
		"version": func() { *version = e.r.Version }, "advert_interval": func() { *interval = e.r.AdvertInterval },
		"preempt": func() { *preempt = e.r.Preempt }, "preempt_delay": func() { *delay = e.r.PreemptDelay },
		"accept": func() { *accept = e.r.Accept },
	} {
		if e.set[key] {
			f()
		}
	}
}

// checkNames checks the routers the events name.
func (p *parser) checkNames(sc *Scenario, names map[string]bool, known []string) {
	check := func(name string, n *yaml.Node, master bool) {
		if name == "" || n == nil || names[name] || (master && name == Master) {
			return
		}
		fix := "name one of: " + strings.Join(known, ", ")
		if master {
			fix += ", or master"
		}
		if s := yamlwalk.Closest(name, known); s != "" {
			fix = fmt.Sprintf("did you mean %q?", s)
		}
		p.Fail(n, fix, "no router is named %q", name)
	}
	for _, e := range sc.Events {
		check(e.Target, e.nodes.target, true)
		for i, pr := range e.Priorities {
			check(pr.Router, e.nodes.prios[i], true)
		}
		seen := map[string]bool{}
		for i, g := range e.Groups {
			for j, name := range g {
				n := e.nodes.groups[i][j]
				check(name, n, false)
				if seen[name] {
					p.Fail(n, "put each router in one group", "router %q is in two groups", name)
				}
				seen[name] = true
			}
		}
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (p *parser) router(n *yaml.Node) (Router, bool) {
	r := Router{node: n}
	bad := p.Errs.Len()
	var prioNode, ownerNode *yaml.Node
	owner := false
	var el election
	if n.Kind != yaml.MappingNode {
		p.Fail(n, "write {name: ..., priority: ...}", "a router must be a mapping, not %s", yamlwalk.KindName(n))
		return r, false
	}
	p.Mapping(n, "a router", routerKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			r.Name = p.Str(v)
			if r.Name != "" && (!nameRE.MatchString(r.Name) || r.Name == Master) {
				p.Fail(v, "use letters, digits, '.', '-', '_' (and not \"master\")", "router name %q has characters that are not allowed", r.Name)
			}
		case "priority":
			prioNode = v
			config.ElectionKey(&p.Walker, k.Value, v, &el.r)
			r.Priority = el.r.Priority
		case "owner":
			ownerNode, owner = v, p.Bool(v)
		case "address":
			if a, ok := p.Addr(v); ok {
				r.Address = a
			}
		case "addresses":
			r.Addresses = p.addrs(v)
		case "interval", "advert_interval", "version", "preempt", "preempt_delay", "accept":
			p.election(&el, k, v)
		case "bfd":
			r.BFD = p.bfd(v)
		case "start":
			if v.Value == "never" {
				r.Never = true
			} else {
				r.Start = p.Duration(v, 0, maxTime)
			}
		}
	})
	var iv, pd time.Duration
	var ver uint8
	var pre, acc bool
	el.apply(&ver, &iv, &pre, &pd, &acc)
	for key, f := range map[string]func(){
		"version": func() { r.Version = &ver }, "advert_interval": func() { r.Interval = &iv },
		"preempt": func() { r.Preempt = &pre }, "preempt_delay": func() { r.PreemptDelay = &pd }, "accept": func() { r.Accept = &acc },
	} {
		if el.set[key] {
			f()
		}
	}
	switch {
	case r.Name == "" && p.Errs.Len() == bad:
		p.fail(n, "add name: r1 (events name it)", "a router needs a name")
	case owner && prioNode != nil && r.Priority != vrrp.PriorityOwner:
		p.Fail(ownerNode, "remove one of them", "owner: true means priority 255, but priority is %d", r.Priority)
	case owner:
		r.Priority = vrrp.PriorityOwner
	case prioNode == nil && p.Errs.Len() == bad:
		p.Fail(n, "add priority: 1..254 (or owner: true)", "router %s needs a priority", r.Name)
	}
	return r, p.Errs.Len() == bad
}

func (p *parser) event(n *yaml.Node, seq int) (Event, bool) {
	e := Event{seq: seq}
	bad := p.Errs.Len()
	var actions []*yaml.Node
	if n.Kind != yaml.MappingNode {
		p.Fail(n, "write {at: 10s, crash: r1}", "an event must be a mapping, not %s", yamlwalk.KindName(n))
		return e, false
	}
	p.Mapping(n, "an event", eventKeys, func(k, v *yaml.Node) {
		if k.Value == "at" {
			e.nodes.at = v
			e.At = p.Duration(v, 0, maxTime)
			return
		}
		actions = append(actions, k)
		e.Kind = kindOf(k.Value)
		switch {
		case e.Kind.OnOne():
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				p.Fail(v, fmt.Sprintf("write e.g. %s: r1", k.Value), "%s names one router", k.Value)
			}
			e.Target, e.nodes.target = v.Value, v
		case e.Kind == SetPriority:
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				p.fail(v, "write {ROUTER: PRIORITY, ...}, e.g. {r2: 250}", "priority needs routers and their priorities")
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				rk, rv := v.Content[i], v.Content[i+1]
				x := p.Int(rv, 1, 254, "write 1..254 (the owner's 255 is fixed)")
				e.Priorities = append(e.Priorities, Priority{rk.Value, uint8(x)})
				e.nodes.prios = append(e.nodes.prios, rk)
			}
		case e.Kind == Partition:
			for _, g := range p.Seq(v, "partition") {
				var group []string
				var nodes []*yaml.Node
				for _, m := range p.Seq(g, "a partition group") {
					if name := p.Str(m); name != "" {
						group, nodes = append(group, name), append(nodes, m)
					}
				}
				e.Groups, e.nodes.groups = append(e.Groups, group), append(e.nodes.groups, nodes)
			}
			if len(e.Groups) == 0 && p.Errs.Len() == bad {
				p.fail(v, "write the groups, e.g. [[r1], [r2, r3]]", "partition has no groups")
			}
		case e.Kind == Heal:
			if b := p.Bool(v); !b && p.Errs.Len() == bad {
				p.fail(v, "write heal: true", "heal: false does nothing")
			}
		case e.Kind == SetLoss:
			e.Loss = p.prob(v)
		case e.Kind == SetDelay:
			e.Delay = p.Duration(v, 0, time.Hour)
		}
	})
	switch {
	case p.Errs.Len() > bad:
	case e.nodes.at == nil:
		p.fail(n, "add at: (when it happens, e.g. at: 10s)", "an event needs a time")
	case len(actions) == 0:
		p.fail(n, "add one of: "+strings.Join(kindNames[1:], ", "), "an event needs an action")
	case len(actions) > 1:
		p.Fail(actions[1], "write another event at the same time", "one action per event (this one also has %s)", actions[0].Value)
	}
	return e, p.Errs.Len() == bad
}

func (p *parser) prob(n *yaml.Node) float64 {
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || n.Kind != yaml.ScalarNode || !(f >= 0 && f <= 1) {
		p.Fail(n, "write a probability 0..1, e.g. 0.1", "%q is not a probability", n.Value)
		return 0
	}
	return f
}

// addrs reads one address or a list; a /prefix, as govrrpd.yaml writes
// it, is allowed and does not matter on the simulated LAN.
func (p *parser) addrs(n *yaml.Node) []netip.Addr {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = p.Seq(n, "addresses")
	}
	var out []netip.Addr
	for _, it := range items {
		if pfx, ok := p.Prefix(it); ok {
			if pfx.Addr().Zone() != "" {
				p.Fail(it, "write it without %zone", "%q has a zone", it.Value)
				continue
			}
			out = append(out, pfx.Addr())
		}
	}
	if len(out) == 0 && len(items) == 0 {
		p.fail(n, "list at least one address", "the list of addresses is empty")
	}
	return out
}

// FamilyName is IPv4 or IPv6.
func FamilyName(f vrrp.Family) string {
	if f == vrrp.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// bfd reads a router's bfd: {interval, multiplier, successor}, with the
// defaults and ranges of routers[].bfd_master.
func (p *parser) bfd(n *yaml.Node) *BFD {
	b := &BFD{Interval: config.DefaultBFDInterval, Multiplier: config.DefaultBFDMultiplier, Successor: fsm.SuccessorSkew}
	p.Mapping(n, "bfd", []string{"interval", "multiplier", "successor"}, func(k, v *yaml.Node) {
		switch k.Value {
		case "interval":
			b.Interval = p.Duration(v, 10*time.Millisecond, time.Minute)
			if b.Interval%time.Microsecond != 0 {
				p.Fail(v, "write whole microseconds", "BFD intervals are carried in microseconds: %v is not", b.Interval)
			}
		case "multiplier":
			b.Multiplier = uint8(p.Int(v, 1, 255, "write 1..255 (3 is usual)"))
		case "successor":
			switch p.OneOf(v, "auto", "true", "false") {
			case "true":
				b.Successor = fsm.SuccessorNow
			case "false":
				b.Successor = fsm.SuccessorNone
			}
		}
	})
	return b
}
