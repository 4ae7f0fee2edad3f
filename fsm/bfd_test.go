package fsm

import (
	"net/netip"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p): a failed session to
// the Master followed is Master_Down_Timer's expiry for its successor, and
// nothing for anyone else. detect is BFD's detection time (10 ms × 3).
func TestMasterDownDetected(t *testing.T) {
	const detect = 30 * time.Millisecond
	follow := func(h *harness) { h.advance(100 * time.Millisecond); h.do(Advert(peerHi4, 200, time.Second)) }
	for _, tc := range []struct {
		id        string
		successor Successor
		setup     func(h *harness)
		peer      netip.Addr
		want      []Action
		state     State
		// downAt: when Master_Down_Timer fires afterwards (0: unchanged
		// from the RFC's Master_Down_Interval after the last advert).
		downAt time.Duration
	}{
		{id: "draft-ietf-rtgwg-vrrp-bfd-p2p successor Backup takes over at once, as at Master_Down_Timer [5798-6.4.2-g]",
			successor: SuccessorNow, setup: follow, peer: peerHi4, state: Master,
			want: []Action{tr(Backup, Master, ReasonBFDMasterDown), send(100), add, announce}},
		{id: "draft-ietf-rtgwg-vrrp-bfd-p2p a Backup that is not the successor keeps the RFC timers",
			successor: SuccessorNone, setup: follow, peer: peerHi4, state: Backup},
		{id: "a session to a router that is not the Master followed is stale",
			successor: SuccessorNow, setup: follow, peer: peerLo4, state: Backup},
		{id: "a Backup that follows no Master yet keeps the RFC timers [5798-6.4.1-b]",
			successor: SuccessorNow, setup: func(*harness) {}, peer: peerHi4, state: Backup},
		{id: "draft-ietf-rtgwg-vrrp-bfd-p2p skew successor: Master_Down_Timer within Skew_Time on the detection time [5798-6.4.2-h]",
			successor: SuccessorSkew, setup: follow, peer: peerHi4, state: Backup,
			downAt: 100*time.Millisecond + (256-100)*detect/256},
	} {
		t.Run(tc.id, func(t *testing.T) {
			cfg := v3cfg(100)
			cfg.Successor = tc.successor
			h := newHarness(t, cfg)
			h.toBackup()
			tc.setup(h)
			before := h.deadline(MasterDownTimer)
			wantActions(t, tc.id, h.do(MasterDown(tc.peer, detect)), tc.want)
			h.wantState(tc.state)
			if tc.state != Backup {
				return
			}
			want := before
			if tc.downAt != 0 {
				want = tc.downAt
			}
			if got := h.deadline(MasterDownTimer); got != want {
				t.Fatalf("Master_Down_Timer at %v, want %v", got, want)
			}
			if tc.downAt != 0 {
				wantActions(t, tc.id, h.fire(MasterDownTimer), []Action{tr(Backup, Master, ReasonBFDMasterDown), send(100), add, announce})
			}
		})
	}
}

// An advert from the Master after a skewed BFD Down is the RFC's rule
// again: Master_Down_Timer restarts at Master_Down_Interval [5798-6.4.2-i].
func TestMasterDownThenAdvert(t *testing.T) {
	cfg := v3cfg(100)
	cfg.Successor = SuccessorSkew
	h := newHarness(t, cfg)
	h.toBackup()
	h.do(Advert(peerHi4, 200, time.Second))
	h.do(MasterDown(peerHi4, 30*time.Millisecond))
	h.advance(5 * time.Millisecond)
	h.do(Advert(peerHi4, 200, time.Second))
	if got, want := h.deadline(MasterDownTimer), h.c.t+MasterDownInterval(3, 100, time.Second); got != want {
		t.Fatalf("Master_Down_Timer at %v, want %v", got, want)
	}
	wantActions(t, "expiry", h.fire(MasterDownTimer), []Action{tr(Backup, Master, ReasonMasterNoResponse), send(100), add, announce})
}

