package fsm

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"
)

var (
	vipB  = netip.MustParseAddr("10.0.0.253")
	vip6b = netip.MustParseAddr("2001:db8::52")
)

// timerSnap is every timer's deadline and token, to tell "untouched" from
// "re-armed at the same instant".
type timerSnap [numTimers]struct {
	at  time.Duration
	tok uint64
	ok  bool
}

func snapTimers(r *Router) (s timerSnap) {
	for i := range s {
		s[i].at, s[i].tok, s[i].ok = r.Deadline(Timer(i))
	}
	return s
}

// Reload in place: one case per parameter and state, v2 and v3. Each router
// is brought to its state by setup, the clock is put at t=10s, and
// Reconfigure applies change to the running configuration.
func TestReconfigure(t *testing.T) {
	const now = 10 * time.Second
	type tc struct {
		id     string
		cfg    Config
		setup  func(h *harness)
		change func(c *Config)
		want   []Action
		err    error
		check  func(t *testing.T, h *harness, before timerSnap)
	}
	// master: Master since 3.609375 s, last advert at 9.609375 s, next due
	// at 10.609375 s (v3 and v2 at 1 s and priority 100).
	master := func(h *harness) {
		h.toMaster()
		for h.deadline(AdverTimer) <= now {
			h.fire(AdverTimer)
		}
	}
	// heard: Backup that accepted a 200's advert at 9 s: Master_Down_Timer
	// at 12.609375 s.
	heard := func(h *harness) {
		h.toBackup()
		h.advance(9 * time.Second)
		h.do(Advert(peerHi4, 200, time.Second))
	}
	// fresh: Backup started at 9 s that has heard nothing: Master_Adver_Interval
	// still its own startup value [5798-6.4.1-b].
	fresh := func(h *harness) {
		h.advance(9 * time.Second)
		h.toBackup()
	}
	// prioZero: fresh, then a priority-0 advert at 9.9 s: Skew_Time running.
	prioZero := func(h *harness) {
		fresh(h)
		h.advance(900 * ms)
		h.do(Advert(peerHi4, 0, time.Second))
	}
	fault := func(h *harness) { h.toMaster(); h.do(Event{Kind: EventFault}) }
	idle := func(*harness) {}

	unchanged := func(tms ...Timer) func(*testing.T, *harness, timerSnap) {
		return func(t *testing.T, h *harness, before timerSnap) {
			after := snapTimers(h.r)
			for _, tm := range tms {
				if after[tm] != before[tm] {
					t.Errorf("%v touched: %+v -> %+v", tm, before[tm], after[tm])
				}
			}
		}
	}
	at := func(tm Timer, want time.Duration) func(*testing.T, *harness, timerSnap) {
		return func(t *testing.T, h *harness, _ timerSnap) {
			if got := h.deadline(tm); got != want {
				t.Errorf("%v at %v, want %v", tm, got, want)
			}
		}
	}
	// nextAdverts fires Adver_Timer n times and checks the spacing and the
	// priority carried [5798-6.4.3-h].
	nextAdverts := func(first, iv time.Duration, prio uint8) func(*testing.T, *harness, timerSnap) {
		return func(t *testing.T, h *harness, _ timerSnap) {
			for i := range 3 {
				want := first + time.Duration(i)*iv
				if got := h.deadline(AdverTimer); got != want {
					t.Fatalf("advert %d due at %v, want %v", i, got, want)
				}
				wantActions(t, "[5798-6.4.3-h]", h.fire(AdverTimer), []Action{send(prio)})
			}
		}
	}
	status := func(f func(s Status) bool) func(*testing.T, *harness, timerSnap) {
		return func(t *testing.T, h *harness, _ timerSnap) {
			if s := h.r.Status(); !f(s) {
				t.Errorf("status %+v", s)
			}
		}
	}
	all := func(fs ...func(*testing.T, *harness, timerSnap)) func(*testing.T, *harness, timerSnap) {
		return func(t *testing.T, h *harness, b timerSnap) {
			for _, f := range fs {
				f(t, h, b)
			}
		}
	}
	with := func(c Config, f func(*Config)) Config { f(&c); return c }
	prio := func(p uint8) func(*Config) { return func(c *Config) { c.Priority = p } }
	iv := func(d time.Duration) func(*Config) { return func(c *Config) { c.AdvertInterval = d } }
	addrs := func(a ...netip.Addr) func(*Config) { return func(c *Config) { c.Addresses = a } }
	same := func(*Config) {}
	addr := func(k ActionKind, a netip.Addr) Action { return Action{Kind: k, Addr: a} }
	v2at3s := with(v2cfg(100), iv(3*time.Second))
	noPreempt := with(v3cfg(100), func(c *Config) { c.Preempt = false })
	mdi := MasterDownInterval

	for _, c := range []tc{
		// Changes that need a restart leave the router untouched.
		{id: "restart VRID", cfg: v3cfg(100), setup: master, change: func(c *Config) { c.VRID = 52 },
			err: ErrRestartNeeded, check: unchanged(AdverTimer)},
		{id: "restart version 3 to 2", cfg: v3cfg(100), setup: heard, change: func(c *Config) { c.Version = 2 },
			err: ErrRestartNeeded, check: unchanged(MasterDownTimer)},
		{id: "restart family", cfg: v3cfg(100), setup: master, change: func(c *Config) { *c = v6cfg(100) },
			err: ErrRestartNeeded},
		{id: "5798-6.4.1-a restart owner to non-owner", cfg: v3cfg(255), setup: master, change: prio(254),
			err: ErrRestartNeeded, check: all(unchanged(AdverTimer), nextAdverts(now+time.Second, time.Second, 255))},
		{id: "5798-6.1-f restart non-owner to owner", cfg: v2cfg(100), setup: heard, change: prio(255),
			err: ErrRestartNeeded},
		{id: "5798-6.1-b invalid config is ErrConfig", cfg: v3cfg(100), setup: master, change: iv(15 * ms),
			err: ErrConfig, check: unchanged(AdverTimer)},

		// Nothing changed: nothing happens, not even a re-arm.
		{id: "identical Master", cfg: v6cfg(100), setup: master, change: same, check: unchanged(AdverTimer)},
		{id: "identical Backup", cfg: v2cfg(100), setup: heard, change: same, check: unchanged(MasterDownTimer, PreemptDelayTimer)},

		// Priority: like a tracked change, on the wire with the next advert.
		{id: "5798-6.4.3-h Master priority on the next advert", cfg: v3cfg(100), setup: master, change: prio(150),
			check: all(unchanged(AdverTimer), nextAdverts(now+609375*time.Microsecond, time.Second, 150))},
		{id: "3768-6.4.3-a v2 Master priority", cfg: v2cfg(100), setup: master, change: prio(20),
			check: all(unchanged(AdverTimer), nextAdverts(now+609375*time.Microsecond, time.Second, 20))},
		{id: "5798-6.1-d 5798-6.1-e Backup priority recomputes, timer untouched", cfg: v3cfg(100), setup: heard, change: prio(150),
			check: all(unchanged(MasterDownTimer), status(func(s Status) bool {
				return s.Priority == 150 && s.ConfiguredPriority == 150 && s.MasterDownInterval == mdi(3, 150, time.Second)
			}))},

		// AdvertInterval in Master: min(running deadline, now + new).
		{id: "5798-6.4.3-h v3 Master longer interval keeps the due advert", cfg: v3cfg(100), setup: master, change: iv(2 * time.Second),
			check: all(unchanged(AdverTimer), nextAdverts(now+609375*time.Microsecond, 2*time.Second, 100))},
		{id: "5798-6.4.3-h v3 Master shorter interval moves the advert earlier", cfg: v3cfg(100), setup: master, change: iv(200 * ms),
			check: nextAdverts(now+200*ms, 200*ms, 100)},
		{id: "5798-6.4.3-h v3 Master shorter interval, due advert sooner", cfg: v3cfg(100), setup: master, change: iv(800 * ms),
			check: all(unchanged(AdverTimer), nextAdverts(now+609375*time.Microsecond, 800*ms, 100))},
		{id: "3768-6.4.3-a v2 Master longer interval", cfg: v2cfg(100), setup: master, change: iv(3 * time.Second),
			check: all(unchanged(AdverTimer), nextAdverts(now+609375*time.Microsecond, 3*time.Second, 100), status(func(s Status) bool {
				return s.MasterAdverInterval == 3*time.Second && s.MasterDownInterval == mdi(2, 100, 3*time.Second)
			}))},
		{id: "3768-6.4.3-a v2 Master shorter interval", cfg: v2at3s, setup: master, change: iv(time.Second),
			check: nextAdverts(now+time.Second, time.Second, 100)},

		// AdvertInterval in Backup.
		{id: "9568-6.4.2-a v3 Backup keeps the learnt interval", cfg: v3cfg(100), setup: heard, change: iv(2 * time.Second),
			check: all(unchanged(MasterDownTimer), status(func(s Status) bool {
				return s.MasterAdverInterval == time.Second && s.MasterDownInterval == mdi(3, 100, time.Second)
			}))},
		{id: "5798-6.4.1-b v3 Backup that heard nothing takes the new interval", cfg: v3cfg(100), setup: fresh, change: iv(2 * time.Second),
			check: all(at(MasterDownTimer, now+mdi(3, 100, 2*time.Second)), status(func(s Status) bool {
				return s.MasterAdverInterval == 2*time.Second
			}))},
		{id: "5798-6.4.2-h v3 Backup running Skew_Time keeps it", cfg: v3cfg(100), setup: prioZero, change: iv(2 * time.Second),
			check: unchanged(MasterDownTimer)},
		{id: "3768-6.1-b v2 Backup recomputes Master_Down_Interval and re-arms", cfg: v2cfg(100), setup: heard, change: iv(2 * time.Second),
			check: all(at(MasterDownTimer, now+mdi(2, 100, 2*time.Second)), status(func(s Status) bool {
				return s.MasterDownInterval == 6609375*time.Microsecond && s.SkewTime == 609375*time.Microsecond
			}))},
		{id: "3768-6.1-a v2 Backup running Skew_Time keeps it", cfg: v2cfg(100), setup: prioZero, change: iv(2 * time.Second),
			check: unchanged(MasterDownTimer)},

		// Addresses: per-address actions in Master, storage elsewhere.
		{id: "5798-6.4.2-g Master swaps an IPv4 address", cfg: v3cfg(100), setup: master, change: addrs(vipB),
			want:  []Action{addr(RemoveAddresses, vip4), addr(AddAddresses, vipB), addr(Announce, vipB)},
			check: unchanged(AdverTimer)},
		{id: "5798-6.4.2-g Master adds an IPv4 address", cfg: v2cfg(100), setup: master, change: addrs(vip4, vipB),
			want: []Action{addr(AddAddresses, vipB), addr(Announce, vipB)}},
		{id: "5798-6.4.3-b Master swaps an IPv6 address: groups follow", cfg: v6cfg(100), setup: master, change: addrs(vipLL, vip6b),
			want: []Action{addr(RemoveAddresses, vip6), addr(LeaveGroup, vip6), addr(AddAddresses, vip6b), addr(JoinGroup, vip6b), addr(Announce, vip6b)}},
		{id: "Master reorder and duplicates: once per new address", cfg: v3cfg(255), setup: master, change: addrs(vipB, vip4, vipB),
			want: []Action{addr(AddAddresses, vipB), addr(Announce, vipB)}},
		{id: "Backup stores addresses; becoming Master installs all", cfg: v6cfg(100), setup: heard, change: addrs(vip6b, vipLL),
			check: func(t *testing.T, h *harness, _ timerSnap) {
				if got := h.r.Config().Addresses; !slices.Equal(got, []netip.Addr{vip6b, vipLL}) {
					t.Fatalf("addresses %v", got)
				}
				wantActions(t, "[5798-6.4.2-g]", h.fire(MasterDownTimer), []Action{tr(Backup, Master, ReasonMasterNoResponse), send(100), add, join, announce})
			}},

		// Preempt, Accept, NoReplyLower, Primary.
		{id: "5798-6.4.2-i Preempt off: lower priority accepted", cfg: v3cfg(200), setup: heard, change: func(c *Config) { c.Preempt = false },
			check: func(t *testing.T, h *harness, _ timerSnap) {
				h.do(Advert(peerLo4, 50, time.Second))
				if got := h.deadline(MasterDownTimer); got != now+mdi(3, 200, time.Second) {
					t.Fatalf("lower priority not accepted: Master_Down_Timer %v", got)
				}
			}},
		{id: "5798-6.4.2-j Preempt on: lower priority discarded", cfg: noPreempt, setup: heard, change: func(c *Config) { c.Preempt = true; c.Priority = 250 },
			check: func(t *testing.T, h *harness, before timerSnap) {
				h.do(Advert(peerHi4, 200, time.Second))
				unchanged(MasterDownTimer)(t, h, before)
				wantActions(t, "preempt", h.fire(MasterDownTimer)[:1], []Action{tr(Backup, Master, ReasonPreempted)})
			}},
		{id: "5798-6.1-g Accept reported", cfg: v3cfg(100), setup: master, change: func(c *Config) { c.Accept = true },
			check: status(func(s Status) bool { return s.Accept })},
		{id: "IMPL-7 NoReplyLower turned on", cfg: v3cfg(100), setup: master, change: func(c *Config) { c.NoReplyLower = true },
			check: func(t *testing.T, h *harness, _ timerSnap) {
				wantActions(t, "[IMPL-7]", h.do(Advert(peerHi4, 99, time.Second)), []Action{announce, sb(peerHi4, 99)})
			}},
		{id: "9568-6.4.3-b NoReplyLower turned off", cfg: with(v3cfg(100), func(c *Config) { c.NoReplyLower = true }), setup: master,
			change: func(c *Config) { c.NoReplyLower = false },
			check: func(t *testing.T, h *harness, _ timerSnap) {
				wantActions(t, "[9568-6.4.3-b]", h.do(Advert(peerHi4, 99, time.Second)), []Action{send(100), announce, sb(peerHi4, 99)})
			}},
		{id: "9568-6.4.3-a Master primary follows", cfg: v3cfg(100), setup: master, change: func(c *Config) { c.Primary = peerLo4 },
			check: all(unchanged(AdverTimer), status(func(s Status) bool { return s.Primary == peerLo4 && s.MasterAddr == peerLo4 }))},

		// Initialize and Fault store; the next startup uses the new values.
		{id: "Fault stores everything, acts on nothing", cfg: v3cfg(100), setup: fault,
			change: func(c *Config) { c.Priority, c.AdvertInterval, c.Addresses = 150, 100*ms, []netip.Addr{vipB} },
			check: func(t *testing.T, h *harness, _ timerSnap) {
				if _, _, _, ok := h.r.NextDeadline(); ok {
					t.Fatal("timer armed in Fault")
				}
				h.do(Event{Kind: EventFaultCleared})
				if got := h.deadline(MasterDownTimer); got != now+mdi(3, 150, 100*ms) {
					t.Fatalf("[5798-6.4.1-b] Master_Down_Timer %v", got)
				}
			}},
		{id: "5798-6.4.1-b Initialize: startup uses the new values", cfg: v2cfg(100), setup: idle,
			change: func(c *Config) { c.Priority, c.AdvertInterval = 200, 5*time.Second },
			check: func(t *testing.T, h *harness, _ timerSnap) {
				h.toBackup()
				if got := h.deadline(MasterDownTimer); got != now+mdi(2, 200, 5*time.Second) {
					t.Fatalf("Master_Down_Timer %v", got)
				}
			}},
	} {
		t.Run(c.id, func(t *testing.T) {
			h := newHarness(t, c.cfg)
			c.setup(h)
			h.c.t = now
			st, cfgBefore := h.r.State(), h.r.Config()
			cfgBefore.Addresses = slices.Clone(cfgBefore.Addresses)
			newCfg := h.r.Config()
			newCfg.Addresses = slices.Clone(newCfg.Addresses)
			c.change(&newCfg)
			before := snapTimers(h.r)
			got, err := h.r.Reconfigure(newCfg)
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			wantActions(t, "["+c.id+"]", slices.Clone(got), c.want)
			h.wantState(st) // never a transition
			after := h.r.Config()
			if c.err != nil && (after.Priority != cfgBefore.Priority || after.AdvertInterval != cfgBefore.AdvertInterval ||
				after.VRID != cfgBefore.VRID || after.Version != cfgBefore.Version || after.Family != cfgBefore.Family ||
				!slices.Equal(after.Addresses, cfgBefore.Addresses)) {
				t.Fatalf("failed Reconfigure changed the config: %+v", after)
			}
			if c.err == nil && (after.Priority != newCfg.Priority || after.AdvertInterval != newCfg.AdvertInterval ||
				!slices.Equal(after.Addresses, newCfg.Addresses)) {
				t.Fatalf("config %+v, want %+v", after, newCfg)
			}
			if c.check != nil {
				c.check(t, h, before)
			}
		})
	}
}

