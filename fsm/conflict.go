package fsm

import (
	"net/netip"
	"time"

	"govrrp/vrrp"
)

// Split brain and duplicate owners: what a router reports when the LAN
// holds more Masters or owners than VRRP allows. Each is reported once per
// episode, not per packet, so a flood of such adverts costs one log line.

// episode is one run of a repeated sign (another Master, a second owner):
// it ends when the sign has not been seen for gap.
type episode struct {
	active    bool
	last, gap time.Duration
	peer      netip.Addr
}

// seen records a sign from peer at now and reports whether it starts a new
// episode.
func (e *episode) seen(now, gap time.Duration, peer netip.Addr) bool {
	fresh := !e.on(now)
	e.active, e.last, e.gap, e.peer = true, now, gap, peer
	return fresh
}

func (e *episode) on(now time.Duration) bool { return e.active && now-e.last <= e.gap }

// quietGap is how long an episode outlasts its last sign: the
// Master_Down_Interval of the longer of our interval and the other
// router's, so a peer that keeps advertising keeps its episode open.
func (r *Router) quietGap(theirs time.Duration) time.Duration {
	return MasterDownInterval(r.cfg.Version, r.prio, max(theirs, r.cfg.AdvertInterval))
}

// otherMaster: a Master heard another router that is or was Master (a
// lower-priority Master advert, or a priority 0, which only a Master sends).
// The host may hold the other router's MAC for the virtual addresses, so
// announce them again, within announceAllowed's bound; and report a split
// brain unless this is the handover that made us Master (below).
func (r *Router) otherMaster(ev Event) {
	if r.announceAllowed() {
		r.emit(Action{Kind: Announce})
	}
	// Within Master_Down_Interval of becoming Master, another Master is the
	// handover that made us Master: the router we preempted, the Master an
	// owner replaced at startup, or an equal Backup whose timer expired with
	// ours. Those are not split brains.
	if r.now-r.masterSince < r.quietGap(ev.Interval) {
		return
	}
	if r.splitBrain.seen(r.now, r.quietGap(ev.Interval), ev.Src) {
		r.counters.SplitBrains++
		r.emit(Action{Kind: SplitBrain, Addr: ev.Src, Priority: ev.Priority})
	}
}

// ownerAdvert watches, in a non-owner, for priority 255 from two addresses
// [9568-8.3.2-a]. owner is the first owner heard; it is forgotten after a
// quiet gap so a replaced owner is not a duplicate.
func (r *Router) ownerAdvert(ev Event) {
	if r.cfg.Owner() || ev.Priority != vrrp.PriorityOwner {
		return
	}
	gap := r.quietGap(ev.Interval)
	switch {
	case r.owner == ev.Src:
		r.ownerLast = r.now
	case r.owner.IsValid() && r.now-r.ownerLast <= gap:
		r.owners = [2]netip.Addr{r.owner, ev.Src}
		if r.twoOwners.seen(r.now, gap, ev.Src) {
			r.counters.TwoOwners++
			r.emit(Action{Kind: TwoOwners, Addr: ev.Src, Priority: ev.Priority})
		}
	default:
		r.owner, r.ownerLast = ev.Src, r.now
	}
}
