package daemon

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// fakeRoutes records the route and rule operations in order, each with
// whether a VIP was installed when it ran.
type fakeRoutes struct {
	mu     sync.Mutex
	addrs  *fakeAddrs
	ops    []string
	routes map[linux.Route]bool
	rules  map[linux.Rule]bool
}

func (f *fakeRoutes) op(format string, args ...any) {
	f.ops = append(f.ops, fmt.Sprintf(format, args...)+fmt.Sprintf(" vips=%d", f.addrs.count()))
}

func (f *fakeRoutes) AddRoute(rt linux.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.routes == nil {
		f.routes = map[linux.Route]bool{}
	}
	f.routes[rt] = true
	f.op("add route %v", rt.To)
	return nil
}

func (f *fakeRoutes) RemoveRoute(rt linux.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.routes[rt] {
		delete(f.routes, rt)
		f.op("del route %v", rt.To)
	}
	return nil
}

func (f *fakeRoutes) AddRule(ru linux.Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[linux.Rule]bool{}
	}
	f.rules[ru] = true
	f.op("add rule %d", ru.Table)
	return nil
}

func (f *fakeRoutes) RemoveRule(ru linux.Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules[ru] {
		delete(f.rules, ru)
		f.op("del rule %d", ru.Table)
	}
	return nil
}

func (f *fakeRoutes) Flush(routes []linux.Route, rules []linux.Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.op("flush %d %d", len(routes), len(rules))
	return nil
}

func (f *fakeRoutes) RemoveAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ru := range f.rules {
		f.op("del rule %d", ru.Table)
	}
	for rt := range f.routes {
		f.op("del route %v", rt.To)
	}
	clear(f.rules)
	clear(f.routes)
	return nil
}

func (f *fakeRoutes) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ops := f.ops
	f.ops = nil
	return ops
}

func withRoutes(c config.Router) config.Router {
	c.Routes = []config.Route{
		{To: netip.MustParsePrefix("10.78.1.0/24"), Via: netip.MustParseAddr("10.78.0.9"), Src: vipOf(c.VRID)},
		{To: netip.MustParsePrefix("10.78.2.0/24"), Type: "blackhole", Table: 100},
	}
	c.Rules = []config.Rule{{Family: vrrp.IPv4, From: netip.PrefixFrom(vipOf(c.VRID), 32), Table: 100}}
	return c
}

// Becoming Master, the loop hands its worker the routes and rules after the
// addresses; leaving it, before them (keepalived virtual_routes and
// virtual_rules, issue 13: a route's source may be a VIP).
// toLinux copies every field the data plane has, by name, from the
// configuration's route and rule: a field added to linux.Route or
// linux.Rule and not copied fails here.
func TestToLinuxCopiesEveryField(t *testing.T) {
	rt := config.Route{To: netip.MustParsePrefix("10.78.1.0/24"), Via: netip.MustParseAddr("10.77.0.9"), Dev: "eth1",
		Src: netip.MustParseAddr("10.77.0.1"), Table: 100, Metric: 7, Scope: "global", Type: "unicast", Pos: config.Pos{Line: 3}}
	ru := config.Rule{Family: vrrp.IPv6, From: netip.MustParsePrefix("fd77::/64"), To: netip.MustParsePrefix("fd77:1::/64"),
		Table: 100, Priority: 1000, IIF: "eth0", OIF: "eth1", Mark: 1, Mask: 0xff, HasMark: true, Pos: config.Pos{Line: 4}}
	routes, rules := toLinux([]config.Route{rt}, []config.Rule{ru})
	for _, c := range []struct{ from, to any }{{rt, routes[0]}, {ru, rules[0]}} {
		from, to := reflect.ValueOf(c.from), reflect.ValueOf(c.to)
		for i := range to.NumField() {
			name := to.Type().Field(i).Name
			f := from.FieldByName(name)
			if !f.IsValid() || to.Field(i).IsZero() || !f.Equal(to.Field(i)) {
				t.Errorf("%v.%s = %v, want %v (the value of %v)", to.Type(), name, to.Field(i), f, from.Type())
			}
		}
	}
}

