package daemon

import (
	"net/netip"
	"testing"
	"time"
)

// A router's configured source (multicast_source, unicast_source) must be
// an address of its interface: adverts that cannot leave from it fail
// while the router is Master, so the peer becomes Master too, and from an
// address on another interface they leave with it. The configuration
// checks see only the interfaces there when they run, so the daemon checks
// again: a router whose interface appears without the address, or loses it
// while it runs, waits in Fault (source-missing, logged once per episode,
// an event, in status) holding no socket, and runs once the address is
// back (B3 of issue 13's review).
func TestSourceMissingWaitsInFault(t *testing.T) {
	src := netip.MustParsePrefix("10.77.0.21/24")
	r := routerCfg("src", 2, 100, 10*time.Millisecond)
	r.Interface = "vlan7"
	r.MulticastSource = src.Addr()
	d, fn, logs := startMissing(t, "vlan7", routerCfg("up", 1, 255, 10*time.Millisecond), r)
	reason := func() string { return stateOrReason(d, "src") }

	// Appears without the address.
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitUntil(t, 2*time.Second, "src waiting for its source address", func() bool { return reason() == faultSource })
	if fn.sock("vlan7") != nil {
		t.Fatal("a socket was opened on the interface without the source address")
	}
	if !hasEvent(d, "src", "Fault", faultSource) {
		t.Fatal("no event says the router waits for its source address")
	}
	// Another link event, still without it: no second line.
	d.linkChanged(fn.setUp("vlan7", true))
	d.linkChanged(fn.link("vlan7"))
	if n := logs.count("source address"); n != 1 {
		t.Fatalf("%d log lines say the source address is missing, want 1:\n%s", n, logs.b.String())
	}

	// Added: runs.
	fn.addrs.setHost("vlan7", src)
	d.linkChanged(fn.link("vlan7"))
	waitUntil(t, 2*time.Second, "src Master once its interface has the source", func() bool { return reason() == "Master" })

	// Removed while it runs (a secondary address: the primary is
	// unchanged): back to waiting, its socket closed.
	first := fn.sock("vlan7")
	fn.addrs.setHost("vlan7")
	d.linkChanged(fn.link("vlan7"))
	waitUntil(t, 2*time.Second, "src waiting again after its source was removed", func() bool { return reason() == faultSource })
	first.mu.Lock()
	closed := first.closed
	first.mu.Unlock()
	if !closed {
		t.Fatal("the router kept its socket on the interface without its source")
	}
	if n := logs.count("source address"); n != 2 {
		t.Fatalf("%d log lines say the source address is missing, want 2 (one per episode):\n%s", n, logs.b.String())
	}
	if stateOrReason(d, "up") != "Master" {
		t.Fatal("the router on another interface left Master")
	}
	fn.addrs.setHost("vlan7", src)
	d.linkChanged(fn.link("vlan7"))
	waitUntil(t, 2*time.Second, "src Master again", func() bool { return reason() == "Master" })
}
