package fsm

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// [5798-6.4.3-h]: each Adver_Timer expiry sends one advert and re-arms the
// timer with the router's own Advertisement_Interval, not the learnt one.
func TestAdverTimerExpiry(t *testing.T) {
	c := v3cfg(100)
	c.AdvertInterval = 50 * ms
	h := newHarness(t, c)
	h.toBackup()
	h.do(Advert(peerHi4, 200, time.Second)) // learns 1 s
	h.fire(MasterDownTimer)
	h.wantState(Master)
	for range 3 {
		at := h.deadline(AdverTimer)
		if at != h.c.t+50*ms {
			t.Fatalf("[5798-6.4.3-h] Adver_Timer at %v, want now+50ms (own interval)", at-h.c.t)
		}
		wantActions(t, "[5798-6.4.3-h]", h.fire(AdverTimer), []Action{send(100)})
	}
	if n := h.r.Status().Counters.SentAdvertisements; n != 4 {
		t.Fatalf("SentAdvertisements %d, want 4", n)
	}
}

// A late Adver_Timer firing does not stretch the interval: the next deadline
// counts from the one that fired [5798-6.4.3-h]; a firing more than an
// interval late restarts from now.
func TestAdverTimerNoDrift(t *testing.T) {
	c := v3cfg(255) // owner: Master at startup
	c.AdvertInterval = 10 * ms
	h := newHarness(t, c)
	h.do(Event{Kind: EventStartup})
	h.wantState(Master)
	due := h.deadline(AdverTimer)
	for range 5 {
		h.c.t = due + 700*time.Microsecond // the wake-up is 0.7 ms late
		at, tok, _ := h.r.Deadline(AdverTimer)
		wantActions(t, "[5798-6.4.3-h]", h.do(Expired(AdverTimer, tok)), []Action{send(255)})
		if next := h.deadline(AdverTimer); next != at+10*ms {
			t.Fatalf("next advert at deadline%+v, want deadline+10ms", next-at)
		}
		due += 10 * ms
	}
	h.c.t = due + 15*ms // more than an interval late
	_, tok, _ := h.r.Deadline(AdverTimer)
	h.do(Expired(AdverTimer, tok))
	if next := h.deadline(AdverTimer); next != h.c.t+10*ms {
		t.Fatalf("after a very late firing the next advert is at now%+v, want now+10ms", next-h.c.t)
	}
}

// [5798-6.4.2-g] IPv6: join the solicited-node groups before the NAs.
func TestBackupToMasterIPv6(t *testing.T) {
	h := newHarness(t, v6cfg(100))
	h.toBackup()
	wantActions(t, "[5798-6.4.2-g]", h.fire(MasterDownTimer),
		[]Action{tr(Backup, Master, ReasonMasterNoResponse), send(100), add, join, announce})
	if got := h.deadline(AdverTimer); got != h.c.t+time.Second {
		t.Fatalf("Adver_Timer %v", got)
	}
}

// RFC 6527 NewMasterReason for each way into Master.
func TestNewMasterReason(t *testing.T) {
	t.Run("priority-0 advert gives priority", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toBackup()
		h.do(Advert(peerHi4, 200, time.Second))
		h.do(Advert(peerHi4, 0, time.Second))
		wantActions(t, "[5798-6.4.2-h]", h.fire(MasterDownTimer)[:1], []Action{tr(Backup, Master, ReasonPriorityZero)})
		if got := h.r.Status().Counters; got.NewMasterReason != PriorityReason || got.RcvdPriZeroPackets != 1 || got.RcvdAdvertisements != 2 {
			t.Fatalf("counters %+v", got)
		}
	})
	t.Run("discarded lower priority gives preempted", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toBackup()
		h.do(Advert(peerHi4, 50, time.Second))
		wantActions(t, "[5798-6.4.2-j]", h.fire(MasterDownTimer)[:1], []Action{tr(Backup, Master, ReasonPreempted)})
		if got := h.r.Status().Counters.NewMasterReason; got != Preempted {
			t.Fatalf("NewMasterReason %v", got)
		}
	})
	t.Run("an accepted advert after a lower one is master-no-response", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toBackup()
		h.do(Advert(peerHi4, 50, time.Second))
		h.do(Advert(peerHi4, 150, time.Second))
		wantActions(t, "[5798-6.4.2-g]", h.fire(MasterDownTimer)[:1], []Action{tr(Backup, Master, ReasonMasterNoResponse)})
	})
}

