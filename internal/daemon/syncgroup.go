package daemon

import (
	"log/slog"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/notify"
)

// A sync group (config.SyncGroup, keepalived's vrrp_sync_group) makes its
// members change state together, though they may run on different loops.
// Nothing is shared between the loops: a member's loop reports each change
// of the member (its state, and whether it has a fault of its own) as an
// effGroup effect; the group's worker slot applies the reports one at a
// time, so the group's state below is only touched there; and what the
// other members must do comes back to their loops by loop.post, as fsm
// events (EventGroupFault, EventGroupFaultCleared, EventGroupBackup). No
// loop ever waits for the group or another loop.
type syncGroup struct {
	name  string
	slot  int // the worker that owns the fields below
	hooks *notify.Runner
	log   *slog.Logger
	d     *Daemon

	members []groupMember // in configuration order
	state   fsm.State     // the group's, as its notify hooks saw it; 0 before the first report
}

// groupMember is what the group knows of one member, from its reports.
type groupMember struct {
	name     string
	r        *vr // the running instance that reported last; nil before
	state    fsm.State
	fault    bool // a fault of its own (link, tracking, interface missing)
	want     bool // a Backup that would be Master (fsm.Router.WantsMaster)
	waiting  bool // held in Initialize for a script's first result (vr.held)
	stopped  bool // shut down (the daemon stops, a reload removes or restarts it)
	told     bool // what the group last told r: group Fault or not
	reported bool
}

// groupReport is one member's change, taken on its loop.
type groupReport struct {
	name      string
	r         *vr // nil: a router waiting for its interface (park)
	state     fsm.State
	fault     bool
	want      bool
	waiting   bool
	why       string // the member's transition reason
	leftToBak bool   // Master → Backup on its own (an advert), not by the group
}

func newSyncGroup(d *Daemon, g config.SyncGroup) *syncGroup {
	s := &syncGroup{name: g.Name, slot: d.work.slot("sync-group/" + g.Name), d: d, log: d.log.With("sync_group", g.Name)}
	for _, m := range g.Routers {
		s.members = append(s.members, groupMember{name: m})
	}
	// All the group's hook forms, keepalived's with TYPE GROUP.
	s.hooks = notify.NewHooks(notify.Hooks{
		Notify: g.Notify, Master: g.Hooks.Master, Backup: g.Hooks.Backup, Fault: g.Hooks.Fault, Stop: g.Hooks.Stop,
		Keepalived: g.Hooks.Generic, Type: "GROUP", Cred: d.hookCred,
	}, d.hookTimeout, s.log)
	return s
}

// syncGroups builds the groups of cfg, by member name.
func (d *Daemon) syncGroups(cfg *config.Config) map[string]*syncGroup {
	out := map[string]*syncGroup{}
	for _, g := range cfg.SyncGroups {
		s := newSyncGroup(d, g)
		for _, m := range g.Routers {
			out[m] = s
		}
	}
	return out
}

// groupSync reports the router's change to its group, if it has one and
// something the group follows changed. On the loop, after every event: a
// compare of two fields when nothing changed.
func (r *vr) groupSync(acts []fsm.Action) {
	if r.group == nil {
		return
	}
	st, fault, want, waiting := r.fsm.State(), r.fsm.OwnFault(), r.fsm.WantsMaster(), r.held
	if waiting {
		// Held before its startup, it holds the group, as keepalived
		// holds a sync group while a member's script is in its INIT
		// state; with its link down (or a weight-0 object failed) it
		// holds it in Fault, as a started member would.
		fault = fault || !r.linkUp || r.trackFault
	}
	if r.detached {
		st, fault, want, waiting = fsm.Fault, true, false, false
	}
	if st == r.groupState && fault == r.groupFault && want == r.groupWant && waiting == r.groupWaiting {
		return
	}
	rep := groupReport{name: r.name, r: r, state: st, fault: fault, want: want, waiting: waiting}
	if r.detached {
		rep.why = faultMissing
	}
	for _, a := range acts {
		if a.Kind == fsm.Transition {
			rep.why = a.Reason.String()
			if a.From == fsm.Master && a.To == fsm.Backup && a.Reason != fsm.ReasonGroupBackup {
				rep.leftToBak = true
			}
		}
	}
	r.groupState, r.groupFault, r.groupWant, r.groupWaiting = st, fault, want, waiting
	r.l.emit(effect{kind: effGroup, r: r, group: r.group, report: rep})
}

