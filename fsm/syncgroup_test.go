package fsm

import (
	"testing"
	"time"
)

// The sync-group inputs, a deliberate addition (docs/CONFORMANCE.md):
// keepalived's vrrp_sync_group semantics as events from the daemon, which
// knows the other members.
func TestSyncGroupEvents(t *testing.T) {
	rm := Action{Kind: RemoveAddresses}
	cases := []struct {
		name  string
		setup func(h *harness)
		evs   []Event
		want  []Action // of the last event
		state State
	}{
		{"a Master follows the group to Fault, resigning with priority 0",
			func(h *harness) { h.toMaster() }, []Event{{Kind: EventGroupFault}},
			[]Action{tr(Master, Fault, ReasonGroupFault), send(0), rm}, Fault},
		{"a Backup follows the group to Fault",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventGroupFault}},
			[]Action{tr(Backup, Fault, ReasonGroupFault)}, Fault},
		{"the group's fault cleared: back through Initialize to Backup [5798-6.4.1-b]",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventGroupFault}, {Kind: EventGroupFaultCleared}},
			[]Action{tr(Fault, Initialize, ReasonFaultCleared), tr(Initialize, Backup, ReasonFaultCleared)}, Backup},
		{"the group's fault cleared, the router's own link still down: stays in Fault",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventLinkDown}, {Kind: EventGroupFault}, {Kind: EventGroupFaultCleared}},
			nil, Fault},
		{"the router's own fault cleared while the group's holds: stays in Fault",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventFault}, {Kind: EventGroupFault}, {Kind: EventFaultCleared}},
			nil, Fault},
		{"a Master follows the group to Backup with a priority-0 advert [5798-6.4.2-h]",
			func(h *harness) { h.toMaster() }, []Event{{Kind: EventGroupBackup}},
			[]Action{tr(Master, Backup, ReasonGroupBackup), send(0), rm}, Backup},
		{"group Backup leaves a Backup alone",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventGroupBackup}}, nil, Backup},
		{"group Backup leaves a Fault alone",
			func(h *harness) { h.toBackup() }, []Event{{Kind: EventLinkDown}, {Kind: EventGroupBackup}}, nil, Fault},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, v3cfg(100))
			c.setup(h)
			var got []Action
			for _, ev := range c.evs {
				got = h.do(ev)
			}
			wantActions(t, c.name, got, c.want)
			h.wantState(c.state)
		})
	}
}

// A member forced to Backup waits Master_Down_Interval like any Backup
// [5798-6.4.2-d] and reports no fault of its own.
func TestSyncGroupBackupTimers(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	h.do(Event{Kind: EventGroupBackup})
	if !h.running(MasterDownTimer) || h.running(AdverTimer) {
		t.Fatalf("[5798-6.2-a] want only Master_Down_Timer running in Backup")
	}
	h.advance(10 * time.Second)
	h.fire(MasterDownTimer)
	h.wantState(Master)
	if h.r.OwnFault() {
		t.Fatal("OwnFault after a group Backup")
	}
	h.do(Event{Kind: EventGroupFault})
	if h.r.OwnFault() {
		t.Fatal("a fault the group imposes is not the router's own")
	}
	h.do(Event{Kind: EventLinkDown})
	if !h.r.OwnFault() {
		t.Fatal("link down is the router's own fault")
	}
}

// A held member (Config.GroupHold) whose Master_Down_Timer expires only
// wants to be Master, and keeps counting Master_Down_Interval
// [5798-6.4.2-d]; EventGroupMaster makes it Master [5798-6.4.2-g]; an
// advert from a Master ends the wish [5798-6.4.2-i] (keepalived
// vrrp_sync_can_goto_master, vrrp_sync_master).
func TestSyncGroupHold(t *testing.T) {
	held := v3cfg(100)
	held.GroupHold = true
	t.Run("expiry only wants", func(t *testing.T) {
		h := newHarness(t, held)
		h.toBackup()
		h.fire(MasterDownTimer)
		h.wantState(Backup)
		if !h.r.WantsMaster() || !h.running(MasterDownTimer) {
			t.Fatalf("want %v, Master_Down_Timer running %v; want both", h.r.WantsMaster(), h.running(MasterDownTimer))
		}
		acts := h.do(Event{Kind: EventGroupMaster})
		if len(acts) == 0 || acts[0] != tr(Backup, Master, ReasonMasterNoResponse) {
			t.Fatalf("group Master: %v", acts)
		}
		if h.r.WantsMaster() {
			t.Fatal("still wants in Master")
		}
	})
	t.Run("an advert ends the wish", func(t *testing.T) {
		h := newHarness(t, held)
		h.toBackup()
		h.fire(MasterDownTimer)
		h.do(Advert(peerHi4, 200, time.Second))
		if h.r.WantsMaster() {
			t.Fatal("wants Master while one is heard")
		}
		if acts := h.do(Event{Kind: EventGroupMaster}); len(acts) != 0 {
			t.Fatalf("a stale group Master acted: %v", acts)
		}
		h.wantState(Backup)
	})
	// Held past Master_Down_Interval, the Backup knows no Master any more:
	// it must not go on reporting the silent one (govrrp status, the
	// router_master_info metric, vrrpv3OperationsMasterIpAddr), which would
	// hide that the virtual router has none.
	t.Run("a silent Master is not reported", func(t *testing.T) {
		h := newHarness(t, held)
		h.toBackup()
		h.do(Advert(peerHi4, 200, time.Second))
		if st := h.r.Status(); st.Master() != peerHi4 {
			t.Fatalf("Master %v after its advert; want %v", st.Master(), peerHi4)
		}
		h.fire(MasterDownTimer)
		if st := h.r.Status(); st.Master().IsValid() || st.MasterPriority != 0 {
			t.Fatalf("held after Master_Down_Interval: Master %v priority %d; want none, 0", st.Master(), st.MasterPriority)
		}
		h.do(Advert(peerHi4, 200, time.Second))
		if st := h.r.Status(); st.Master() != peerHi4 || st.Counters.MasterChanges != 0 {
			t.Fatalf("heard again: Master %v, %d master changes; want %v, 0", st.Master(), st.Counters.MasterChanges, peerHi4)
		}
	})
	t.Run("the owner is not held", func(t *testing.T) {
		o := v3cfg(255)
		o.GroupHold = true
		h := newHarness(t, o)
		h.do(Event{Kind: EventStartup})
		h.wantState(Master)
	})
}