// Firings with the token of a reset or stopped timer do nothing.
func TestStaleTimerFiringsIgnored(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toBackup()
	_, old, _ := h.r.Deadline(MasterDownTimer)
	h.advance(time.Second)
	h.do(Advert(peerHi4, 200, time.Second)) // restarts Master_Down_Timer
	h.advance(3 * time.Second)
	if got := h.do(Expired(MasterDownTimer, old)); got != nil {
		t.Fatalf("stale firing acted: %v", got)
	}
	h.wantState(Backup)
	// A live token of another timer, or an unknown timer, is stale too.
	_, cur, _ := h.r.Deadline(MasterDownTimer)
	if got := h.do(Expired(AdverTimer, cur)); got != nil {
		t.Fatalf("wrong timer acted: %v", got)
	}
	if got := h.do(Expired(Timer(200), cur)); got != nil {
		t.Fatalf("unknown timer acted: %v", got)
	}
	// Stopped by shutdown: the last token is dead.
	h.do(Event{Kind: EventShutdown})
	if got := h.do(Expired(MasterDownTimer, cur)); got != nil {
		t.Fatalf("stopped timer acted: %v", got)
	}
	// The live one works, once.
	h.do(Event{Kind: EventStartup})
	_, live, _ := h.r.Deadline(MasterDownTimer)
	if got := h.do(Expired(MasterDownTimer, live)); len(got) == 0 {
		t.Fatal("live firing ignored")
	}
	if got := h.do(Expired(MasterDownTimer, live)); got != nil {
		t.Fatalf("second firing of one token acted: %v", got)
	}
	if n := h.r.Status().Counters.StaleTimerFirings; n != 5 {
		t.Fatalf("StaleTimerFirings %d, want 5", n)
	}
}

func TestFault(t *testing.T) {
	t.Run("link down in Master: no advert", func(t *testing.T) {
		h := newHarness(t, v6cfg(100))
		h.toMaster()
		wantActions(t, "link down", h.do(Event{Kind: EventLinkDown}), []Action{tr(Master, Fault, ReasonLinkDown), remove, leave})
		if _, _, _, ok := h.r.NextDeadline(); ok {
			t.Fatal("timer running in Fault")
		}
		if got := h.do(Advert(peerHi4, 0, time.Second)); got != nil {
			t.Fatalf("advert handled in Fault: %v", got)
		}
		h.wantState(Fault)
		h.advance(time.Second)
		wantActions(t, "link up", h.do(Event{Kind: EventLinkUp}),
			[]Action{tr(Fault, Initialize, ReasonFaultCleared), tr(Initialize, Backup, ReasonFaultCleared)})
		if got := h.deadline(MasterDownTimer); got != h.c.t+3609375*time.Microsecond {
			t.Fatalf("Master_Down_Timer %v", got-h.c.t)
		}
	})
	t.Run("tracked fault in Master resigns with priority 0", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toMaster()
		wantActions(t, "fault", h.do(Event{Kind: EventFault}), []Action{tr(Master, Fault, ReasonTrackFault), send(0), remove})
		if n := h.r.Status().Counters.SentPriZeroPackets; n != 1 {
			t.Fatalf("SentPriZeroPackets %d", n)
		}
	})
	t.Run("tracked fault with the link down sends nothing", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toMaster()
		h.do(Event{Kind: EventLinkDown})
		if got := h.do(Event{Kind: EventFault}); got != nil {
			t.Fatalf("second fault acted: %v", got)
		}
		if got := h.do(Event{Kind: EventLinkUp}); got != nil {
			t.Fatalf("left Fault with a fault still set: %v", got)
		}
		h.wantState(Fault)
		got := h.do(Event{Kind: EventFaultCleared})
		wantActions(t, "cleared", got, []Action{tr(Fault, Initialize, ReasonFaultCleared), tr(Initialize, Backup, ReasonFaultCleared)})
	})
	t.Run("owner returns to Master", func(t *testing.T) {
		h := newHarness(t, v3cfg(255))
		h.toMaster()
		h.do(Event{Kind: EventFault})
		wantActions(t, "owner cleared", h.do(Event{Kind: EventFaultCleared}),
			[]Action{tr(Fault, Initialize, ReasonFaultCleared), tr(Initialize, Master, ReasonFaultCleared), send(255), add, announce})
	})
	t.Run("startup with the link down goes to Fault", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		if got := h.do(Event{Kind: EventLinkDown}); got != nil {
			t.Fatalf("link down in Initialize acted: %v", got)
		}
		wantActions(t, "startup", h.do(Event{Kind: EventStartup}), []Action{tr(Initialize, Fault, ReasonLinkDown)})
		wantActions(t, "shutdown", h.do(Event{Kind: EventShutdown}), []Action{tr(Fault, Initialize, ReasonShutdown)})
		if got := h.do(Event{Kind: EventLinkUp}); got != nil {
			t.Fatalf("link up after shutdown acted: %v", got)
		}
		h.wantState(Initialize)
	})
	t.Run("Backup to Fault stops Master_Down_Timer", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toBackup()
		wantActions(t, "fault", h.do(Event{Kind: EventFault}), []Action{tr(Backup, Fault, ReasonTrackFault)})
		if h.running(MasterDownTimer) {
			t.Fatal("Master_Down_Timer survives Fault")
		}
	})
}

