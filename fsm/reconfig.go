package fsm

import (
	"net/netip"
	"slices"

	"govrrp/vrrp"
)

// Reconfigure applies a new configuration to a running (or stopped) router
// in place, with no state transition, and returns the actions to execute
// (the slice is reused by the next call to Handle or Reconfigure). It is a
// method rather than an Event because it can fail and because a *Config in
// Event would make every advert event carry a pointer for a rare operation.
//
// In place, in every state:
//
//   - Priority (non-owner to non-owner): the configured priority, and the
//     effective one is reset to it, exactly like a tracked change
//     (SetPriority): on the wire with the next advert, in the next timer
//     arming, never moving a running timer. A caller that tracks objects
//     sends SetPriority(effective) right after, computed from the new
//     configured priority. When Priority is unchanged the effective
//     (tracked) priority is kept.
//   - AdvertInterval: Master: the next Adver_Timer deadline is the earlier
//     of the running one and now + the new interval, then the new interval
//     applies [5798-6.4.3-h]; so no gap between adverts exceeds the old
//     interval and none is shorter than the new one (no burst). VRRPv3
//     Backup: Master_Adver_Interval is the Master's, learnt from its adverts
//     [9568-6.4.2-a], so nothing changes, except when no advert has been
//     accepted yet and it still holds the startup value [5798-6.4.1-b]:
//     then, as in VRRPv2 [3768-6.1-b], Master_Down_Interval is recomputed
//     and Master_Down_Timer re-armed from now, unless it is running
//     Skew_Time after a priority-0 advert [5798-6.4.2-h].
//   - Addresses: Master: one RemoveAddresses (IPv6: then LeaveGroup) per
//     removed address, one AddAddresses (IPv6: JoinGroup) and Announce per
//     new one, each with Action.Addr set; other states only store them.
//   - Primary: as SetPrimary.
//   - Preempt, PreemptDelay: a running preempt hold ends at its start plus
//     the new delay (at once if that is past, or when preemption or the
//     delay is turned off); a hold that has ended is not reopened. Otherwise
//     they take effect with the next advert.
//   - Accept, NoReplyLower: stored; Status().Accept follows, and the caller
//     re-reads it.
//   - V2Compat: stored; the next advert has its VRRPv2 copy, or not.
//
// A configuration that fails Check returns its ErrConfig error; a change of
// VRID, Version, Family, or between owner and non-owner priority returns an
// ErrRestartNeeded error. Either way the router is left untouched.
func (r *Router) Reconfigure(cfg Config) ([]Action, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := r.cfg.inPlace(&cfg); err != nil {
		return nil, err
	}
	r.acts = r.acts[:0]
	r.now = r.clock.Now()
	cfg.Addresses = slices.Clone(cfg.Addresses)
	prev := r.cfg
	r.cfg = cfg
	if cfg.Priority != prev.Priority {
		r.prio = cfg.Priority // non-owner to non-owner: 1..254 by Check
	}
	r.setPrimary(cfg.Primary)
	if r.state == Master {
		r.changeAddresses(prev.Addresses)
	}
	r.reconfigureTimers(&prev)
	return r.acts, nil
}

// setPrimary changes our primary address: the advert source and the
// tie-break operand [5798-6.4.3-j] [9568-6.4.3-a]. An invalid address or one
// of the wrong family is ignored: the router keeps the last good one (the
// caller decides what an interface without an address means, e.g. a fault).
func (r *Router) setPrimary(a netip.Addr) {
	if !a.IsValid() || vrrp.FamilyOf(a) != r.cfg.Family {
		return
	}
	r.cfg.Primary = a
	if r.state == Master {
		// Our own address moved: the same Master, not a change.
		r.masterAddr, r.lastMaster = a, a
	}
}

// changeAddresses withdraws the virtual addresses in old that the new
// configuration dropped and installs and announces the new ones, as
// becomeMaster and leaveMaster do for all of them [5798-6.4.2-g]
// [5798-6.4.3-b].
func (r *Router) changeAddresses(old []netip.Addr) {
	v6 := r.cfg.Family == vrrp.IPv6
	r.emitEach(RemoveAddresses, old, r.cfg.Addresses)
	if v6 {
		r.emitEach(LeaveGroup, old, r.cfg.Addresses)
	}
	r.emitEach(AddAddresses, r.cfg.Addresses, old)
	if v6 {
		r.emitEach(JoinGroup, r.cfg.Addresses, old)
	}
	r.emitEach(Announce, r.cfg.Addresses, old)
}

// emitEach emits kind once for each distinct address of addrs not in except.
func (r *Router) emitEach(kind ActionKind, addrs, except []netip.Addr) {
	for i, a := range addrs {
		if !slices.Contains(except, a) && !slices.Contains(addrs[:i], a) {
			r.emit(Action{Kind: kind, Addr: a})
		}
	}
}
