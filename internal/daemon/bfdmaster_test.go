package daemon

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
)

// Master–Backup BFD on the loop (draft-ietf-rtgwg-vrrp-bfd-p2p): a Backup
// with bfd_master wants a session to the Master it follows, learnt from the
// advert it accepts; the session's failure, posted from the BFD runner's
// goroutine without waiting, makes its successor Master at the next step
// (reason bfd-master-down); a peer's AdminDown, a session to a Master no
// longer followed, and a router whose successor is false change nothing.
func TestBFDMasterDownOnTheLoop(t *testing.T) {
	const iv = time.Second
	down := func(peer netip.Addr) bfdrun.Change {
		return bfdrun.Change{Name: mbSession + "b", From: bfd.Up, To: bfd.Down, Diag: bfd.DiagDetectExpired, Failure: true,
			Peer: peer, Detection: 30 * time.Millisecond}
	}
	for _, tc := range []struct {
		name      string
		successor config.Successor
		change    bfdrun.Change
		want      []string
	}{
		{"successor takes over on the failure", config.SuccessorTrue, down(peerA4), []string{"b:Initialize->Backup(startup)", "b:Backup->Master(bfd-master-down)"}},
		{"a peer's AdminDown is no failure [5882-3.2]", config.SuccessorTrue,
			bfdrun.Change{Name: mbSession + "b", From: bfd.Up, To: bfd.Down, Diag: bfd.DiagNeighborDown, PeerAdminDown: true, Peer: peerA4},
			[]string{"b:Initialize->Backup(startup)"}},
		{"a session to another router is stale", config.SuccessorTrue, down(peerB4), []string{"b:Initialize->Backup(startup)"}},
		{"successor false keeps the RFC timers", config.SuccessorFalse, down(peerA4), []string{"b:Initialize->Backup(startup)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := newStepLab(t)
			d := &Daemon{mb: newBFDMaster(), log: quiet}
			c := routerCfg("b", 1, 100, iv)
			c.BFDMaster = &config.BFDMaster{MinTx: 10 * time.Millisecond, MinRx: 10 * time.Millisecond, Multiplier: 3, Successor: tc.successor}
			lab.add(c, func(r *vr) { r.d = d })
			lab.at(time.Millisecond)
			lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, 10*time.Millisecond))
			lab.at(20 * time.Millisecond)
			w := d.mb.want["b"]
			wantPeer := peerA4
			if tc.successor == config.SuccessorFalse {
				wantPeer = netip.Addr{}
			}
			if w.peer != wantPeer || w.local != self4 || w.key != (mbKey{"eth0", false}) || w.params.DetectMult != 3 {
				t.Fatalf("wants %+v, want a session to %v", w, wantPeer)
			}
			d.mbNotify(tc.change) // returns at once: the loop is not running
			lab.at(50 * time.Millisecond)
			if got := lab.transitions(); !slices.Equal(got, tc.want) {
				t.Fatalf("transitions %v, want %v", got, tc.want)
			}
			if len(tc.want) == 2 {
				if w := d.mb.want["b"]; w.peer.IsValid() {
					t.Fatalf("a Master still wants a session to %v", w.peer)
				}
			}
		})
	}
}

// The sessions peers open to a Master are named by their address: a host
// on the LAN can make many. They never reach the tracking state
// (bfdtrack.go), so it cannot grow with them; top-level sessions do.
func TestBFDMasterSessionsNotTracked(t *testing.T) {
	d := &Daemon{mb: newBFDMaster(), log: quiet}
	for i := range 100 {
		c := bfdrun.Change{Name: mbAccepted + "eth0/" + netip.AddrFrom4([4]byte{10, 77, 1, byte(i)}).String(), From: bfd.Down, To: bfd.Init}
		if !d.mbNotify(c) {
			t.Fatalf("%s not taken for a Master–Backup session", c.Name)
		}
	}
	if !d.mbNotify(bfdrun.Change{Name: mbSession + "gw", From: bfd.Down, To: bfd.Up}) {
		t.Fatal("a Backup's session not taken for a Master–Backup session")
	}
	if d.mbNotify(bfdrun.Change{Name: "frr", From: bfd.Down, To: bfd.Up}) {
		t.Fatal("a top-level session taken for a Master–Backup session")
	}
}