// Preempt delay (keepalived's preempt_delay; an extension of [5798-6.4.2-j],
// docs/CONFORMANCE.md). As keepalived 2.2.7's vrrp_state_backup does it: a
// Backup accepts a lower-priority Master's adverts, as if Preempt_Mode were
// off, for PreemptDelay from the first one it hears, then discards them and
// preempts when Master_Down_Timer runs out. An advert of higher or equal
// priority, leaving Backup or a Fault ends the delay, so a lower-priority
// Master that appears later, not only at startup, is given it in full.
func TestPreemptDelay(t *testing.T) {
	const delay = 5 * time.Second
	c := v3cfg(200)
	c.PreemptDelay = delay
	type step struct {
		at     time.Duration // since setup ended
		prio   uint8         // of the advert heard from peerHi4
		accept bool          // Master_Down_Timer restarted [5798-6.4.2-i]
		holdTo time.Duration // Preempt_Delay_Timer's deadline since setup; 0: not running
	}
	toBackup := func(h *harness) { h.toBackup() }
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		steps []step
	}{
		{"from the first lower-priority advert, not from startup", toBackup, []step{
			{2 * time.Second, 100, true, 7 * time.Second},
			{4 * time.Second, 100, true, 7 * time.Second},
			{6 * time.Second, 100, true, 7 * time.Second},
			{7100 * ms, 100, false, 0},
			{8100 * ms, 100, false, 0},
		}},
		{"a lower-priority Master appearing later", toBackup, []step{
			{1 * time.Second, 250, true, 0},
			{3 * time.Second, 250, true, 0},
			{5 * time.Second, 250, true, 0},
			{6 * time.Second, 100, true, 11 * time.Second},
			{9 * time.Second, 100, true, 11 * time.Second},
			{11500 * ms, 100, false, 0},
		}},
		{"our tracked priority rising above the Master's", func(h *harness) {
			h.toBackup()
			h.do(SetPriority(100))
			h.do(Advert(peerHi4, 150, time.Second)) // higher: no delay
			h.advance(time.Second)
			h.do(Advert(peerHi4, 150, time.Second))
			h.do(SetPriority(200))
		}, []step{
			{1 * time.Second, 150, true, 6 * time.Second},
			{6500 * ms, 150, false, 0},
		}},
		{"again after being preempted", func(h *harness) { h.toMaster() }, []step{
			{1 * time.Second, 250, true, 0}, // Master -> Backup [5798-6.4.3-j]
			{2 * time.Second, 100, true, 7 * time.Second},
			{5 * time.Second, 100, true, 7 * time.Second},
			{7500 * ms, 100, false, 0},
		}},
		{"again after a Fault", func(h *harness) {
			h.toBackup()
			h.do(Advert(peerHi4, 100, time.Second))
			h.do(Event{Kind: EventFault})
			h.advance(10 * time.Second)
			h.do(Event{Kind: EventFaultCleared})
			h.wantState(Backup)
		}, []step{
			{1 * time.Second, 100, true, 6 * time.Second},
		}},
		{"higher or equal priority ends it, the next lower one restarts it", toBackup, []step{
			{1 * time.Second, 100, true, 6 * time.Second},
			{2 * time.Second, 200, true, 0},
			{3 * time.Second, 100, true, 8 * time.Second},
			{5 * time.Second, 100, true, 8 * time.Second},
			{8500 * ms, 100, false, 0}, // ended: discarded
			{9 * time.Second, 250, true, 0},
			{10 * time.Second, 100, true, 15 * time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, c)
			tc.setup(h)
			base := h.c.t
			for _, s := range tc.steps {
				for h.running(PreemptDelayTimer) && h.deadline(PreemptDelayTimer) <= base+s.at {
					wantActions(t, "delay expiry", h.fire(PreemptDelayTimer), nil)
				}
				h.c.t = base + s.at
				h.do(Advert(peerHi4, s.prio, time.Second))
				h.wantState(Backup)
				if got := h.deadline(MasterDownTimer) == h.c.t+MasterDownInterval(3, 200, time.Second); got != s.accept {
					t.Fatalf("at %v priority %d: accepted %v, want %v", s.at, s.prio, got, s.accept)
				}
				at, _, ok := h.r.Deadline(PreemptDelayTimer)
				if ok != (s.holdTo != 0) || (ok && at != base+s.holdTo) || h.r.Status().PreemptHold != ok {
					t.Fatalf("at %v priority %d: Preempt_Delay_Timer %v (running %v), want %v", s.at, s.prio, at-base, ok, s.holdTo)
				}
			}
			if last := tc.steps[len(tc.steps)-1]; !last.accept {
				// [5798-6.4.2-j]: the timer running out is the preemption.
				got := h.fire(MasterDownTimer)
				wantActions(t, "preempt", got[:1], []Action{tr(Backup, Master, ReasonPreempted)})
			}
		})
	}

	t.Run("master death during the hold", func(t *testing.T) {
		h := newHarness(t, c)
		h.toBackup()
		h.do(Advert(peerHi4, 100, time.Second))
		got := h.fire(MasterDownTimer) // nothing more heard
		wantActions(t, "down", got[:1], []Action{tr(Backup, Master, ReasonMasterNoResponse)})
		if h.c.t >= c.PreemptDelay {
			t.Fatal("test assumption: takeover before the delay ends")
		}
		if h.r.Status().PreemptHold || h.running(PreemptDelayTimer) {
			t.Fatal("the delay survives becoming Master")
		}
	})
	t.Run("not for the owner or without preempt", func(t *testing.T) {
		for _, c := range []Config{func() Config { c := c; c.Priority = 255; return c }(), func() Config { c := c; c.Preempt = false; return c }()} {
			h := newHarness(t, c)
			h.do(Event{Kind: EventStartup})
			h.do(Advert(peerHi4, 100, time.Second))
			if h.r.Status().PreemptHold || h.running(PreemptDelayTimer) {
				t.Fatalf("hold for %+v", c)
			}
		}
	})
}

