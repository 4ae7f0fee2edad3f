package interop

import (
	"testing"
	"time"

	"govrrp/internal/lab"
)

// A split brain between keepalived (the winner, priority 150) and govrrp
// (100) heals at the host: VRRP is dropped between them until both are
// Master and the host follows govrrp, then the partition heals. govrrp
// steps down with one last advert at its priority (or keepalived hears
// its regular advert first); keepalived answers a lower priority with an
// advert and gratuitous ARPs, and the host is back on keepalived within
// one advert interval plus 100 ms (plus the lab's margin for capture
// noise). Two rounds.
func TestKeepalivedWinsSplitBrain(t *testing.T) {
	l, ka, gv := pairLab(t, NewKeepalived, vr3(IPv4, 150), NewGovrrp, vr3(IPv4, 100))
	k := VRKey{51, IPv4}
	l.WaitMaster(t, ka, k, converge)
	pr := probeVIP(t, l, vr3(IPv4, 100))
	kaMAC, gvMAC := macOf(t, ka), macOf(t, gv)
	// keepalived's second GARP burst comes a second after it became
	// Master (vrrp_garp_master_delay 1); the partition starts after it.
	time.Sleep(1500 * time.Millisecond)
	waitMAC := func(what, mac string, within time.Duration) {
		t.Helper()
		t0 := time.Now()
		for pr.LastMAC() != mac {
			if time.Since(t0) > within {
				t.Fatalf("%s: the VIP is still answered by %s after %v, want %s", what, pr.LastMAC(), within, mac)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for round := 1; round <= 2; round++ {
		healKA, healGV := lab.DropVRRP(t, ka.Node()), lab.DropVRRP(t, gv.Node())
		l.WaitState(t, gv, k, Master, takeover)
		waitMAC("partitioned", gvMAC, takeover)
		time.Sleep(300 * time.Millisecond)
		if got := pr.LastMAC(); got != gvMAC {
			t.Fatalf("round %d: before the heal the VIP is answered by %s, want govrrp's %s", round, got, gvMAC)
		}
		healed := time.Now()
		healKA()
		healGV()
		waitMAC("healed", kaMAC, takeover)
		took := time.Since(healed)
		l.WaitState(t, gv, k, Backup, takeover)
		t.Logf("round %d: the host is back on keepalived %v after the heal", round, took)
		if bound := interval + 100*time.Millisecond + margin; took > bound {
			t.Errorf("round %d: the host followed keepalived %v after the heal, want at most %v", round, took, bound)
		}
		// keepalived's second GARP burst (vrrp_garp_master_delay 1) and
		// govrrp's are over before the next partition.
		time.Sleep(2500 * time.Millisecond)
	}
}