// The configured priority and the tracked one: a reload that leaves
// Priority alone keeps the tracked value; one that changes it resets the
// effective priority to it, and the caller re-sends its tracked value.
func TestReconfigureTrackedPriority(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	h.do(SetPriority(80)) // tracking: 100 - 20
	cfg := h.r.Config()
	cfg.NoReplyLower = true
	if _, err := h.r.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if s := h.r.Status(); s.Priority != 80 || s.ConfiguredPriority != 100 {
		t.Fatalf("unchanged Priority lost the tracked value: %d/%d", s.Priority, s.ConfiguredPriority)
	}
	cfg.Priority = 150
	if _, err := h.r.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if s := h.r.Status(); s.Priority != 150 || s.ConfiguredPriority != 150 {
		t.Fatalf("changed Priority: %d/%d", s.Priority, s.ConfiguredPriority)
	}
	h.do(SetPriority(130)) // the caller re-applies its tracking: 150 - 20
	wantActions(t, "[5798-6.4.3-h]", h.fire(AdverTimer), []Action{send(130)})

	// The caller's slice is copied.
	addrs := []netip.Addr{vip4, vipB}
	cfg.Addresses = addrs
	if _, err := h.r.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	addrs[1] = vip6
	if h.r.Config().Addresses[1] != vipB {
		t.Fatal("address slice shared with the caller")
	}
}

