package interop

import (
	"net/netip"
	"regexp"
	"testing"
	"time"
)

// v2 builds a VRRPv2 IPv4 VR (whole-second adverts).
func v2(prio uint8, pass string) VR {
	return VR{VRID: 51, Version: 2, Family: IPv4, Priority: prio, Interval: time.Second, VIPs: []netip.Prefix{vip4}, AuthPass: pass}
}

// mixedCase is one configuration run between govrrp and another
// implementation, in both directions.
type mixedCase struct {
	name string
	vr   func(prio uint8) VR
	// unicast: each side lists the other as its only peer.
	unicast bool
	fail    failure
	clean   cleanOpts
}

// runMixed runs c with govrrp on r1 and other (built by mk) on r2: first
// with govrrp the higher priority, then the other way round. The right
// router is master, the backup takes over when the master fails and gives
// back when it returns, the host reaches the VIP throughout, and neither
// side complains about the other's adverts.
func runMixed(t *testing.T, c mixedCase, mk func(t *testing.T, l *Lab, v VR) Peer) {
	for _, govrrpMaster := range []bool{true, false} {
		dir := "govrrp-master"
		if !govrrpMaster {
			dir = "govrrp-backup"
		}
		t.Run(c.name+"/"+dir, func(t *testing.T) {
			l := NewLab(t, 2)
			hi, lo := uint8(254), uint8(100)
			if !govrrpMaster {
				hi, lo = lo, hi
			}
			gv, ov := c.vr(hi), c.vr(lo)
			if c.unicast {
				gv.Unicast = []netip.Addr{l.Routers[1].V4.Addr()}
				ov.Unicast = []netip.Addr{l.Routers[0].V4.Addr()}
			}
			g := NewGovrrp(t, l.Routers[0], l.Dir, gv)
			o := mk(t, l, ov)
			l.Start(t, g)
			l.Start(t, o)
			var master, backup Peer = g, o
			if !govrrpMaster {
				master, backup = o, g
			}
			k := gv.Key()
			took := l.WaitMaster(t, master, k, converge)
			t.Logf("%s master after %v", master.Name(), took.Round(time.Millisecond))
			pr := probeVIP(t, l, gv)
			answeredBy(t, l, pr, master, gv, "converged")
			failover(t, l, c.fail, master, backup, gv, pr)
			checkClean(t, l, c.clean)
		})
	}
}

// The keepalived side of the mixed runs: v2 with and without PASS auth,
// v3 over IPv4 and IPv6, v3 unicast. v2 counts whole seconds, so its runs
// fail over with SIGTERM (priority 0: the backup waits only Skew_Time).
func TestMixedKeepalived(t *testing.T) {
	ipv6 := cleanOpts{warnings: ipv6Warnings}
	for _, c := range []mixedCase{
		{name: "v2", vr: func(p uint8) VR { return v2(p, "") }, fail: sigterm},
		{name: "v2-pass", vr: func(p uint8) VR { return v2(p, "secret12") }, fail: sigterm},
		{name: "v3-ipv4", vr: func(p uint8) VR { return vr3(IPv4, p) }, fail: cablePull},
		{name: "v3-ipv6", vr: func(p uint8) VR { return vr3(IPv6, p) }, fail: cablePull, clean: ipv6},
		{name: "v3-ipv4-unicast", vr: func(p uint8) VR { return vr3(IPv4, p) }, unicast: true, fail: sigkill},
		// use_vmac beside govrrp's VMAC, whose macvlan discards what is
		// addressed to the VMAC while Backup [5798-6.4.2-d].
		{name: "v3-ipv4-vmac", vr: func(p uint8) VR { v := vr3(IPv4, p); v.VMAC = true; return v }, fail: cablePull},
	} {
		runMixed(t, c, func(t *testing.T, l *Lab, v VR) Peer { return NewKeepalived(t, l.Routers[1], l.Dir, v) })
	}
}

// The FRR side: v3 over IPv4 and IPv6 and v2 over IPv4, VMAC on both sides
// (FRR always uses one).
func TestMixedFRR(t *testing.T) {
	vmacVR := func(f func(uint8) VR) func(uint8) VR {
		return func(p uint8) VR { v := f(p); v.VMAC = true; return v }
	}
	// FRR never lists a link-local, so its IPv6 list has one address less
	// than govrrp's and vrrpd says so at debug level ("Datagram has 2
	// addresses, but this VRRP instance has 1"); it keeps the advert.
	ipv6 := cleanOpts{warnings: ipv6Warnings, peerLine: regexp.MustCompile(`Datagram has 2 addresses, but this VRRP instance has 1`)}
	for _, c := range []mixedCase{
		{name: "v3-ipv4", vr: vmacVR(func(p uint8) VR { return vr3(IPv4, p) }), fail: cablePull},
		{name: "v3-ipv6", vr: vmacVR(func(p uint8) VR { return vr3(IPv6, p) }), fail: linkDown, clean: ipv6},
		{name: "v2-ipv4", vr: vmacVR(func(p uint8) VR { return v2(p, "") }), fail: sigterm},
	} {
		runMixed(t, c, func(t *testing.T, l *Lab, v VR) Peer { return NewFRR(t, l.Routers[1], l.Dir, v) })
	}
}
