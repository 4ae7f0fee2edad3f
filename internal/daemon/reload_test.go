package daemon

import (
	"maps"
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/internal/config"
)

// adverts counts the adverts written on eth0 for vrid, and returns the
// priority of the last.
func adverts(fn *fakeNet, vrid uint8) (n int, last uint8) {
	for _, a := range fn.sock("eth0").written() {
		if a.VRID == vrid {
			n, last = n+1, a.Priority
		}
	}
	return n, last
}

// A reload leaves an unchanged router alone (no transition, no restart),
// restarts one whose VRID changed (the old instance resigns with a
// priority-0 advert [5798-6.4.3-g] and sends nothing more, the new one
// elects itself), stops a removed one (it resigns too and releases its
// addresses) and starts an added one.
func TestReloadLifecycle(t *testing.T) {
	const iv = 10 * time.Millisecond
	same, moved, gone := routerCfg("same", 1, 200, iv), routerCfg("moved", 2, 200, iv), routerCfg("gone", 4, 200, iv)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{same, moved, gone}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "three Masters", func() bool {
		return countStates(d)["Master"] == 3 && fn.addrs.count() == 3
	})
	det, _ := d.Router("same")
	sameBefore := len(det.Transitions)

	moved.VRID = 3 // its address stays vipOf(2)
	added := routerCfg("added", 5, 200, iv)
	res := d.Apply(&config.Config{Routers: []config.Router{same, moved, added}})
	switch {
	case !res.OK, !slices.Equal(res.Unchanged, []string{"same"}), !slices.Equal(res.Restarted, []string{"moved"}),
		!slices.Equal(res.Removed, []string{"gone"}), !slices.Equal(res.Added, []string{"added"}), len(res.Updated) != 0:
		t.Fatalf("reload %+v", res)
	}
	n2, last2 := adverts(fn, 2)
	n4, last4 := adverts(fn, 4)
	if last2 != 0 || last4 != 0 {
		t.Fatalf("the stopped routers' last adverts at priority %d (moved) and %d (gone), want 0", last2, last4)
	}
	waitUntil(t, 5*time.Second, "the restarted and added routers Master", func() bool {
		c := countStates(d)
		return c["Master"] == 3 && len(d.Routers()) == 3 && fn.addrs.count() == 3
	})
	// Some intervals of the new routers' adverts: the old ones send none.
	n3, _ := adverts(fn, 3)
	waitUntil(t, 5*time.Second, "five more adverts", func() bool { n, _ := adverts(fn, 3); return n >= n3+5 })
	if n, _ := adverts(fn, 2); n != n2 {
		t.Fatalf("the old instance of moved sent %d adverts after it stopped", n-n2)
	}
	if n, _ := adverts(fn, 4); n != n4 {
		t.Fatalf("the removed router sent %d adverts after it stopped", n-n4)
	}
	fn.addrs.mu.Lock()
	held := maps.Clone(fn.addrs.on["eth0"])
	fn.addrs.mu.Unlock()
	if !held[prefixOf(2)] || held[prefixOf(4)] || !held[prefixOf(5)] {
		t.Fatalf("addresses held after the reload %v: want moved's and added's, not gone's", held)
	}
	det, _ = d.Router("same")
	if det.State != "Master" || len(det.Transitions) != sameBefore {
		t.Fatalf("the unchanged router moved: %s, %+v", det.State, det.Transitions[sameBefore:])
	}
}

// prefixOf is the VIP of routerCfg's router of vrid, as installed.
func prefixOf(vrid uint8) netip.Prefix { return netip.PrefixFrom(vipOf(vrid), 24) }