func TestLoopRoutesFollowAddresses(t *testing.T) {
	lab := newStepLab(t)
	const iv = 100 * time.Millisecond
	c := withRoutes(routerCfg("m", 1, 100, iv))
	r := lab.add(c)
	lab.run(time.Second, nil)
	if st := r.fsm.Status(); st.State != fsm.Master {
		t.Fatalf("state %v", st.State)
	}
	kinds := func() []effectKind {
		var ks []effectKind
		for _, e := range lab.effects {
			switch e.kind {
			case effAddAddresses, effRemoveAddresses, effAddRoutes, effRemoveRoutes:
				ks = append(ks, e.kind)
			}
		}
		lab.effects = nil
		return ks
	}
	if got := kinds(); !slices.Equal(got, []effectKind{effAddAddresses, effAddRoutes}) {
		t.Fatalf("becoming Master: effects %v, want addresses then routes", got)
	}
	// A higher priority takes over [5798-6.4.3-j]: the router leaves
	// Master, the routes first, then the addresses.
	lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, time.Second+time.Millisecond))
	lab.at(time.Second + time.Millisecond)
	if st := r.fsm.Status(); st.State != fsm.Backup {
		t.Fatalf("state %v after a higher priority", st.State)
	}
	var rm effect
	for _, e := range lab.effects {
		if e.kind == effRemoveRoutes {
			rm = e
		}
	}
	if got := kinds(); !slices.Equal(got, []effectKind{effRemoveRoutes, effRemoveAddresses}) {
		t.Fatalf("leaving Master: effects %v, want routes then addresses", got)
	}
	if !slices.Equal(rm.routes, c.Routes) || !slices.Equal(rm.rules, c.Rules) {
		t.Fatalf("removed %v %v, want all of them", rm.routes, rm.rules)
	}
}

// The daemon removes the configured routes and rules a killed instance left
// before the router runs, installs them while Master after the VIP, changes
// them in place on a reload, and removes them at stop before the VIP, rules
// first (issue 13).
func TestDaemonRoutesLifecycle(t *testing.T) {
	c := withRoutes(routerCfg("a", 1, 100, 10*time.Millisecond))
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	t.Cleanup(func() { stop.Do(d.Stop) })
	waitUntil(t, 5*time.Second, "a Master", func() bool {
		rs := d.Routers()
		return len(rs) == 1 && rs[0].State == "Master"
	})
	d.work.barrier(d.routers["a"].slot)
	want := []string{"flush 2 1 vips=0", "add route 10.78.1.0/24 vips=1", "add route 10.78.2.0/24 vips=1", "add rule 100 vips=1"}
	if got := fn.routes.take(); !slices.Equal(got, want) {
		t.Fatalf("start:\n got %q\nwant %q", got, want)
	}

	// A reload changing one route: in place, the old one out, the new in;
	// the rest untouched.
	c2 := c
	c2.Routes = []config.Route{c.Routes[0], {To: netip.MustParsePrefix("10.78.3.0/24"), Type: "unreachable"}}
	if res := d.Apply(&config.Config{Routers: []config.Router{c2}}); !res.OK || !slices.Equal(res.Updated, []string{"a"}) {
		t.Fatalf("reload: %+v", res)
	}
	d.work.barrier(d.routers["a"].slot)
	want = []string{"del route 10.78.2.0/24 vips=1", "add route 10.78.3.0/24 vips=1"}
	if got := fn.routes.take(); !slices.Equal(got, want) {
		t.Fatalf("reload:\n got %q\nwant %q", got, want)
	}

	stop.Do(d.Stop)
	want = []string{"del rule 100 vips=1", "del route 10.78.1.0/24 vips=1", "del route 10.78.3.0/24 vips=1"}
	if got := fn.routes.take(); !slices.Equal(got, want) {
		t.Fatalf("stop:\n got %q\nwant %q", got, want)
	}
	if len(fn.routes.routes)+len(fn.routes.rules) != 0 || fn.addrs.count() != 0 {
		t.Fatalf("left at stop: %v %v, %d addresses", fn.routes.routes, fn.routes.rules, fn.addrs.count())
	}
}

