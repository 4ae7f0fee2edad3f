package fsm

import (
	"net/netip"
	"testing"
	"time"
)

// Split brain and duplicate owners: each episode is reported once, as one
// action, however many adverts show it; an episode ends after a quiet
// Master_Down_Interval. The cases run at 1 s intervals, priority 100
// (Master_Down_Interval 3.609375 s); "long" is long after becoming Master.
func TestConflictEpisodes(t *testing.T) {
	peerOwner := netip.MustParseAddr("10.0.0.9")
	type step struct {
		after time.Duration // clock advance before the advert
		src   netip.Addr
		prio  uint8
		want  []Action
	}
	for _, tc := range []struct {
		id     string
		cfg    Config
		master bool // else Backup
		long   bool // wait 10 s after the transition
		steps  []step
		check  func(t *testing.T, s Status)
	}{
		{id: "split brain: a lower-priority Master, reported once per episode [9568-6.4.3-b]", cfg: v3cfg(100), master: true, long: true,
			steps: []step{
				{0, peerHi4, 50, []Action{send(100), announce, sb(peerHi4, 50)}},
				{100 * ms, peerHi4, 50, nil}, // replies and announcements are bounded, the report is once
				{time.Second, peerHi4, 50, nil},
				{2 * time.Second, peerHi4, 50, []Action{send(100), announce}}, // same episode: no second report
			},
			check: func(t *testing.T, s Status) {
				if s.Counters.SplitBrains != 1 || !s.SplitBrain || s.SplitBrainPeer != peerHi4 {
					t.Errorf("status %d %v %v, want one running episode with %v", s.Counters.SplitBrains, s.SplitBrain, s.SplitBrainPeer, peerHi4)
				}
			}},
		{id: "split brain: a new episode after a quiet Master_Down_Interval", cfg: v3cfg(100), master: true, long: true,
			steps: []step{
				{0, peerHi4, 50, []Action{send(100), announce, sb(peerHi4, 50)}},
				{3700 * ms, peerHi4, 50, []Action{send(100), announce, sb(peerHi4, 50)}},
			},
			check: func(t *testing.T, s Status) {
				if s.Counters.SplitBrains != 2 {
					t.Errorf("SplitBrains %d, want 2", s.Counters.SplitBrains)
				}
			}},
		{id: "split brain: a priority 0 means another router was Master; answer [5798-6.4.3-i], announce, report", cfg: v3cfg(100), master: true, long: true,
			steps: []step{{0, peerHi4, 0, []Action{send(100), announce, sb(peerHi4, 0)}}}},
		{id: "handover: another Master within Master_Down_Interval of our takeover is not a split brain", cfg: v3cfg(100), master: true,
			steps: []step{
				{0, peerHi4, 50, []Action{send(100), announce}}, // the Master we preempted, before it heard us
				{10 * ms, peerHi4, 0, nil},                      // and its resignation: replies bounded, announced already
			},
			check: func(t *testing.T, s Status) {
				if s.Counters.SplitBrains != 0 || s.SplitBrain {
					t.Errorf("handover counted as split brain: %+v", s)
				}
			}},
		{id: "step-down: one last advert at our priority, no report (indistinguishable from preemption)", cfg: v3cfg(100), master: true, long: true,
			steps: []step{{0, peerHi4, 200, []Action{tr(Master, Backup, ReasonHigherPriority), send(100), remove}}},
			check: func(t *testing.T, s Status) {
				if s.Counters.SplitBrains != 0 || s.SplitBrain {
					t.Errorf("step-down reported: %+v", s)
				}
			}},
		{id: "step-down to an owner: no last advert (E8298 would log it as a conflict at every owner start)", cfg: v3cfg(100), master: true, long: true,
			steps: []step{{0, peerHi4, 255, []Action{tr(Master, Backup, ReasonHigherPriority), remove}}}},
		{id: "split brain ends when we leave Master", cfg: v3cfg(100), master: true, long: true,
			steps: []step{
				{0, peerHi4, 50, []Action{send(100), announce, sb(peerHi4, 50)}},
				{10 * ms, peerLo4, 200, []Action{tr(Master, Backup, ReasonHigherPriority), send(100), remove}},
			},
			check: func(t *testing.T, s Status) {
				if s.SplitBrain || s.Counters.SplitBrains != 1 {
					t.Errorf("status %+v", s)
				}
			}},
		{id: "9568-8.3.2-a a non-owner Backup hearing two owners reports it once", cfg: v3cfg(100), long: true,
			steps: []step{
				{0, peerHi4, 255, nil},
				{10 * ms, peerOwner, 255, []Action{{Kind: TwoOwners, Addr: peerOwner, Priority: 255}}},
				{500 * ms, peerHi4, 255, nil},
				{500 * ms, peerOwner, 255, nil},
				{4 * time.Second, peerOwner, 255, nil}, // the first one went quiet: the pair stays in status
			},
			check: func(t *testing.T, s Status) {
				if s.Counters.TwoOwners != 1 || s.TwoOwners || s.Owners != [2]netip.Addr{peerHi4, peerOwner} {
					t.Errorf("status %d %v %v", s.Counters.TwoOwners, s.TwoOwners, s.Owners)
				}
			}},
		{id: "9568-8.3.2-a an owner replaced after a quiet interval is not two owners", cfg: v3cfg(100), long: true,
			steps: []step{
				{0, peerHi4, 255, nil},
				{4 * time.Second, peerOwner, 255, nil},
				{500 * ms, peerOwner, 255, nil},
			},
			check: func(t *testing.T, s Status) {
				if s.Counters.TwoOwners != 0 || s.TwoOwners {
					t.Errorf("status %+v", s)
				}
			}},
		{id: "9568-8.3.2-a an owner hearing another owner is the receive check's (E8298)", cfg: v3cfg(255), master: true, long: true,
			steps: []step{{0, peerHi4, 255, []Action{tr(Master, Backup, ReasonAddressTieBreak), remove}}},
			check: func(t *testing.T, s Status) {
				if s.Counters.TwoOwners != 0 {
					t.Errorf("TwoOwners %d", s.Counters.TwoOwners)
				}
			}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t, tc.cfg)
			if tc.master {
				h.toMaster()
			} else {
				h.toBackup()
			}
			if tc.long {
				h.advance(10 * time.Second)
			}
			for i, s := range tc.steps {
				h.advance(s.after)
				// A Backup's timer would fire first in real time; keep it
				// from mattering by not letting it expire: steps are short.
				wantActions(t, tc.id+" step "+string(rune('0'+i)), h.do(Advert(s.src, s.prio, time.Second)), s.want)
			}
			if tc.check != nil {
				tc.check(t, h.r.Status())
			}
		})
	}
}