// Preempt delay across a reload: the running hold ends at its start plus
// the new delay; an ended hold is not reopened.
func TestReconfigurePreemptDelay(t *testing.T) {
	c := v3cfg(200)
	c.PreemptDelay = 10 * time.Second
	start := func(t *testing.T) *harness { // hold from 0 to 10 s; now 4 s
		h := newHarness(t, c)
		h.toBackup()
		h.do(Advert(peerHi4, 100, time.Second))
		h.advance(4 * time.Second)
		return h
	}
	reconf := func(t *testing.T, h *harness, f func(*Config)) {
		t.Helper()
		n := h.r.Config()
		f(&n)
		if a, err := h.r.Reconfigure(n); err != nil || len(a) != 0 {
			t.Fatalf("Reconfigure: %v %v", a, err)
		}
	}
	for _, tc := range []struct {
		name string
		f    func(*Config)
		hold bool
		end  time.Duration
	}{
		{"longer delay extends the hold", func(c *Config) { c.PreemptDelay = 20 * time.Second }, true, 20 * time.Second},
		{"shorter delay, still running", func(c *Config) { c.PreemptDelay = 6 * time.Second }, true, 6 * time.Second},
		{"shorter delay, already over", func(c *Config) { c.PreemptDelay = 3 * time.Second }, false, 0},
		{"delay off", func(c *Config) { c.PreemptDelay = 0 }, false, 0},
		{"preempt off", func(c *Config) { c.Preempt = false }, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			reconf(t, h, tc.f)
			if got := h.r.Status().PreemptHold; got != tc.hold {
				t.Fatalf("PreemptHold %v, want %v", got, tc.hold)
			}
			if got, _, ok := h.r.Deadline(PreemptDelayTimer); ok != tc.hold || (ok && got != tc.end) {
				t.Fatalf("Preempt_Delay_Timer %v %v, want %v %v", got, ok, tc.end, tc.hold)
			}
		})
	}
	t.Run("ended hold is not reopened", func(t *testing.T) {
		h := start(t)
		h.fire(PreemptDelayTimer)
		reconf(t, h, func(c *Config) { c.PreemptDelay = time.Hour })
		if h.r.Status().PreemptHold || h.running(PreemptDelayTimer) {
			t.Fatal("hold reopened")
		}
	})
	t.Run("without a hold, the new delay applies from the next lower-priority advert", func(t *testing.T) {
		h := newHarness(t, v3cfg(200))
		h.toBackup()
		reconf(t, h, func(c *Config) { c.PreemptDelay = 5 * time.Second })
		if h.r.Status().PreemptHold {
			t.Fatal("hold opened by a reload")
		}
		h.advance(time.Second)
		h.do(Advert(peerHi4, 100, time.Second))
		if got := h.deadline(PreemptDelayTimer); got != h.c.t+5*time.Second {
			t.Fatalf("Preempt_Delay_Timer %v", got)
		}
	})
}

