package daemon

import (
	"fmt"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
)

// conflicts is when the latest split-brain and two-owner episodes of a
// router began (wall clock, for status), and the throttles of their
// reports. Allocated by the first one: most routers never see either.
type conflicts struct {
	splitBrain, twoOwners time.Time
	splitLog, ownersLog   throttle
}

// conflictLogPeriod bounds the reports of one kind per router. An episode
// ends after a quiet Master_Down_Interval, so a peer (or a forger) that
// comes and goes faster than that starts a new episode each time: at 10 ms
// adverts, 30 a second. Past one a second they are counted and the next
// report says how many.
const conflictLogPeriod = time.Second

// conflict reports a new episode the state machine found (fsm.SplitBrain,
// fsm.TwoOwners): the state machine emits one per episode, so this is at
// most one log line and one event per episode, never one per packet.
func (r *vr) conflict(a fsm.Action) {
	if r.conflicts == nil {
		r.conflicts = new(conflicts)
	}
	now := time.Now()
	ev := api.Event{Time: now, Router: r.cfg.Name, Priority: a.Priority}
	msg, th := "", &r.conflicts.splitLog
	switch a.Kind {
	case fsm.SplitBrain:
		r.conflicts.splitBrain = now
		ev.Type = "split_brain"
		ev.Detail = fmt.Sprintf("another Master %v (priority %d) heard while Master; announcing the addresses again", a.Addr, a.Priority)
		msg = "split brain: another Master heard while Master"
	case fsm.TwoOwners:
		r.conflicts.twoOwners, th = now, &r.conflicts.ownersLog
		owners := r.fsm.Status().Owners
		ev.Type = "two_owners"
		ev.Detail = fmt.Sprintf("priority 255 from %v and %v: two routers claim to own the addresses", owners[0], owners[1])
		msg = "two address owners (priority 255) heard"
	case fsm.BFDFalseDown:
		// Master–Backup BFD (bfdmaster.go): we took over on BFD's word.
		ev.Type = "bfd_false_down"
		ev.Detail = fmt.Sprintf("the Master %v (priority %d) that BFD declared down is alive: two Masters until the RFC's rules end it", a.Addr, a.Priority)
		msg = "bfd said the master failed, but it is alive"
	}
	n, ok := th.hit(r.l.clock.Now(), conflictLogPeriod)
	if !ok {
		return
	}
	if n > 1 {
		ev.Detail += fmt.Sprintf(" (%d episodes since the last report)", n)
	}
	r.l.emit(effect{kind: effConflict, r: r, msg: msg, src: a.Addr, ev: ev, count: n})
}

// conflictStatus is the status of both kinds of episode, nil before the
// first.
func (r *vr) conflictStatus(st *fsm.Status) (splitBrain, twoOwners *api.Conflict) {
	if r.conflicts == nil {
		return nil, nil
	}
	if n := st.Counters.SplitBrains; n > 0 {
		splitBrain = &api.Conflict{Active: st.SplitBrain, Episodes: n, Peers: []string{st.SplitBrainPeer.String()}, Since: r.conflicts.splitBrain}
	}
	if n := st.Counters.TwoOwners; n > 0 {
		twoOwners = &api.Conflict{Active: st.TwoOwners, Episodes: n, Peers: []string{st.Owners[0].String(), st.Owners[1].String()}, Since: r.conflicts.twoOwners}
	}
	return splitBrain, twoOwners
}

// logConflict writes the episode's one warning and publishes its event.
func (d *Daemon) logConflict(e effect) {
	e.r.logger().Warn(e.msg, "peer", e.src, "peer_priority", e.ev.Priority, "episodes", e.count, "detail", e.ev.Detail)
	d.events.publish(e.ev)
}
