package interop

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// keepalived with check_unicast_src accepts unicast adverts only from the
// addresses in its unicast_peer list. With unicast_source (keepalived's
// unicast_src_ip) govrrp sends from the address keepalived lists, here a
// secondary one of eth0, not its primary address or, over IPv6, its
// link-local: one Master (govrrp), keepalived Backup, and no complaint on
// either side. The capture sees the adverts come from that address
// (WaitMaster).
func TestKeepalivedUnicastSource(t *testing.T) {
	for _, tc := range []struct {
		fam  Family
		src  string // govrrp's unicast_source, added to its eth0
		plen string
	}{
		{IPv4, "10.77.0.101", "/24"},
		{IPv6, "fd77::101", "/64"},
	} {
		t.Run(tc.fam.String(), func(t *testing.T) {
			l := NewLab(t, 2)
			r1, r2 := l.Routers[0], l.Routers[1]
			src := netip.MustParseAddr(tc.src)
			r1.MustIP(t, "addr", "add", tc.src+tc.plen, "dev", "eth0", "nodad")
			peer := r2.V4.Addr()
			if tc.fam == IPv6 {
				peer = r2.V6.Addr()
			}
			gv, kv := vr3(tc.fam, 254), vr3(tc.fam, 100)
			gv.Unicast, gv.Source = []netip.Addr{peer}, src
			kv.Unicast, kv.CheckUnicastSrc = []netip.Addr{src}, true
			if tc.fam == IPv6 {
				kv.Source = peer // keepalived's own global address too
			}
			g := NewGovrrp(t, r1, l.Dir, gv)
			k := NewKeepalived(t, r2, l.Dir, kv)
			l.Start(t, g)
			l.Start(t, k)
			l.WaitMaster(t, g, gv.Key(), converge)
			l.StaysMaster(t, g, gv.Key(), 1500*time.Millisecond)
			clean := cleanOpts{}
			if tc.fam == IPv6 {
				clean.warnings = ipv6Warnings
			}
			checkClean(t, l, clean)
			if d, err := g.Detail(gv.Key()); err != nil || d.Primary != tc.src {
				t.Errorf("govrrp's primary %q (%v), want %s", d.Primary, err, tc.src)
			}
		})
	}
	// The control: without unicast_source govrrp sends from its primary
	// address, which keepalived does not list, so keepalived drops its
	// adverts and becomes Master too.
	t.Run("control", func(t *testing.T) {
		l := NewLab(t, 2)
		r1, r2 := l.Routers[0], l.Routers[1]
		src := netip.MustParseAddr("10.77.0.101")
		r1.MustIP(t, "addr", "add", "10.77.0.101/24", "dev", "eth0", "nodad")
		gv, kv := vr3(IPv4, 254), vr3(IPv4, 100)
		gv.Unicast = []netip.Addr{r2.V4.Addr()}
		kv.Unicast, kv.CheckUnicastSrc = []netip.Addr{src}, true
		g := NewGovrrp(t, r1, l.Dir, gv)
		k := NewKeepalived(t, r2, l.Dir, kv)
		l.Start(t, g)
		l.Start(t, k)
		l.WaitState(t, g, gv.Key(), Master, converge)
		l.WaitState(t, k, kv.Key(), Master, converge)
		time.Sleep(time.Second) // and both stay Master: keepalived never hears govrrp
		for _, p := range []Peer{g, k} {
			if st, _ := p.State(gv.Key()); st != Master {
				t.Errorf("%s is %v, want Master (split brain)", p.Name(), st)
			}
		}
	})
}

// multicast_source (keepalived's mcast_src_ip) makes an address of eth0 the
// router's primary address: its multicast adverts come from it (WaitMaster
// checks the capture) and it decides the tie between two Masters of equal
// priority [5798-6.4.3-j]. keepalived is Master first; govrrp, not hearing
// it (its VRRP input dropped), becomes Master too; keepalived then hears an
// equal priority: from 10.77.0.200 (multicast_source), higher than its own
// 10.77.0.2, it yields; from govrrp's own 10.77.0.1 (the control), it stays,
// and govrrp yields once it hears keepalived again.
func TestKeepalivedMulticastSource(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source bool
	}{{"multicast_source", true}, {"control", false}} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLab(t, 2)
			r1, r2 := l.Routers[0], l.Routers[1]
			r1.MustIP(t, "addr", "add", "10.77.0.200/24", "dev", "eth0")
			gv, kv := vr3(IPv4, 100), vr3(IPv4, 100)
			if tc.source {
				gv.Source = netip.MustParseAddr("10.77.0.200")
			}
			g := NewGovrrp(t, r1, l.Dir, gv)
			k := NewKeepalived(t, r2, l.Dir, kv)
			l.Start(t, k)
			l.WaitState(t, k, kv.Key(), Master, converge)
			heal := lab.DropVRRP(t, r1)
			l.Start(t, g)
			l.WaitState(t, g, gv.Key(), Master, converge)
			heal()
			var master Peer = k
			if tc.source {
				master = g
			}
			l.WaitMaster(t, master, gv.Key(), converge)
			l.StaysMaster(t, master, gv.Key(), time.Second)
		})
	}
}