// groupInput applies what the group tells the router. On the loop; a
// router no longer on it (stopped, restarted) ignores it.
func (r *vr) groupInput(ev fsm.EventKind) {
	if r.l.routers[r.cfg.VRID] != r {
		return
	}
	r.handle(fsm.Event{Kind: ev})
	r.l.rearm(r)
}

// apply takes one report. On the group's worker.
func (s *syncGroup) apply(rep groupReport) {
	i := s.index(rep.name)
	if i < 0 {
		return
	}
	m := &s.members[i]
	if m.r != rep.r {
		m.r, m.told = rep.r, false // a new instance starts with no group fault
	}
	m.state, m.fault, m.want, m.waiting, m.reported = rep.state, rep.fault, rep.want, rep.waiting, true
	m.stopped = rep.state == fsm.Initialize && rep.why == fsm.ReasonShutdown.String()
	// keepalived vrrp_sync_fault / try_up_instance: every member is in
	// Fault while any member has a fault of its own; the others leave it
	// when the last one clears.
	for j := range s.members {
		o := &s.members[j]
		if o.r == nil {
			continue
		}
		want := false
		for k := range s.members {
			want = want || (k != j && s.members[k].fault)
		}
		if want != o.told {
			o.told = want
			ev := fsm.EventGroupFaultCleared
			if want {
				ev = fsm.EventGroupFault
			}
			s.tell(o.r, ev)
		}
	}
	// keepalived vrrp_sync_backup: a Master member that hears a better
	// Master takes the other Masters of its group to Backup with it.
	if rep.leftToBak {
		for j := range s.members {
			if o := &s.members[j]; j != i && o.r != nil && o.state == fsm.Master {
				s.tell(o.r, fsm.EventGroupBackup)
			}
		}
	}
	// keepalived vrrp_sync_can_goto_master / vrrp_sync_master: members
	// become Master together, once every running member wants to or is;
	// a member that does not run (not started, stopped) does not hold the
	// others back, unless it waits for a script's first result.
	ready, wanting := true, false
	for j := range s.members {
		switch o := &s.members[j]; {
		case o.waiting:
			ready = false
		case o.want:
			wanting = true
		case o.state == fsm.Master, o.state == fsm.Initialize, o.state == 0:
		default:
			ready = false
		}
	}
	if ready && wanting {
		for j := range s.members {
			if o := &s.members[j]; o.want && o.r != nil {
				s.tell(o.r, fsm.EventGroupMaster)
			}
		}
	}
	s.notify(m.name, rep.why)
}

func (s *syncGroup) index(name string) int {
	for i := range s.members {
		if s.members[i].name == name {
			return i
		}
	}
	return -1
}

func (s *syncGroup) tell(r *vr, ev fsm.EventKind) {
	r.l.post(func() { r.groupInput(ev) })
}

// groupState is the group's state from its members' last reports: Fault
// when one is in Fault; Initialize (keepalived's STOP) once one has shut
// down, so a stopping daemon stops the group once, as keepalived, instead
// of passing through Backup, or when none runs; Master when all are Master;
// Backup otherwise (some are Backup, or starting).
func (s *syncGroup) groupState() fsm.State {
	masters, running := 0, 0
	for _, m := range s.members {
		if m.stopped {
			return fsm.Initialize
		}
	}
	for _, m := range s.members {
		switch m.state {
		case fsm.Fault:
			return fsm.Fault
		case fsm.Master:
			masters++
			running++
		case fsm.Backup:
			running++
		}
	}
	switch {
	case running == 0:
		return fsm.Initialize
	case masters == len(s.members):
		return fsm.Master
	}
	return fsm.Backup
}

// notify publishes a change of the group's state and runs its hooks, once
// per change.
func (s *syncGroup) notify(member, why string) {
	st := s.groupState()
	if st == s.state {
		return
	}
	from := s.state
	if from == 0 {
		from = fsm.Initialize
	}
	if from == st {
		s.state = st // a member's first report, before its startup
		return
	}
	s.state = st
	s.log.Info("sync group transition", "from", from.String(), "to", st.String(), "member", member, "reason", why)
	s.d.events.publish(api.Event{Time: time.Now(), Type: "sync_group", Router: s.name, From: from.String(), To: st.String(), Reason: why, Detail: "member " + member})
	// The reason is the member's own, so that hooks keyed on it (a
	// shutdown is keepalived's STOP) read it as for a router.
	if s.hooks != nil {
		s.hooks.Notify(notify.Event{Router: s.name, From: from.String(), To: st.String(), Reason: why})
	}
}
