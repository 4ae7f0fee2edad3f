package bfdrun

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/internal/lab"
)

// draft-ietf-rtgwg-vrrp-bfd-p2p: the Master answers the session its Backup
// opens, passively and only on-link. A peer's first packet from an
// accepted source opens a passive session that comes Up; one from a
// source the check refuses, or beyond the bound, opens nothing and is
// dropped as no_session; the peer's removal (AdminDown) removes the
// accepted session.
func TestRunnerAccept(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	a, b, c := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	ca, cb, cc := newChanges(), newChanges(), newChanges()
	ra, rb, rc := startRunner(t, a, ca), startRunner(t, b, cb), startRunner(t, c, cc)
	defer ra.Close()
	defer rb.Close()
	defer rc.Close()
	onLink := func(p netip.Addr) bool { return p == b.V4.Addr() } // c is "off-link" here
	if err := ra.Accept(AcceptConfig{Name: "vr1:", Interface: "eth0", OnLink: onLink, Max: 4, Config: fast}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Add(SessionConfig{Name: "to-master", Interface: "eth0", Peer: a.V4.Addr(), Config: fast}); err != nil {
		t.Fatal(err)
	}
	if err := rc.Add(SessionConfig{Name: "to-master", Interface: "eth0", Peer: a.V4.Addr(), Config: fast}); err != nil {
		t.Fatal(err)
	}
	cb.await(t, bfd.Up, 5*time.Second)
	st := settled(t, ra)
	if st.Name != "vr1:"+b.V4.Addr().String() || !st.Passive {
		t.Fatalf("accepted session %+v", st)
	}
	deadline := time.Now().Add(3 * time.Second)
	for ra.Drops()["eth0/ipv4"]["no_session"] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the refused source's packets not dropped: %v", ra.Drops())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := rb.Remove("to-master"); err != nil {
		t.Fatal(err)
	}
	ch := ca.await(t, bfd.Down, time.Second)
	if !ch.PeerAdminDown || ch.Failure {
		t.Fatalf("the Backup's removal: %+v", ch)
	}
	if st := ra.Status(); len(st) != 0 {
		t.Fatalf("accepted session left behind: %+v", st)
	}
	// Stopping accepting keeps nothing open; a new first packet is dropped.
	if err := ra.StopAccepting("eth0", false); err != nil {
		t.Fatal(err)
	}
	if d := ra.Drops(); len(d) != 0 {
		t.Fatalf("listener left open: %v", d)
	}
}
