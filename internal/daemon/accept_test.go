package daemon

import (
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"govrrp/internal/config"
)

// fakeAccept records what the AcceptGuard drops per router, and every VIP
// whose drop came after the address was installed, or went before it was
// removed (windows in which the VIP accepted).
type fakeAccept struct {
	mu     sync.Mutex
	addrs  *fakeAddrs
	on     map[string][]netip.Addr
	late   []string // VIPs that were installed before their drop
	early  []string // VIPs whose drop went while they were installed
	closed bool
}

func (f *fakeAccept) Set(owner, _ string, vips []netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.on == nil {
		f.on = map[string][]netip.Addr{}
	}
	for _, v := range vips {
		if !slices.Contains(f.on[owner], v) && f.addrs.has(v) {
			f.late = append(f.late, v.String())
		}
	}
	for _, v := range f.on[owner] {
		if !slices.Contains(vips, v) && f.addrs.has(v) {
			f.early = append(f.early, v.String())
		}
	}
	f.on[owner] = slices.Clone(vips)
	return nil
}

func (f *fakeAccept) Forget(owners ...string) error {
	for _, o := range owners {
		_ = f.Set(o, "", nil)
	}
	return nil
}

func (f *fakeAccept) Close() error {
	for o := range f.owners() {
		_ = f.Set(o, "", nil)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeAccept) owners() map[string][]netip.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.on)
}

func (f *fakeAccept) dropping(owner string) []netip.Addr {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.on[owner])
}

func (a *fakeAddrs) AddNoSource(dev string, p netip.Prefix) error {
	a.mu.Lock()
	if a.noSource == nil {
		a.noSource = map[netip.Prefix]bool{}
	}
	a.noSource[p] = true
	a.mu.Unlock()
	return a.Add(dev, p)
}

func (a *fakeAddrs) has(v netip.Addr) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.on {
		for p := range m {
			if p.Addr() == v {
				return true
			}
		}
	}
	return false
}

// Accept_Mode false [5798-6.4.3-f] [3768-6.4.3-b]: a non-owner Master's
// VIPs are dropped before they are installed, a VIP added by a reload too;
// accept toggled by a reload follows; an owner and accept: true never
// drop; the VIPs of a dropping router are never sources; a VRRPv2 router may
// accept (an extension); at stop the table goes.
func TestDaemonAcceptMode(t *testing.T) {
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	v2 := routerCfg("v2", 2, 100, time.Second)
	v2.Version, v2.Accept = 2, true
	o := routerCfg("o", 3, 255, 10*time.Millisecond)
	y := routerCfg("y", 4, 100, 10*time.Millisecond)
	y.Accept = true
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a, v2, o, y}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	var stop sync.Once
	t.Cleanup(func() { stop.Do(d.Stop) })
	master := func(name string) func() bool {
		return func() bool {
			for _, r := range d.Routers() {
				if r.Name == name {
					return r.State == "Master"
				}
			}
			return false
		}
	}
	waitUntil(t, 5*time.Second, "a Master", master("a"))
	waitUntil(t, 5*time.Second, "o Master", master("o"))
	waitUntil(t, 5*time.Second, "y Master", master("y"))
	d.work.barrier(d.routers["a"].slot)
	d.work.barrier(d.routers["y"].slot)
	if got := fn.accept.dropping("a"); !slices.Equal(got, []netip.Addr{vipOf(1)}) {
		t.Fatalf("a drops %v, want %v", got, vipOf(1))
	}
	if got := fn.accept.dropping("o"); got != nil {
		t.Errorf("the owner drops %v", got)
	}
	if got := fn.accept.dropping("y"); got != nil {
		t.Errorf("y with accept: true drops %v", got)
	}
	// Never picked as a source: their replies would be dropped.
	fn.addrs.mu.Lock()
	if !fn.addrs.noSource[a.Addresses[0]] || fn.addrs.noSource[y.Addresses[0]] {
		t.Errorf("added with AddNoSource: %v, want only a's", fn.addrs.noSource)
	}
	fn.addrs.mu.Unlock()

	// A second VIP: dropped before it is installed.
	extra := netip.MustParsePrefix("10.78.1.1/24")
	a2 := a
	a2.Addresses = append(slices.Clone(a.Addresses), extra)
	reload := func(r config.Router) {
		t.Helper()
		res := d.Apply(&config.Config{Routers: []config.Router{r, v2, o, y}})
		if !res.OK || !slices.Contains(slices.Concat(res.Updated, res.Added), "a") {
			t.Fatalf("reload: %+v", res)
		}
		d.work.barrier(d.routers["a"].slot)
	}
	reload(a2)
	if got := fn.accept.dropping("a"); len(got) != 2 || !fn.addrs.has(extra.Addr()) {
		t.Fatalf("after adding a VIP: a drops %v, installed %v", got, fn.addrs.has(extra.Addr()))
	}
	// And removed: the drop goes after the address.
	reload(a)
	if got := fn.accept.dropping("a"); !slices.Equal(got, []netip.Addr{vipOf(1)}) || fn.addrs.has(extra.Addr()) {
		t.Fatalf("after removing a VIP: a drops %v, installed %v", got, fn.addrs.has(extra.Addr()))
	}
	reload(a2)
	fn.accept.mu.Lock()
	if len(fn.accept.late) > 0 || len(fn.accept.early) > 0 {
		t.Errorf("VIPs installed before their drop: %v; drop removed before the VIP: %v", fn.accept.late, fn.accept.early)
	}
	fn.accept.mu.Unlock()
	// accept: true by reload: nothing dropped, the VIPs stay; and back
	// (the VIPs accepted until then anyway). Then stop: every drop goes
	// after its address.
	a3 := a2
	a3.Accept = true
	reload(a3)
	if got := fn.accept.dropping("a"); got != nil || !fn.addrs.has(vipOf(1)) {
		t.Fatalf("accept on: a drops %v, VIP installed %v", got, fn.addrs.has(vipOf(1)))
	}
	reload(a2)
	if got := fn.accept.dropping("a"); len(got) != 2 {
		t.Fatalf("accept off again: a drops %v", got)
	}
	if d.routers["v2"] == nil {
		t.Error("the VRRPv2 router with accept: true did not start")
	}
	fn.accept.mu.Lock()
	fn.accept.early = nil // the toggle to accept: true, on purpose
	fn.accept.mu.Unlock()
	// A router removed by a reload: its drop goes after its addresses.
	if res := d.Apply(&config.Config{Routers: []config.Router{v2, o, y}}); !res.OK || !slices.Equal(res.Removed, []string{"a"}) {
		t.Fatalf("reload removing a: %+v", res)
	}
	if got := fn.accept.dropping("a"); got != nil || fn.addrs.has(vipOf(1)) {
		t.Errorf("a removed: drops %v, VIP installed %v", got, fn.addrs.has(vipOf(1)))
	}
	reload(a2)
	stop.Do(d.Stop)
	fn.accept.mu.Lock()
	defer fn.accept.mu.Unlock()
	if len(fn.accept.early) > 0 {
		t.Errorf("at stop, drops removed before their VIPs: %v", fn.accept.early)
	}
	if !fn.accept.closed {
		t.Error("guard not closed at stop")
	}
}
