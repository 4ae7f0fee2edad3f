package linux

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/linux/netnstest"
	"govrrp/vrrp"
)

func waitState(t *testing.T, w *LinkWatcher, what string, ok func(LinkState) bool) LinkState {
	t.Helper()
	timeout := time.After(waitLong)
	var last LinkState
	for {
		select {
		case s, open := <-w.Events():
			if !open {
				t.Fatalf("%s: events closed", what)
			}
			last = s
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("%s: not seen within %v; last state %+v", what, waitLong, last)
		}
	}
}

// TestLinkWatcher: carrier loss and return, a primary address change, and
// the interface deleted and re-created, all seen through netlink; then a
// socket on the new interface works again.
func TestLinkWatcher(t *testing.T) {
	lan := netnstest.NewLAN(t, 2)
	r1, r2 := lan.Nodes[0], lan.Nodes[1]
	w, err := WatchLinks(WatchConfig{Interfaces: []string{"eth0"}, Namespace: &r1.NS, Netlink: r1.Handle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)

	first := waitState(t, w, "initial up", func(s LinkState) bool {
		return s.Usable() && s.Primary == r1.V4.Addr() && s.LinkLocal.IsValid()
	})

	lan.Unplug(t, r1)
	waitState(t, w, "carrier loss", func(s LinkState) bool { return s.Exists && !s.Up })
	lan.Plug(t, r1)
	waitState(t, w, "carrier back", func(s LinkState) bool { return s.Usable() })

	r1.MustIP(t, "link", "set", "eth0", "down")
	waitState(t, w, "admin down", func(s LinkState) bool { return s.Exists && !s.Up })
	r1.MustIP(t, "link", "set", "eth0", "up")
	waitState(t, w, "admin up", func(s LinkState) bool { return s.Usable() })

	// Primary change: a new subnet first (deleting a primary deletes its
	// secondaries), then the old primary goes.
	r1.MustIP(t, "addr", "add", "10.78.0.1/24", "dev", "eth0")
	r1.MustIP(t, "addr", "del", r1.V4.String(), "dev", "eth0")
	waitState(t, w, "primary change", func(s LinkState) bool { return s.Primary == netip.MustParseAddr("10.78.0.1") })

	// Gone and back with a new ifindex.
	lan.Bridge.MustIP(t, "link", "del", r1.Port)
	waitState(t, w, "gone", func(s LinkState) bool { return !s.Exists })
	lan.Bridge.MustIP(t, "link", "add", r1.Port, "type", "veth", "peer", "name", "eth0", "netns", r1.Name)
	lan.Bridge.MustIP(t, "link", "set", r1.Port, "master", "br0", "up")
	r1.MustIP(t, "addr", "add", r1.V4.String(), "dev", "eth0")
	r1.MustIP(t, "link", "set", "eth0", "up")
	back := waitState(t, w, "back", func(s LinkState) bool { return s.Usable() && s.Primary == r1.V4.Addr() })
	if back.Index == first.Index {
		t.Fatalf("re-created interface kept index %d: the test proves nothing", back.Index)
	}

	// The daemon's reaction: a new socket on the new interface works.
	tx := listenIn(t, r1, ConnConfig{Family: vrrp.IPv4})
	if tx.IfIndex() != back.Index {
		t.Fatalf("socket on ifindex %d, want %d", tx.IfIndex(), back.Index)
	}
	rx := listenIn(t, r2, ConnConfig{Family: vrrp.IPv4})
	rec := newRecorder()
	d := NewDemux(nil)
	d.Register(51, &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second}, rec.deliver)
	serve(t, rx, d.Handle)
	if err := tx.Send(advert(vrrp.IPv4, "10.77.0.254"), vrrp.ChecksumPseudoHeader); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, rec)
}
