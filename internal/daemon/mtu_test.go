package daemon

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/config"
)

// A router whose advert does not fit its interface's MTU cannot send it, and
// the configuration checks see only the interfaces there when they run: one
// that appears later with a small MTU, or whose MTU is lowered while the
// router runs, makes the router wait in Fault (advert-exceeds-mtu, logged
// once, shown in status) holding no socket, and run once the MTU allows
// the advert (issue 12, "an advert larger than the interface's MTU").
func TestAdvertExceedsMTUWaitsInFault(t *testing.T) {
	big := routerCfg("big", 2, 100, 10*time.Millisecond)
	big.Interface = "vlan7"
	big.Addresses = nil
	for i := range 15 {
		big.Addresses = append(big.Addresses, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 77, 7, byte(100 + i)}), 24))
	}
	const small = 68 // IPv4's minimum; the advert is 20+8+15×4 = 88 bytes
	if n := config.AdvertSize(&big); n <= small {
		t.Fatalf("advert of %d bytes fits MTU %d", n, small)
	}
	d, fn, logs := startMissing(t, "vlan7", routerCfg("up", 1, 255, 10*time.Millisecond), big)
	reason := func() string { return stateOrReason(d, "big") }

	// Appears with too small an MTU.
	fn.setMTU("vlan7", small)
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitUntil(t, 2*time.Second, "big waiting for a larger MTU", func() bool { return reason() == faultMTU })
	if fn.sock("vlan7") != nil {
		t.Fatal("a socket was opened on the interface whose MTU is too small")
	}
	if !hasEvent(d, "big", "Fault", faultMTU) {
		t.Fatal("no event says the router waits for a larger MTU")
	}
	var listed bool
	for _, r := range d.Routers() {
		listed = listed || (r.Name == "big" && r.State == "Fault" && r.FaultReason == faultMTU)
	}
	if !listed {
		t.Fatalf("status does not list the waiting router: %+v", d.Routers())
	}
	// Another link event, the MTU still too small: no second line.
	d.linkChanged(fn.setMTU("vlan7", small+4))
	d.linkChanged(fn.setMTU("vlan7", small))
	if n := logs.count("does not fit the MTU"); n != 1 {
		t.Fatalf("%d log lines say the advert does not fit, want 1:\n%s", n, logs.b.String())
	}

	// Raised: runs.
	d.linkChanged(fn.setMTU("vlan7", 1500))
	waitUntil(t, 2*time.Second, "big Master once the MTU allows its advert", func() bool { return reason() == "Master" })

	// Lowered while it runs: back to waiting, its socket closed.
	first := fn.sock("vlan7")
	d.linkChanged(fn.setMTU("vlan7", small))
	waitUntil(t, 2*time.Second, "big waiting again after the MTU was lowered", func() bool { return reason() == faultMTU })
	first.mu.Lock()
	closed := first.closed
	first.mu.Unlock()
	if !closed {
		t.Fatal("the router kept its socket on the interface whose MTU is too small")
	}
	if stateOrReason(d, "up") != "Master" {
		t.Fatal("the router on another interface left Master")
	}
	d.linkChanged(fn.setMTU("vlan7", 1500))
	waitUntil(t, 2*time.Second, "big Master again", func() bool { return reason() == "Master" })
}

// TestLinkChangedDuringReload: the link watcher decides which routers a
// link event concerns, and whether their adverts still fit the MTU, while
// reloads change the routers' configurations in place on their loops. It
// read r.cfg, which the loop writes, so `go test -race` saw a data race.
func TestLinkChangedDuringReload(t *testing.T) {
	c := routerCfg("r", 1, 100, 10*time.Millisecond)
	c.Track.Interfaces = []config.TrackItem{{Name: "eth1", Weight: -10}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	wantRouter(t, d, fn, "r", 1, "Master", 100)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // until the reloads are over
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			d.linkChanged(fn.setMTU(c.Interface, 1500))
			d.linkChanged(fn.setMTU("eth1", 1500))
		}
	}()
	for i := 1; i <= 50; i++ { // i 0 would be unchanged
		c.Priority = uint8(100 + i%2)
		c.Addresses = []netip.Prefix{netip.PrefixFrom(vipOf(1), 24)}
		if i%2 == 1 { // a larger advert
			c.Addresses = append(c.Addresses, netip.MustParsePrefix("10.78.0.200/24"))
		}
		if res := d.Apply(&config.Config{Routers: []config.Router{c}}); !res.OK || len(res.Updated) != 1 {
			close(stop)
			t.Fatalf("reload: %+v", res)
		}
	}
	close(stop)
	<-done
}
