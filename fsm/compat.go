package fsm

import (
	"net/netip"
	"time"

	"govrrp/vrrp"
)

// The VRRPv2/VRRPv3 interoperation mode of RFC 5798 §8.4 (RFC 9568 §8.4.2),
// for migrating a VRRPv2 LAN to VRRPv3 [5798-8.4.2-b]: a VRRPv3 IPv4 router
// with Config.V2Compat sends a VRRPv2 copy of each of its adverts
// [5798-8.4.2-c] and listens to both versions. It follows the VRRPv3 rules
// throughout: a Backup times out on the rate the Master advertises, a
// VRRPv2 Master's whole seconds taken as they are [9568-8.4.2-a], and
// ignores the VRRPv2 adverts of a Master that also sends VRRPv3
// [5798-8.4.2-d]. Meant for the migration only: permanent mixed operation
// is NOT RECOMMENDED [5798-8.4.2-a].

// compat is the state of the interoperation mode: what was last heard in
// which version.
type compat struct {
	// v3Src sent the last VRRPv3 advert, at v3At.
	v3Src netip.Addr
	v3At  time.Duration
	// v2Since: v3Src has sent a VRRPv2 advert since its last VRRPv3 one.
	v2Since bool
}

// checkCompat is Check's part for V2Compat [IMPL-15]: VRRPv2 is IPv4 only,
// and a VRRPv2 peer discards an advert whose Adver Int (whole seconds) is
// not its own, so the interval must be one VRRPv2 can carry.
func (c *Config) checkCompat() error {
	if !c.V2Compat {
		return nil
	}
	switch {
	case c.Version != 3:
		return configErr("the VRRPv2/v3 interoperation mode is for a VRRPv3 router")
	case c.Family != vrrp.IPv4:
		return configErr("the VRRPv2/v3 interoperation mode is IPv4 only")
	case c.AdvertInterval < time.Second || c.AdvertInterval%time.Second != 0:
		// The VRRPv3 range already caps it at 40.95 s.
		return configErr("advert interval %v: the VRRPv2/v3 interoperation mode needs whole seconds, 1s..40s", c.AdvertInterval)
	}
	return nil
}

// sendV2Copy follows a VRRPv3 advert of priority prio with its VRRPv2 copy
// in the interoperation mode: both at every interval, and for every other
// advert too (the priority-0 resignation, the answers to received ones)
// [5798-8.4.2-c].
func (r *Router) sendV2Copy(prio uint8) {
	if !r.cfg.V2Compat {
		return
	}
	r.emit(Action{Kind: SendAdvert, Priority: prio, Version: 2})
	r.counters.SentAdvertisements++
	r.counters.SentV2Advertisements++
	if prio == 0 {
		r.counters.SentPriZeroPackets++
	}
}

// compatIgnore reports whether an advert is to be ignored by the
// interoperation mode: the VRRPv2 advert of a Master that also sends VRRPv3,
// heard as Backup [5798-8.4.2-d]. "Also sends" means a VRRPv3 advert from
// the same address within the last Master_Down_Interval. On the way it
// notes a VRRPv3 router that sends two adverts with no VRRPv2 one between:
// a Master that is not in the interoperation mode, which the RFC lets us
// report (Counters.V3WithoutV2; the VRRPv2 routers do not hear it).
func (r *Router) compatIgnore(ev Event) bool {
	if !r.cfg.V2Compat {
		return false
	}
	c := &r.compat
	if ev.Version != 2 {
		if ev.Priority != 0 && ev.Src == c.v3Src && !c.v2Since {
			r.counters.V3WithoutV2++
		}
		c.v3Src, c.v3At, c.v2Since = ev.Src, r.now, false
		return false
	}
	r.counters.RcvdV2Advertisements++
	if ev.Src != c.v3Src {
		return false
	}
	c.v2Since = true
	if r.state == Backup && r.now-c.v3At <= r.masterDown {
		r.counters.V2Ignored++
		return true
	}
	return false
}