// AddWith installs p as Add does; the fake does not keep the label or scope
// (linux:TestAddWith checks them).
func (a *fakeAddrs) AddWith(dev string, p netip.Prefix, _, _ string) error { return a.Add(dev, p) }

// A VIP on another device and an excluded address go in with the VIPs,
// before the routes, and out after them; the excluded address is never
// advertised (keepalived dev and virtual_ipaddress_excluded, issue 13).
func TestDaemonExtraAddresses(t *testing.T) {
	c := withRoutes(routerCfg("a", 1, 100, 10*time.Millisecond))
	onDev := netip.MustParsePrefix("10.78.7.1/24")
	excl := netip.MustParsePrefix("fd77::7/64")
	c.Addresses = append(c.Addresses, onDev)
	c.Excluded = []netip.Prefix{excl}
	c.AddrOpts = map[netip.Addr]config.AddrOpts{onDev.Addr(): {Dev: "eth1", Label: "eth1:v"}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	fn.addrs.setHost("eth1", netip.MustParsePrefix("10.78.7.1/24")) // a killed instance's
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	t.Cleanup(func() { stop.Do(d.Stop) })
	waitUntil(t, 5*time.Second, "a Master", func() bool {
		rs := d.Routers()
		return len(rs) == 1 && rs[0].State == "Master"
	})
	d.work.barrier(d.routers["a"].slot)
	if fn.addrs.hostHas("eth1", onDev) {
		t.Error("the stale address on eth1 was not flushed at start")
	}
	fn.addrs.mu.Lock()
	on := fmt.Sprint(fn.addrs.on)
	fn.addrs.mu.Unlock()
	if !fn.addrs.has(onDev.Addr()) || !fn.addrs.has(excl.Addr()) || !fn.addrs.has(vipOf(1)) || fn.addrs.count() != 3 {
		t.Fatalf("installed %s", on)
	}
	fn.addrs.mu.Lock()
	ok := fn.addrs.on["eth1"][onDev] && fn.addrs.on["eth0"][excl] && !fn.addrs.on["eth0"][onDev]
	fn.addrs.mu.Unlock()
	if !ok {
		t.Fatalf("on the wrong devices: %s", on)
	}
	// The routes went in once all three were there.
	if got := fn.routes.take(); len(got) < 2 || got[1] != "add route 10.78.1.0/24 vips=3" {
		t.Fatalf("routes %q", got)
	}
	// Advertised: the VIPs, the one on eth1 too; never the excluded one.
	r := d.routers["a"]
	var listed []netip.Addr
	r.l.do(func() { listed = slices.Clone(r.msg.Addresses) })
	if !slices.Equal(listed, []netip.Addr{vipOf(1), onDev.Addr()}) {
		t.Fatalf("the advert lists %v", listed)
	}
	// Each VIP announced on its device; never the excluded address.
	fn.ann.mu.Lock()
	jobs := fmt.Sprint(fn.ann.jobs)
	okAnn := len(fn.ann.jobs) == 2 &&
		slices.Equal(fn.ann.jobs[linux.AnnounceKey{Interface: "eth0", VRID: 1}], []netip.Addr{vipOf(1)}) &&
		slices.Equal(fn.ann.jobs[linux.AnnounceKey{Interface: "eth1", VRID: 1}], []netip.Addr{onDev.Addr()})
	fn.ann.mu.Unlock()
	if !okAnn {
		t.Fatalf("announcements %s", jobs)
	}
	// A reload trading the excluded address for another: in place.
	excl2 := netip.MustParsePrefix("10.78.8.8/24")
	c2 := c
	c2.Excluded = []netip.Prefix{excl2}
	if res := d.Apply(&config.Config{Routers: []config.Router{c2}}); !res.OK || !slices.Equal(res.Updated, []string{"a"}) {
		t.Fatalf("reload: %+v", res)
	}
	d.work.barrier(d.routers["a"].slot)
	if fn.addrs.has(excl.Addr()) || !fn.addrs.has(excl2.Addr()) || fn.addrs.count() != 3 {
		fn.addrs.mu.Lock()
		defer fn.addrs.mu.Unlock()
		t.Fatalf("after the reload: %v", fn.addrs.on)
	}
	fn.routes.take()
	stop.Do(d.Stop)
	if got := fn.routes.take(); len(got) == 0 || got[len(got)-1] != "del route 10.78.2.0/24 vips=3" {
		t.Fatalf("at stop, routes %q: want them out before the addresses", got)
	}
	if n := fn.addrs.count(); n != 0 {
		t.Fatalf("%d addresses left at stop", n)
	}
	fn.ann.mu.Lock()
	defer fn.ann.mu.Unlock()
	if len(fn.ann.jobs) != 0 {
		t.Fatalf("announcements left at stop: %v", fn.ann.jobs)
	}
}

// An excluded address that the host has on an interface appearing after the
// host checks ran is the host's, as a VIP would be: the router waits and
// the address stays (issue 13).
func TestAppearedInterfaceKeepsHostExcludedAddress(t *testing.T) {
	late := routerCfg("late", 2, 100, 10*time.Millisecond)
	late.Interface = "vlan7"
	own := netip.MustParsePrefix("10.78.9.9/24")
	late.Excluded = []netip.Prefix{own}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{late}})
	fn.setIndex("vlan7", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	fn.addrs.setHost("vlan7", own)
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitUntil(t, 2*time.Second, "late waiting on the host's address", func() bool { return stateOrReason(d, "late") == faultHostAddress })
	if !fn.addrs.hostHas("vlan7", own) {
		t.Fatalf("the host's address %v was deleted from the interface that appeared", own)
	}
}

