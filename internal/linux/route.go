package linux

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"govrrp/vrrp"
)

// Route is a route as netlink installs it (ip route add).
type Route struct {
	To     netip.Prefix
	Via    netip.Addr // zero: none
	Dev    string     // "": none
	Src    netip.Addr // zero: none
	Table  uint32     // 0: main
	Metric uint32
	Scope  string // "": the kernel's default (link for a device route of IPv4); global | site | link | host
	Type   string // "": unicast; unicast | blackhole | unreachable | prohibit
}

// Rule is a policy routing rule as netlink installs it (ip rule add).
type Rule struct {
	Family   vrrp.Family
	From, To netip.Prefix // zero: any
	Table    uint32
	Priority uint32 // 0: the kernel picks one
	IIF, OIF string
	Mark     uint32
	Mask     uint32 // 0: no mask (all bits)
	HasMark  bool
}

// Routes installs and removes the routes and rules of Masters
// (keepalived virtual_routes, virtual_rules) with netlink, and remembers
// what it installed, as Addresses does: an exclusive add never claims an
// entry the host already has, and Remove and RemoveAll delete only what
// Add installed.
type Routes struct {
	h         *netlink.Handle
	mu        sync.Mutex
	routes    map[Route]bool
	rules     map[Rule]bool
	linkIndex func(string) (int, error)
}

// NewRoutes returns a route manager using h (nil: the caller's namespace).
func NewRoutes(h *netlink.Handle) *Routes {
	if h == nil {
		h = &netlink.Handle{}
	}
	r := &Routes{h: h, routes: map[Route]bool{}, rules: map[Rule]bool{}}
	r.linkIndex = func(name string) (int, error) {
		l, err := h.LinkByName(name)
		if err != nil {
			return 0, err
		}
		return l.Attrs().Index, nil
	}
	return r
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

var routeScopes = map[string]netlink.Scope{
	"global": netlink.SCOPE_UNIVERSE, "site": netlink.SCOPE_SITE, "link": netlink.SCOPE_LINK, "host": netlink.SCOPE_HOST,
}

var routeTypes = map[string]int{
	"blackhole": unix.RTN_BLACKHOLE, "unreachable": unix.RTN_UNREACHABLE, "prohibit": unix.RTN_PROHIBIT,
}

// route is rt as netlink writes it.
func (r *Routes) route(rt Route) (*netlink.Route, error) {
	nr := &netlink.Route{Dst: ipNet(rt.To), Priority: int(rt.Metric), Table: int(rt.Table), Protocol: unix.RTPROT_STATIC}
	if rt.To.Addr().Is4() {
		nr.Family = netlink.FAMILY_V4
	} else {
		nr.Family = netlink.FAMILY_V6
	}
	if rt.Via.IsValid() {
		nr.Gw = rt.Via.AsSlice()
	}
	if rt.Src.IsValid() {
		nr.Src = rt.Src.AsSlice()
	}
	if rt.Dev != "" {
		i, err := r.linkIndex(rt.Dev)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = i
	}
	switch {
	case rt.Scope != "":
		nr.Scope = routeScopes[rt.Scope]
	case !rt.Via.IsValid() && rt.Dev != "" && rt.Type == "" && rt.To.Addr().Is4():
		nr.Scope = netlink.SCOPE_LINK // as ip route add does for a route on a device
	}
	if t, ok := routeTypes[rt.Type]; ok {
		nr.Type = t
	}
	return nr, nil
}

// rule is ru as netlink writes it.
func (r *Routes) rule(ru Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = netlink.FAMILY_V4
	if ru.Family == vrrp.IPv6 {
		nr.Family = netlink.FAMILY_V6
	}
	nr.Table = int(ru.Table)
	if ru.Priority != 0 {
		nr.Priority = int(ru.Priority)
	}
	if ru.From.IsValid() {
		nr.Src = ipNet(ru.From)
	}
	if ru.To.IsValid() {
		nr.Dst = ipNet(ru.To)
	}
	nr.IifName, nr.OifName = ru.IIF, ru.OIF
	if ru.HasMark {
		nr.Mark = ru.Mark
		if ru.Mask != 0 {
			m := ru.Mask
			nr.Mask = &m
		}
	}
	return nr
}

// AddRoute installs rt. Already installed by AddRoute is not an error;
// already there otherwise is the host's route: ErrNotOurs, not recorded.
func (r *Routes) AddRoute(rt Route) error {
	nr, err := r.route(rt)
	if err != nil {
		return fmt.Errorf("linux: add route to %v: %w", rt.To, err)
	}
	r.mu.Lock()
	ours := r.routes[rt]
	r.routes[rt] = true
	r.mu.Unlock()
	err = r.h.RouteAdd(nr) // NLM_F_EXCL: never replaces the host's
	switch {
	case err == nil, ours && errors.Is(err, unix.EEXIST):
		return nil
	case errors.Is(err, unix.EEXIST):
		err = fmt.Errorf("linux: add route to %v: %w", rt.To, ErrNotOurs)
	default:
		err = fmt.Errorf("linux: add route to %v: %w", rt.To, err)
	}
	if !ours {
		r.mu.Lock()
		delete(r.routes, rt)
		r.mu.Unlock()
	}
	return err
}

// RemoveRoute deletes rt if AddRoute installed it.
func (r *Routes) RemoveRoute(rt Route) error {
	r.mu.Lock()
	ours := r.routes[rt]
	delete(r.routes, rt)
	r.mu.Unlock()
	if !ours {
		return nil
	}
	return r.delRoute(rt)
}

func (r *Routes) delRoute(rt Route) error {
	nr, err := r.route(rt)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil // the device is gone, and its routes with it
		}
		return fmt.Errorf("linux: remove route to %v: %w", rt.To, err)
	}
	if err := r.h.RouteDel(nr); err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("linux: remove route to %v: %w", rt.To, err)
	}
	return nil
}

