package fsm

import (
	"net/netip"
	"testing"
	"time"
)

// Who the Master is, at which priority, and how often that changed: the
// state machine decides it from the rules that make a router follow a
// Master, so the daemon only reports it.
func TestMasterFollowed(t *testing.T) {
	other := netip.MustParseAddr("10.0.0.9")
	adv := func(src netip.Addr, prio uint8) func(*harness) {
		return func(h *harness) { h.advance(100 * time.Millisecond); h.do(Advert(src, prio, time.Second)) }
	}
	start := func(h *harness) { h.do(Event{Kind: EventStartup}) }
	expire := func(h *harness) { h.fire(MasterDownTimer) }
	ev := func(e Event) func(*harness) { return func(h *harness) { h.do(e) } }
	for _, tc := range []struct {
		id      string
		prio    uint8
		steps   []func(*harness)
		master  netip.Addr
		mprio   uint8
		changes uint64
	}{
		{id: "5798-6.4.1-b Backup that heard nothing knows no Master", prio: 100, steps: []func(*harness){start}},
		{id: "5798-6.4.1-a the owner is Master from its startup: not a change", prio: 255, steps: []func(*harness){start},
			master: primary4, mprio: 255},
		{id: "5798-6.4.2-i Backup follows the Master whose advert it accepts", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200)}, master: peerHi4, mprio: 200},
		{id: "5798-6.4.2-i an advert accepted from another Master is one change", prio: 100,
			steps:  []func(*harness){start, adv(peerHi4, 200), adv(peerHi4, 200), adv(peerLo4, 250), adv(peerLo4, 250)},
			master: peerLo4, mprio: 250, changes: 1},
		{id: "5798-6.4.2-j the followed Master's discarded lower priority is what it now advertises", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), adv(peerHi4, 50)}, master: peerHi4, mprio: 50},
		{id: "5798-6.4.2-j another router's discarded advert changes nothing", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), adv(peerLo4, 50)}, master: peerHi4, mprio: 200},
		{id: "5798-6.4.2-h the Master resigns with priority 0", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), adv(peerHi4, 0)}, master: peerHi4, mprio: 0},
		{id: "5798-6.4.2-g Master_Down_Timer: we are the Master, one change", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), expire}, master: primary4, mprio: 100, changes: 1},
		{id: "5798-6.4.2-g our first mastership follows no Master: not a change", prio: 100,
			steps: []func(*harness){start, expire}, master: primary4, mprio: 100},
		{id: "5798-6.4.3-j Master hears a higher priority and follows it: one change", prio: 100,
			steps: []func(*harness){start, expire, adv(peerHi4, 200)}, master: peerHi4, mprio: 200, changes: 1},
		{id: "5798-6.4.3-j 9568-6.4.3-a equal priority from a higher address: one change", prio: 100,
			steps: []func(*harness){start, expire, adv(peerHi4, 100)}, master: peerHi4, mprio: 100, changes: 1},
		{id: "5798-6.4.3-k a lower-priority Master's advert leaves us Master", prio: 100,
			steps: []func(*harness){start, expire, adv(peerLo4, 50)}, master: primary4, mprio: 100},
		{id: "5798-6.4.2-g 5798-6.4.3-j another Master, us, a third: two changes", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), expire, adv(peerLo4, 200)}, master: peerLo4, mprio: 200, changes: 2},
		{id: "5798-6.4.2-f after a restart the same Master heard again is not a change", prio: 100,
			steps:  []func(*harness){start, adv(peerHi4, 200), ev(Event{Kind: EventShutdown}), start, adv(peerHi4, 200)},
			master: peerHi4, mprio: 200},
		{id: "5798-6.4.2-f Initialize knows no Master", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), ev(Event{Kind: EventShutdown})}, changes: 0},
		{id: "after a link fault the same Master heard again is not a change", prio: 100,
			steps:  []func(*harness){start, adv(peerHi4, 200), ev(Event{Kind: EventLinkDown}), ev(Event{Kind: EventLinkUp}), adv(peerHi4, 200)},
			master: peerHi4, mprio: 200},
		{id: "Fault knows no Master", prio: 100,
			steps: []func(*harness){start, adv(peerHi4, 200), ev(Event{Kind: EventLinkDown})}},
		{id: "5798-7.2-d our primary address moves while Master: the same router, not a change", prio: 100,
			steps: []func(*harness){start, expire, ev(SetPrimary(other))}, master: other, mprio: 100},
		{id: "tracking lowers our priority as Master: what we advertise", prio: 100,
			steps: []func(*harness){start, expire, ev(SetPriority(90))}, master: primary4, mprio: 90},
	} {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t, v3cfg(tc.prio))
			for _, s := range tc.steps {
				s(h)
			}
			st := h.r.Status()
			if st.Master() != tc.master || st.MasterPriority != tc.mprio || st.Counters.MasterChanges != tc.changes {
				t.Fatalf("%v: master %v at %d after %d changes, want %v at %d after %d", st.State, st.Master(), st.MasterPriority,
					st.Counters.MasterChanges, tc.master, tc.mprio, tc.changes)
			}
		})
	}
}