// Tracked priority: stored at once, carried by the next advert; the owner is
// never changed; 0 and 255 are clamped away.
func TestPriorityChange(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	if got := h.do(SetPriority(90)); got != nil {
		t.Fatalf("priority change acted at once: %v", got)
	}
	wantActions(t, "next advert", h.fire(AdverTimer), []Action{send(90)})
	h.do(SetPriority(0))
	wantActions(t, "clamp 0", h.fire(AdverTimer), []Action{send(1)})
	h.do(SetPriority(255))
	wantActions(t, "clamp 255", h.fire(AdverTimer), []Action{send(254)})
	// Now a 200 is lower: stay Master. Drop to 150 and it wins.
	h.do(Advert(peerHi4, 200, time.Second))
	h.wantState(Master)
	h.do(SetPriority(150))
	h.do(Advert(peerHi4, 200, time.Second))
	h.wantState(Backup)
	// In Backup the new priority sets the next Master_Down_Interval.
	h.do(SetPriority(250))
	if h.deadline(MasterDownTimer) != h.c.t+MasterDownInterval(3, 150, time.Second) {
		t.Fatal("priority change moved the running timer")
	}
	h.do(Advert(peerHi4, 254, time.Second))
	if h.deadline(MasterDownTimer) != h.c.t+MasterDownInterval(3, 250, time.Second) {
		t.Fatal("next arming ignores the new priority")
	}

	o := newHarness(t, v3cfg(255))
	o.toMaster()
	o.do(SetPriority(10))
	wantActions(t, "owner", o.fire(AdverTimer), []Action{send(255)})
}

