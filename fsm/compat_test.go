package fsm

import (
	"errors"
	"testing"
	"time"
)

// The VRRPv2/v3 interoperation mode (RFC 5798 §8.4, RFC 9568 §8.4.2).

func compatCfg(prio uint8) Config {
	c := v3cfg(prio)
	c.V2Compat = true
	return c
}

func send2(p uint8) Action { return Action{Kind: SendAdvert, Priority: p, Version: 2} }

// v2Advert is a VRRPv2 advert as the daemon hands it over.
func v2Advert(ev Event) Event { ev.Version = 2; return ev }

func v3Advert(ev Event) Event { ev.Version = 3; return ev }

func TestCompatCheck(t *testing.T) {
	for _, tc := range []struct {
		id  string
		mod func(*Config)
		ok  bool
	}{
		{"[5798-8.4.2-b] v3 IPv4 whole seconds", func(*Config) {}, true},
		{"[5798-8.4.2-b] 40s", func(c *Config) { c.AdvertInterval = 40 * time.Second }, true},
		{"[IMPL-15] sub-second", func(c *Config) { c.AdvertInterval = 500 * time.Millisecond }, false},
		{"[IMPL-15] 1.5s", func(c *Config) { c.AdvertInterval = 1500 * time.Millisecond }, false},
		{"[IMPL-15] 41s, beyond VRRPv3", func(c *Config) { c.AdvertInterval = 41 * time.Second }, false},
		{"[5798-8.4.2-b] a v2 router", func(c *Config) { c.Version = 2 }, false},
		{"[5798-8.4.2-b] IPv6", func(c *Config) { *c = v6cfg(100); c.V2Compat = true }, false},
	} {
		c := compatCfg(100)
		tc.mod(&c)
		err := c.Check()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrConfig)) {
			t.Errorf("%s: Check() = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}

// [5798-8.4.2-c]: as Master, both a VRRPv3 and a VRRPv2 advert every
// interval, and for every other advert too.
func TestCompatMasterSendsBoth(t *testing.T) {
	h := newHarness(t, compatCfg(100))
	h.do(Event{Kind: EventStartup})
	got := h.fire(MasterDownTimer)
	wantActions(t, "[5798-8.4.2-c] becoming Master", got, []Action{
		tr(Backup, Master, ReasonMasterNoResponse), send(100), send2(100), add, announce})
	wantActions(t, "[5798-8.4.2-c] Adver_Timer", h.fire(AdverTimer), []Action{send(100), send2(100)})
	// [9568-6.4.3-b]: the answer to a lower-priority Master, in both versions.
	got = h.do(v2Advert(Advert(peerLo4, 50, time.Second)))
	wantActions(t, "[5798-8.4.2-c][9568-6.4.3-b] answer", got, []Action{send(100), send2(100), announce})
	// [5798-6.4.3-g]: the resignation, in both versions.
	got = h.do(Event{Kind: EventShutdown})
	wantActions(t, "[5798-8.4.2-c][5798-6.4.3-g] shutdown", got, []Action{tr(Master, Initialize, ReasonShutdown), send(0), send2(0), remove})
	st := h.r.Status().Counters
	if st.SentV2Advertisements != 4 || st.SentAdvertisements != 8 || st.SentPriZeroPackets != 2 {
		t.Fatalf("counters %+v: want 4 VRRPv2 of 8 adverts, 2 of priority 0", st)
	}

	// Without the mode, no VRRPv2 copy.
	h = newHarness(t, v3cfg(100))
	h.toMaster()
	wantActions(t, "v3 only", h.fire(AdverTimer), []Action{send(100)})
}

// [9568-8.4.2-a]: a Backup times out on the rate the Master advertises; a
// VRRPv2 Master's Adver Int is whole seconds, taken as such (3 s = 300 cs).
func TestCompatBackupLearnsV2Interval(t *testing.T) {
	h := newHarness(t, compatCfg(100))
	h.toBackup()
	h.advance(time.Second)
	now := h.c.t
	h.do(v2Advert(Advert(peerHi4, 200, 3*time.Second)))
	want := MasterDownInterval(3, 100, 3*time.Second) // 3×3 s + (256−100)×3 s/256
	if got := h.deadline(MasterDownTimer) - now; got != want {
		t.Fatalf("[9568-8.4.2-a] Master_Down_Interval %v, want %v", got, want)
	}
	if st := h.r.Status(); st.MasterAdverInterval != 3*time.Second || st.MasterAddr != peerHi4 {
		t.Fatalf("[9568-8.4.2-a] learnt %v from %v", st.MasterAdverInterval, st.MasterAddr)
	}
	// It follows the v2 Master like any other: the Master_Down_Timer
	// expiring makes it Master [5798-6.4.2-g].
	got := h.fire(MasterDownTimer)
	wantActions(t, "[5798-6.4.2-g]", got, []Action{tr(Backup, Master, ReasonMasterNoResponse), send(100), send2(100), add, announce})
}

// [5798-8.4.2-d]: a Backup ignores the VRRPv2 adverts of a Master that also
// sends VRRPv3, so its two copies of one advert count once.
func TestCompatBackupIgnoresV2OfV3Master(t *testing.T) {
	h := newHarness(t, compatCfg(100))
	h.toBackup()
	h.do(v3Advert(Advert(peerHi4, 200, time.Second)))
	h.do(v2Advert(Advert(peerHi4, 200, time.Second)))
	due := h.deadline(MasterDownTimer)
	// Its priority-0 VRRPv2 copy would restart Skew_Time, a VRRPv2 copy
	// with another interval would move the timer: both are ignored.
	h.advance(500 * time.Millisecond)
	if got := h.do(v2Advert(Advert(peerHi4, 0, time.Second))); got != nil {
		t.Fatalf("[5798-8.4.2-d] v2 priority 0 from a v3 Master: %v", got)
	}
	h.do(v2Advert(Advert(peerHi4, 200, 3*time.Second)))
	if got := h.deadline(MasterDownTimer); got != due {
		t.Fatalf("[5798-8.4.2-d] Master_Down_Timer moved to %v from %v by a v2 advert", got, due)
	}
	if c := h.r.Status().Counters; c.V2Ignored != 3 || c.RcvdV2Advertisements != 3 || c.V3WithoutV2 != 0 {
		t.Fatalf("[5798-8.4.2-d] counters %+v", c)
	}

	// A VRRPv2-only Master is followed.
	h.advance(100 * time.Millisecond)
	h.do(v2Advert(Advert(peerLo4, 250, time.Second)))
	if st := h.r.Status(); st.MasterAddr != peerLo4 {
		t.Fatalf("[9568-8.4.2-a] a v2-only Master is not followed: master %v", st.MasterAddr)
	}

	// A Master that stopped sending VRRPv3 a Master_Down_Interval ago is
	// heard in VRRPv2 again.
	h = newHarness(t, compatCfg(100))
	h.toBackup()
	h.do(v3Advert(Advert(peerHi4, 200, time.Second)))
	h.advance(MasterDownInterval(3, 100, time.Second) - time.Millisecond)
	h.do(v2Advert(Advert(peerHi4, 200, time.Second)))
	h.advance(2 * time.Millisecond)
	h.do(v2Advert(Advert(peerHi4, 200, time.Second)))
	if c := h.r.Status().Counters; c.V2Ignored != 1 {
		t.Fatalf("[5798-8.4.2-d] ignored %d v2 adverts, want 1 (the one within Master_Down_Interval)", c.V2Ignored)
	}
	h.wantState(Backup)
}

// A Master in the mode steps down to a higher-priority VRRPv2 Master
// [5798-6.4.3-j] and times out on its rate [9568-8.4.2-a]; a Backup
// preempts a lower-priority VRRPv2 Master [5798-6.4.2-j].
func TestCompatV2Master(t *testing.T) {
	h := newHarness(t, compatCfg(100))
	h.toMaster()
	got := h.do(v2Advert(Advert(peerHi4, 200, 2*time.Second)))
	// The last advert, as a split brain's loser (conflict.go), goes out in
	// both versions too [5798-8.4.2-c].
	wantActions(t, "[5798-6.4.3-j]", got, []Action{tr(Master, Backup, ReasonHigherPriority), send(100), {Kind: SendAdvert, Priority: 100, Version: 2}, remove})
	if st := h.r.Status(); st.MasterAdverInterval != 2*time.Second {
		t.Fatalf("[9568-8.4.2-a] learnt %v", st.MasterAdverInterval)
	}

	h = newHarness(t, compatCfg(150))
	h.toBackup()
	due := h.deadline(MasterDownTimer)
	h.advance(time.Second)
	h.do(v2Advert(Advert(peerHi4, 100, time.Second)))
	if got := h.deadline(MasterDownTimer); got != due {
		t.Fatalf("[5798-6.4.2-j] a lower-priority v2 Master restarted the timer")
	}
	got = h.fire(MasterDownTimer)
	wantActions(t, "[5798-6.4.2-j] preempt", got, []Action{tr(Backup, Master, ReasonPreempted), send(150), send2(150), add, announce})
}

// The RFC lets a router in the mode report a VRRPv3 Master that sends no
// VRRPv2: its peer is not in the mode, and the VRRPv2 routers cannot hear it.
func TestCompatReportsV3OnlyMaster(t *testing.T) {
	h := newHarness(t, compatCfg(100))
	h.toBackup()
	for range 3 { // an interop Master: v3 then v2, every interval
		h.do(v3Advert(Advert(peerHi4, 200, time.Second)))
		h.do(v2Advert(Advert(peerHi4, 200, time.Second)))
		h.advance(time.Second)
	}
	if c := h.r.Status().Counters; c.V3WithoutV2 != 0 {
		t.Fatalf("an interop Master reported as v3-only: %+v", c)
	}
	for range 3 { // a v3-only Master
		h.do(v3Advert(Advert(peerHi4, 200, time.Second)))
		h.advance(time.Second)
	}
	if c := h.r.Status().Counters; c.V3WithoutV2 != 2 {
		t.Fatalf("V3WithoutV2 = %d, want 2 (the 2nd and 3rd v3-only adverts)", c.V3WithoutV2)
	}
}

// v2_compat changes in place (a reload): the next advert carries the VRRPv2
// copy, or no longer does.
func TestCompatReconfigure(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	if _, err := h.r.Reconfigure(compatCfg(100)); err != nil {
		t.Fatalf("[5798-8.4.2-b] turning v2_compat on: %v", err)
	}
	wantActions(t, "[5798-8.4.2-c] after turning it on", h.fire(AdverTimer), []Action{send(100), send2(100)})
	if _, err := h.r.Reconfigure(v3cfg(100)); err != nil {
		t.Fatal(err)
	}
	wantActions(t, "after turning it off", h.fire(AdverTimer), []Action{send(100)})
}