// AddRule installs ru, as AddRoute does a route.
func (r *Routes) AddRule(ru Rule) error {
	r.mu.Lock()
	ours := r.rules[ru]
	r.rules[ru] = true
	r.mu.Unlock()
	err := r.h.RuleAdd(r.rule(ru)) // NLM_F_EXCL
	switch {
	case err == nil, ours && errors.Is(err, unix.EEXIST):
		return nil
	case errors.Is(err, unix.EEXIST):
		err = fmt.Errorf("linux: add rule to table %d: %w", ru.Table, ErrNotOurs)
	default:
		err = fmt.Errorf("linux: add rule to table %d: %w", ru.Table, err)
	}
	if !ours {
		r.mu.Lock()
		delete(r.rules, ru)
		r.mu.Unlock()
	}
	return err
}

// RemoveRule deletes ru if AddRule installed it.
func (r *Routes) RemoveRule(ru Rule) error {
	r.mu.Lock()
	ours := r.rules[ru]
	delete(r.rules, ru)
	r.mu.Unlock()
	if !ours {
		return nil
	}
	return r.delRule(ru)
}

func (r *Routes) delRule(ru Rule) error {
	if err := r.h.RuleDel(r.rule(ru)); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("linux: remove rule to table %d: %w", ru.Table, err)
	}
	return nil
}

// Flush deletes the routes and rules equal to the configured ones: what an
// earlier instance killed with -9 left. Call it at start, before the router
// runs. Absent entries are not an error.
func (r *Routes) Flush(routes []Route, rules []Rule) error {
	var errs []error
	for _, ru := range rules {
		errs = append(errs, r.delRule(ru))
	}
	for _, rt := range routes {
		errs = append(errs, r.delRoute(rt))
	}
	return errors.Join(errs...)
}

// RemoveAll deletes every route and rule installed and not removed: the
// shutdown path. Rules first: they may send traffic to the routes' tables.
func (r *Routes) RemoveAll() error {
	r.mu.Lock()
	rules, routes := r.rules, r.routes
	r.rules, r.routes = map[Rule]bool{}, map[Route]bool{}
	r.mu.Unlock()
	var errs []error
	for ru := range rules {
		errs = append(errs, r.delRule(ru))
	}
	for rt := range routes {
		errs = append(errs, r.delRoute(rt))
	}
	return errors.Join(errs...)
}