// [5798-6.1-g] [5798-6.4.3-f] [3768-6.4.3-b]: Accept is the effective
// Accept_Mode the daemon enforces: the owner always accepts, a non-owner
// when configured, VRRPv2 included (a deliberate extension, as keepalived).
func TestAcceptReported(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want bool
	}{
		{v3cfg(100), false},
		{func() Config { c := v3cfg(100); c.Accept = true; return c }(), true},
		{v3cfg(255), true},
		{v2cfg(100), false},
		{v2cfg(255), true},
		{func() Config { c := v2cfg(100); c.Accept = true; return c }(), true},
	} {
		h := newHarness(t, tc.cfg)
		if got := h.r.Status().Accept; got != tc.want {
			t.Errorf("v%d P=%d accept=%v: Status.Accept %v", tc.cfg.Version, tc.cfg.Priority, tc.cfg.Accept, got)
		}
	}
}

// [5798-6.1-d] [5798-6.1-e] [3768-6.1-a] [3768-6.1-b]: the status carries
// the derived timers, from the router's own priority.
func TestStatusTimers(t *testing.T) {
	st := newHarness(t, v3cfg(150)).r.Status()
	if st.SkewTime != 414062500 || st.MasterDownInterval != 3414062500 || st.MasterAdverInterval != time.Second {
		t.Fatalf("v3 status %+v", st)
	}
	c := v2cfg(254)
	c.AdvertInterval = 2 * time.Second
	st = newHarness(t, c).r.Status()
	if st.SkewTime != 7812500 || st.MasterDownInterval != 6007812500 {
		t.Fatalf("v2 status %+v", st)
	}
}

func TestConfigCheck(t *testing.T) {
	ok := v3cfg(100)
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*Config){
		"vrid 0":             func(c *Config) { c.VRID = 0 },
		"priority 0":         func(c *Config) { c.Priority = 0 },
		"version 4":          func(c *Config) { c.Version = 4 },
		"v3 5ms":             func(c *Config) { c.AdvertInterval = 5 * ms },
		"v3 15ms":            func(c *Config) { c.AdvertInterval = 15 * ms },
		"v3 40.96s":          func(c *Config) { c.AdvertInterval = 40960 * ms },
		"v2 1.5s":            func(c *Config) { c.Version = 2; c.AdvertInterval = 1500 * ms },
		"v2 256s":            func(c *Config) { c.Version = 2; c.AdvertInterval = 256 * time.Second },
		"v2 ipv6":            func(c *Config) { *c = v6cfg(100); c.Version = 2 },
		"no addresses":       func(c *Config) { c.Addresses = nil },
		"mixed family":       func(c *Config) { c.Addresses = []netip.Addr{vip6} },
		"no primary":         func(c *Config) { c.Primary = netip.Addr{} },
		"primary v6 on v4":   func(c *Config) { c.Primary = primary6 },
		"negative delay":     func(c *Config) { c.PreemptDelay = -1 },
		"family unspecified": func(c *Config) { c.Family = 0 },
	} {
		c := ok
		c.Addresses = append([]netip.Addr(nil), ok.Addresses...)
		f(&c)
		if _, err := New(c, &fakeClock{}); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
	// The router keeps its own copy of the addresses.
	c := v3cfg(100)
	r, _ := New(c, &fakeClock{})
	c.Addresses[0] = vip6
	if r.Config().Addresses[0] != vip4 {
		t.Fatal("address slice shared with the caller")
	}
}