// Only BFD failed: the Master we took over from is heard again. The two
// Masters are reported once and counted; the higher priority wins
// [5798-6.4.3-j], and the dual-Master window is what it took to hear it.
func TestBFDFalseDown(t *testing.T) {
	cfg := v3cfg(100)
	cfg.Successor = SuccessorNow
	h := newHarness(t, cfg)
	h.toBackup()
	h.do(Advert(peerHi4, 200, time.Second))
	h.do(MasterDown(peerHi4, 30*time.Millisecond))
	h.wantState(Master)
	h.advance(10 * time.Millisecond) // its answer to our advert [9568-6.4.3-b]
	got := h.do(Advert(peerHi4, 200, time.Second))
	wantActions(t, "false down", got, []Action{
		{Kind: BFDFalseDown, Addr: peerHi4, Priority: 200},
		tr(Master, Backup, ReasonHigherPriority), send(100), remove,
	})
	c := h.r.Status().Counters
	if c.BFDTakeovers != 1 || c.BFDFalseDowns != 1 {
		t.Fatalf("takeovers %d false downs %d, want 1 and 1", c.BFDTakeovers, c.BFDFalseDowns)
	}
	if got := h.r.Status().Counters.NewMasterReason; got != MasterNoResponse {
		t.Fatalf("new master reason %v, want masterNoResponse", got)
	}
}

// A Master that took over by BFD and hears its old Master only after
// Master_Down_Interval heard a restarted router, not a false Down.
func TestBFDTakeoverThenRestart(t *testing.T) {
	cfg := v3cfg(100)
	cfg.Successor = SuccessorNow
	h := newHarness(t, cfg)
	h.toBackup()
	h.do(Advert(peerHi4, 200, time.Second))
	h.do(MasterDown(peerHi4, 30*time.Millisecond))
	h.advance(10 * time.Second)
	for _, a := range h.do(Advert(peerHi4, 200, time.Second)) {
		if a.Kind == BFDFalseDown {
			t.Fatalf("a restart reported as a false BFD Down: %v", a)
		}
	}
	if n := h.r.Status().Counters.BFDFalseDowns; n != 0 {
		t.Fatalf("false downs %d", n)
	}
}

// Properties (draft-ietf-rtgwg-vrrp-bfd-p2p): with its Master alive
// (adverts every interval) and no BFD Down for that Master, a successor
// never becomes Master; and a router that is not a successor does exactly
// what it does without BFD at all, whatever BFD says.
func TestMasterDownProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		succ := rapid.SampledFrom([]Successor{SuccessorNow, SuccessorSkew}).Draw(t, "successor")
		mk := func(s Successor) (*Router, *fakeClock) {
			cfg := v3cfg(100)
			cfg.Successor = s
			c := &fakeClock{}
			r, err := New(cfg, c)
			if err != nil {
				t.Fatal(err)
			}
			return r, c
		}
		plain, pc := mk(SuccessorNone)
		deaf, dc := mk(SuccessorNone) // gets the BFD events too
		heir, hc := mk(succ)          // never gets one for its Master
		clocks := []*fakeClock{pc, dc, hc}
		step := func(ev Event, bfd bool) {
			a := append([]Action(nil), plain.Handle(ev)...)
			if bfd {
				a = nil
			}
			b := deaf.Handle(ev)
			if !bfd && !equalActs(a, b) {
				t.Fatalf("event %+v: without BFD %v, not successor %v", ev, a, b)
			}
			if bfd && len(b) > 0 {
				t.Fatalf("BFD event %+v gave a non-successor %v", ev, b)
			}
			if bfd && ev.Src == peerHi4 {
				return // only BFD saying the Master failed may move the heir
			}
			heir.Handle(ev)
			if heir.State() == Master {
				t.Fatalf("successor Master after %+v with its Master alive", ev)
			}
		}
		step(Event{Kind: EventStartup}, false)
		for range rapid.IntRange(1, 50).Draw(t, "n") {
			dt := time.Duration(rapid.IntRange(1, 1000).Draw(t, "dt")) * time.Millisecond
			for _, c := range clocks {
				c.t += dt
			}
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				step(Advert(peerHi4, 200, time.Second), false)
			case 1:
				step(MasterDown(rapid.SampledFrom([]netip.Addr{peerHi4, peerLo4}).Draw(t, "peer"), 30*time.Millisecond), true)
			case 2:
				step(Advert(peerLo4, uint8(rapid.IntRange(1, 99).Draw(t, "lo")), time.Second), false)
			}
			// Every advert interval the live Master speaks.
			for _, c := range clocks {
				c.t += time.Second - dt%time.Second
			}
			step(Advert(peerHi4, 200, time.Second), false)
		}
	})
}

func equalActs(a, b []Action) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
