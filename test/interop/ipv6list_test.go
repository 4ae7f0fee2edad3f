package interop

import (
	"testing"
	"time"
)

// An IPv6 address list without a link-local address, which keepalived
// accepts: govrrp runs it (validate warns outside strict) and sends it as
// it is, so keepalived, which drops adverts whose list differs from its
// own, stays Backup without a word [E8300].
func TestKeepalivedIPv6WithoutLinkLocal(t *testing.T) {
	gv, kv := vr3(IPv6, 254), vr3(IPv6, 100)
	gv.NoLinkLocal, kv.NoLinkLocal = true, true
	l, g, _ := pairLab(t, NewGovrrp, gv, NewKeepalived, kv)
	l.WaitMaster(t, g, gv.Key(), converge)
	l.StaysMaster(t, g, gv.Key(), 1500*time.Millisecond)
	checkClean(t, l, cleanOpts{warnings: ipv6Warnings})
	if d, err := g.Detail(gv.Key()); err != nil || len(d.Addresses) != 1 || d.Addresses[0] != vip6.String() {
		t.Errorf("govrrp's addresses %v (%v), want [%v]", d.Addresses, err, vip6)
	}
}