// A VIP that changes its device, label or scope, or an address that moves
// between the VIPs and the excluded ones, restarts the router; the rest of
// these changes are applied in place (issue 13).
func TestPlaceChangedRestarts(t *testing.T) {
	a := routerCfg("a", 1, 100, time.Second)
	x := netip.MustParsePrefix("10.78.7.1/24")
	withOpts := func(c config.Router, o config.AddrOpts) config.Router {
		c.Addresses = append(slices.Clone(c.Addresses), x)
		c.AddrOpts = map[netip.Addr]config.AddrOpts{x.Addr(): o}
		return c
	}
	excluded := a
	excluded.Excluded = []netip.Prefix{x}
	plain := a
	plain.Addresses = append(slices.Clone(a.Addresses), x)
	for _, tc := range []struct {
		name    string
		from    config.Router
		to      config.Router
		restart bool
	}{
		{"dev VIP added", a, withOpts(a, config.AddrOpts{Dev: "eth1"}), false},
		{"excluded added", a, excluded, false},
		{"dev changed", withOpts(a, config.AddrOpts{Dev: "eth1"}), withOpts(a, config.AddrOpts{Dev: "eth2"}), true},
		{"label added", plain, withOpts(a, config.AddrOpts{Label: "eth0:v"}), true},
		{"VIP to excluded", plain, excluded, true},
		{"excluded to VIP", excluded, plain, true},
	} {
		if got := needsRestart(tc.from, tc.to); got != tc.restart {
			t.Errorf("%s: needsRestart = %v, want %v", tc.name, got, tc.restart)
		}
	}
}

// An IPv6 VIP on another device of a router with Accept_Mode false is
// never a source, as its other VIPs [5798-6.4.3-f]; an excluded address is
// not a VIP: installed as it is.
func TestExtraNoSource(t *testing.T) {
	c := routerCfg("a", 1, 100, time.Second)
	r := &vr{cfg: &c}
	v6 := netip.MustParsePrefix("fd77:7::1/64")
	ex := netip.MustParsePrefix("fd77:8::1/64")
	r.cfg.Addresses = append(r.cfg.Addresses, v6)
	r.cfg.Excluded = []netip.Prefix{ex}
	r.cfg.AddrOpts = map[netip.Addr]config.AddrOpts{v6.Addr(): {Dev: "eth1"}}
	want := []extraAddr{{dev: "eth1", p: v6, noSource: true}, {dev: "eth0", p: ex}}
	if got := r.extras(); !slices.Equal(got, want) {
		t.Fatalf("extras %+v, want %+v", got, want)
	}
	r.cfg.Accept = true
	want[0].noSource = false
	if got := r.extras(); !slices.Equal(got, want) {
		t.Fatalf("accept: extras %+v, want %+v", got, want)
	}
}
