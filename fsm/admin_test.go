package fsm

import (
	"testing"
	"time"
)

// EventDisable and EventEnable, the operator's `govrrp disable` and
// `govrrp enable`: the Shutdown and Startup events of the RFC with reasons
// of their own, and nothing in between.
func TestAdminDisableEnable(t *testing.T) {
	dis, en := Event{Kind: EventDisable}, Event{Kind: EventEnable}
	start, stop := Event{Kind: EventStartup}, Event{Kind: EventShutdown}
	cases := []struct {
		name  string
		cfg   Config
		setup func(h *harness)
		evs   []Event
		want  []Action // of the last event
		state State
	}{
		{"[5798-6.4.3-g] a disabled Master resigns with priority 0 and releases its addresses",
			v3cfg(100), func(h *harness) { h.toMaster() }, []Event{dis},
			[]Action{tr(Master, Initialize, ReasonAdminDisabled), send(0), remove}, Initialize},
		{"[5798-6.4.3-g] a disabled IPv6 Master leaves its groups",
			v6cfg(100), func(h *harness) { h.toMaster() }, []Event{dis},
			[]Action{tr(Master, Initialize, ReasonAdminDisabled), send(0), remove, leave}, Initialize},
		{"[5798-6.4.2-f] a disabled Backup stops Master_Down_Timer",
			v3cfg(100), func(h *harness) { h.toBackup() }, []Event{dis},
			[]Action{tr(Backup, Initialize, ReasonAdminDisabled)}, Initialize},
		{"a disabled Fault goes to Initialize",
			v3cfg(100), func(h *harness) { h.toBackup(); h.do(Event{Kind: EventLinkDown}) }, []Event{dis},
			[]Action{tr(Fault, Initialize, ReasonAdminDisabled)}, Initialize},
		{"disable is idempotent",
			v3cfg(100), func(h *harness) { h.toMaster() }, []Event{dis, dis}, nil, Initialize},
		{"[5798-6.4.1-b] enable is the Startup event: Backup",
			v3cfg(100), func(h *harness) { h.toMaster() }, []Event{dis, en},
			[]Action{tr(Initialize, Backup, ReasonAdminEnabled)}, Backup},
		{"[5798-6.4.1-a] enable of an owner: Master at once",
			v3cfg(255), func(h *harness) { h.do(start) }, []Event{dis, en},
			[]Action{tr(Initialize, Master, ReasonAdminEnabled), send(255), add, announce}, Master},
		{"enable is idempotent",
			v3cfg(100), func(h *harness) { h.toBackup() }, []Event{dis, en, en}, nil, Backup},
		{"enable of a router never disabled does nothing",
			v3cfg(100), func(h *harness) { h.toBackup() }, []Event{en}, nil, Backup},
		{"while disabled, adverts are not answered [5798-6.4.3-i]",
			v3cfg(100), func(h *harness) { h.toMaster() }, []Event{dis, Advert(peerHi4, 0, time.Second)}, nil, Initialize},
		{"while disabled, faults and their end are only recorded",
			v3cfg(100), func(h *harness) { h.toBackup() },
			[]Event{dis, {Kind: EventLinkDown}, {Kind: EventLinkUp}, {Kind: EventFault}, {Kind: EventGroupFault}, {Kind: EventGroupBackup}, {Kind: EventGroupMaster}},
			nil, Initialize},
		{"a fault that arrived while disabled: enable goes to Fault",
			v3cfg(100), func(h *harness) { h.toBackup() }, []Event{dis, {Kind: EventLinkDown}, en},
			[]Action{tr(Initialize, Fault, ReasonLinkDown)}, Fault},
		{"Startup while disabled is held until enable",
			v3cfg(100), func(*harness) {}, []Event{dis, start},
			nil, Initialize},
		{"[5798-6.4.1-b] the held Startup runs at enable",
			v3cfg(100), func(*harness) {}, []Event{dis, start, en},
			[]Action{tr(Initialize, Backup, ReasonAdminEnabled)}, Backup},
		{"enable after Shutdown does not start the router",
			v3cfg(100), func(h *harness) { h.toBackup() }, []Event{dis, stop, en}, nil, Initialize},
		{"Shutdown of a disabled router does nothing more",
			v3cfg(100), func(h *harness) { h.toMaster() }, []Event{dis, stop}, nil, Initialize},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, c.cfg)
			c.setup(h)
			h.advance(10 * time.Second)
			var got []Action
			for _, ev := range c.evs {
				got = h.do(ev)
			}
			wantActions(t, c.name, got, c.want)
			h.wantState(c.state)
			if c.state != Backup && c.state != Master {
				if _, _, _, ok := h.r.NextDeadline(); ok {
					t.Errorf("a timer runs in %v", c.state)
				}
			}
		})
	}
}

// A disabled router reports it, and a started one is a fault of its own for
// its sync group (OwnFault), so the other members leave Master with it.
func TestAdminDisabledStatus(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	if h.r.Status().Disabled || h.r.Disabled() || h.r.OwnFault() {
		t.Fatal("disabled before EventDisable")
	}
	h.do(Event{Kind: EventDisable})
	st := h.r.Status()
	if !st.Disabled || !h.r.Disabled() || !h.r.OwnFault() {
		t.Fatalf("after disable: status %v, Disabled %v, OwnFault %v", st.Disabled, h.r.Disabled(), h.r.OwnFault())
	}
	if st.Counters.SentPriZeroPackets != 1 {
		t.Errorf("[5798-6.4.3-g] SentPriZeroPackets %d, want 1", st.Counters.SentPriZeroPackets)
	}
	if st.Master().IsValid() {
		t.Errorf("a disabled router reports Master %v", st.Master())
	}
	h.do(Event{Kind: EventEnable})
	if h.r.Status().Disabled || h.r.OwnFault() {
		t.Fatal("still disabled after enable")
	}
	// Not started: disabled, but nothing for a group to follow.
	n := newHarness(t, v3cfg(100))
	n.do(Event{Kind: EventDisable})
	if n.r.OwnFault() {
		t.Error("a router never started is a fault for its group")
	}
}

// The router that took over from a disabled Master does so in Skew_Time
// [5798-6.4.2-h]: the priority-0 advert the disable sent is what a Backup
// needs.
func TestAdminDisableBackupTakesOverInSkew(t *testing.T) {
	m := newHarness(t, v3cfg(200))
	m.toMaster()
	bc := v3cfg(100)
	bc.Primary = peerHi4
	b := newHarness(t, bc)
	b.toBackup()
	var zero bool
	for _, a := range m.do(Event{Kind: EventDisable}) {
		if a.Kind == SendAdvert && a.Priority == 0 {
			zero = true
			b.do(Advert(primary4, 0, time.Second))
		}
	}
	if !zero {
		t.Fatal("[5798-6.4.3-g] no priority-0 advert")
	}
	skew := b.r.Status().SkewTime
	if at := b.deadline(MasterDownTimer); at != b.c.t+skew {
		t.Fatalf("[5798-6.4.2-h] Master_Down_Timer at %v, want now+Skew_Time %v", at-b.c.t, skew)
	}
	b.fire(MasterDownTimer)
	b.wantState(Master)
}