// The link watcher changes the primary address: no transition, no action;
// the tie-break [5798-6.4.3-j] [9568-6.4.3-a], Status().Primary and, in
// Master, Status().MasterAddr follow.
func TestSetPrimary(t *testing.T) {
	between := netip.MustParseAddr("10.0.0.5")
	hi := netip.MustParseAddr("10.0.0.9")
	t.Run("Master", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toMaster()
		before := snapTimers(h.r)
		wantActions(t, "SetPrimary", h.do(SetPrimary(hi)), nil)
		h.wantState(Master)
		if s := h.r.Status(); s.Primary != hi || s.MasterAddr != hi || h.r.Config().Primary != hi {
			t.Fatalf("status %v %v", s.Primary, s.MasterAddr)
		}
		if snapTimers(h.r) != before {
			t.Fatal("timers touched")
		}
		// 10.0.0.5 would beat 10.0.0.1; it loses to 10.0.0.9.
		wantActions(t, "[9568-6.4.3-a] [5798-6.4.3-k]", h.do(Advert(between, 100, time.Second)), []Action{send(100), announce})
		h.do(SetPrimary(primary4))
		wantActions(t, "[5798-6.4.3-j]", h.do(Advert(between, 100, time.Second)), []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove})
		// [IMPL-6]: an advert from the new primary at our priority is ours.
		h2 := newHarness(t, v3cfg(100))
		h2.toMaster()
		h2.do(SetPrimary(hi))
		h2.do(Advert(hi, 100, time.Second))
		if n := h2.r.Status().Counters.OwnAdvertsIgnored; n != 1 {
			t.Fatalf("OwnAdvertsIgnored %d", n)
		}
	})
	t.Run("Backup keeps the Master's address", func(t *testing.T) {
		h := newHarness(t, v6cfg(100))
		h.toBackup()
		m := netip.MustParseAddr("fe80::9")
		h.do(Advert(m, 200, time.Second))
		before := snapTimers(h.r)
		newLL := netip.MustParseAddr("fe80::7%eth0")
		wantActions(t, "SetPrimary", h.do(SetPrimary(newLL)), nil)
		if s := h.r.Status(); s.Primary != newLL || s.MasterAddr != m || snapTimers(h.r) != before {
			t.Fatalf("status %v %v", s.Primary, s.MasterAddr)
		}
		h.fire(MasterDownTimer)
		if s := h.r.Status(); s.MasterAddr != newLL {
			t.Fatalf("Master with MasterAddr %v", s.MasterAddr)
		}
	})
	t.Run("invalid or wrong family ignored", func(t *testing.T) {
		h := newHarness(t, v3cfg(100))
		h.toMaster()
		for _, a := range []netip.Addr{{}, primary6} {
			wantActions(t, "SetPrimary", h.do(SetPrimary(a)), nil)
			if s := h.r.Status(); s.Primary != primary4 || s.MasterAddr != primary4 {
				t.Fatalf("%v: status %v %v", a, s.Primary, s.MasterAddr)
			}
		}
	})
	t.Run("Initialize and Fault store it", func(t *testing.T) {
		h := newHarness(t, v3cfg(255))
		h.do(SetPrimary(hi))
		h.toMaster()
		if s := h.r.Status(); s.MasterAddr != hi {
			t.Fatalf("MasterAddr %v", s.MasterAddr)
		}
	})
}
