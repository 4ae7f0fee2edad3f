package fsm

import (
	"net/netip"
	"testing"
	"time"
)

const ms = time.Millisecond

// One case per rule of spec §6, named by requirement ID. Each starts a
// router at t=0, brings it to a state with setup, moves the clock to
// t=10s (so "now + X" deadlines are distinguishable from startup ones),
// applies one event and checks the actions, the state, and the timers.
func TestStateMachineRequirements(t *testing.T) {
	const now = 10 * time.Second
	type tc struct {
		id    string
		cfg   Config
		setup func(h *harness)
		ev    Event
		want  []Action
		state State
		check func(t *testing.T, h *harness)
	}
	none := func(*harness) {}
	backup := func(h *harness) { h.toBackup() }
	master := func(h *harness) { h.toMaster() }
	adv := Advert
	// Only Master_Down_Timer runs in Backup, only Adver_Timer in Master [5798-6.2-a].
	downAt := func(d time.Duration) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			if got := h.deadline(MasterDownTimer); got != now+d {
				t.Errorf("Master_Down_Timer at %v, want now+%v", got-now, d)
			}
			if h.running(AdverTimer) {
				t.Errorf("[5798-6.2-a] Adver_Timer running in Backup")
			}
		}
	}
	adverAt := func(d time.Duration) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			if got := h.deadline(AdverTimer); got != now+d {
				t.Errorf("Adver_Timer at now+%v, want now+%v", got-now, d)
			}
			if h.running(MasterDownTimer) {
				t.Errorf("[5798-6.2-a] Master_Down_Timer running in Master")
			}
		}
	}
	noTimers := func(t *testing.T, h *harness) {
		if _, _, _, ok := h.r.NextDeadline(); ok {
			t.Errorf("a timer still runs in %v", h.r.State())
		}
	}
	all := func(fs ...func(*testing.T, *harness)) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			for _, f := range fs {
				f(t, h)
			}
		}
	}
	reason := func(n NewMasterReason, transitions uint32) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			c := h.r.Status().Counters
			if c.NewMasterReason != n || c.MasterTransitions != transitions {
				t.Errorf("NewMasterReason %v transitions %d, want %v %d", c.NewMasterReason, c.MasterTransitions, n, transitions)
			}
		}
	}
	masterAddr := func(a netip.Addr) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			if got := h.r.Status().MasterAddr; got != a {
				t.Errorf("MasterAddr %v, want %v", got, a)
			}
		}
	}
	// unchanged checks that a Master_Down_Timer deadline set during setup
	// (startup at t=0) was not touched.
	downUnchanged := func(d time.Duration) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			if got := h.deadline(MasterDownTimer); got != d {
				t.Errorf("Master_Down_Timer moved to %v, want %v", got, d)
			}
		}
	}
	with := func(c Config, f func(*Config)) Config { f(&c); return c }
	owner6 := v6cfg(255)
	noPreempt := with(v3cfg(100), func(c *Config) { c.Preempt = false })
	ownerNoPreempt := with(v3cfg(255), func(c *Config) { c.Preempt = false })
	noReply := with(v3cfg(100), func(c *Config) { c.NoReplyLower = true })
	hi4 := with(v3cfg(100), func(c *Config) { c.Primary = netip.MustParseAddr("200.0.0.1") })
	lo4 := with(v3cfg(100), func(c *Config) { c.Primary = netip.MustParseAddr("10.0.0.1") })
	v6lowPrimary := with(v6cfg(100), func(c *Config) { c.Primary = netip.MustParseAddr("fe80::ff") })
	// A random or EUI-64 interface identifier often has its first byte
	// >= 0x80; compared as signed it would sort below fe80::ff.
	highIID := netip.MustParseAddr("fe80::909c:6ff:fe12:3456")
	v6highPrimary := with(v6cfg(100), func(c *Config) { c.Primary = highIID })

	for _, c := range []tc{
		// §6.1 Initialize
		{id: "5798-6.4.1-a owner startup IPv4", cfg: v3cfg(255), setup: none, ev: Event{Kind: EventStartup},
			want:  []Action{tr(Initialize, Master, ReasonStartup), send(255), add, announce},
			state: Master, check: all(adverAt(time.Second), reason(PriorityReason, 1), masterAddr(primary4))},
		{id: "5798-6.4.1-a owner startup IPv6 joins solicited-node", cfg: owner6, setup: none, ev: Event{Kind: EventStartup},
			want:  []Action{tr(Initialize, Master, ReasonStartup), send(255), add, join, announce},
			state: Master, check: adverAt(time.Second)},
		{id: "5798-6.4.1-b startup below 255", cfg: v3cfg(100), setup: none, ev: Event{Kind: EventStartup},
			want: []Action{tr(Initialize, Backup, ReasonStartup)}, state: Backup,
			check: all(downAt(3609375*time.Microsecond), reason(NotMaster, 0))},
		{id: "5798-6.4.1-b v2 startup", cfg: v2cfg(150), setup: none, ev: Event{Kind: EventStartup},
			want: []Action{tr(Initialize, Backup, ReasonStartup)}, state: Backup, check: downAt(3414062500)},
		{id: "6.1 adverts ignored in Initialize", cfg: v3cfg(100), setup: none, ev: adv(peerHi4, 200, time.Second),
			want: nil, state: Initialize, check: noTimers},
		{id: "6.1 shutdown in Initialize is a no-op", cfg: v3cfg(100), setup: none, ev: Event{Kind: EventShutdown},
			want: nil, state: Initialize, check: noTimers},
		{id: "6.1 second startup is a no-op", cfg: v3cfg(100), setup: backup, ev: Event{Kind: EventStartup},
			want: nil, state: Backup, check: downUnchanged(3609375 * time.Microsecond)},

		// §6.2 Backup
		{id: "5798-6.4.2-f backup shutdown", cfg: v3cfg(100), setup: backup, ev: Event{Kind: EventShutdown},
			want: []Action{tr(Backup, Initialize, ReasonShutdown)}, state: Initialize, check: noTimers},
		{id: "5798-6.4.2-h priority 0 sets Skew_Time", cfg: v3cfg(100), setup: backup, ev: adv(peerHi4, 0, time.Second),
			want: nil, state: Backup, check: downAt(609375 * time.Microsecond)},
		{id: "5798-6.4.2-h priority 0 skew uses learnt interval", cfg: v3cfg(100),
			setup: func(h *harness) { h.toBackup(); h.do(adv(peerHi4, 200, 100*ms)) },
			ev:    adv(peerHi4, 0, 100*ms), want: nil, state: Backup, check: downAt(60937500)},
		{id: "5798-6.4.2-i higher priority restarts Master_Down_Timer", cfg: v3cfg(100), setup: backup,
			ev: adv(peerHi4, 200, time.Second), want: nil, state: Backup,
			check: all(downAt(3609375*time.Microsecond), masterAddr(peerHi4))},
		{id: "5798-6.4.2-i equal priority accepted", cfg: v3cfg(100), setup: backup,
			ev: adv(peerLo4, 100, time.Second), want: nil, state: Backup, check: downAt(3609375 * time.Microsecond)},
		{id: "5798-6.4.2-i preempt off accepts lower priority", cfg: noPreempt, setup: backup,
			ev: adv(peerHi4, 50, time.Second), want: nil, state: Backup,
			check: all(downAt(3609375*time.Microsecond), masterAddr(peerHi4))},
		{id: "9568-6.4.2-a v3 adopts Master_Adver_Interval and recomputes Skew_Time", cfg: v3cfg(100), setup: backup,
			ev: adv(peerHi4, 200, 100*ms), want: nil, state: Backup,
			check: all(downAt(360937500), func(t *testing.T, h *harness) {
				st := h.r.Status()
				if st.MasterAdverInterval != 100*ms || st.SkewTime != 60937500 || st.MasterDownInterval != 360937500 {
					t.Errorf("status %v %v %v", st.MasterAdverInterval, st.SkewTime, st.MasterDownInterval)
				}
			})},
		{id: "3768-6.4.2-a v2 keeps its own interval", cfg: v2cfg(100), setup: backup,
			ev: adv(peerHi4, 200, 3*time.Second), want: nil, state: Backup, check: downAt(3609375 * time.Microsecond)},
		{id: "5798-6.4.2-j preempt discards lower priority, timer keeps running", cfg: v3cfg(100), setup: backup,
			ev: adv(peerHi4, 50, time.Second), want: nil, state: Backup,
			check: downUnchanged(3609375 * time.Microsecond)},
		{id: "5798-6.1-f owner in Backup always preempts", cfg: ownerNoPreempt,
			setup: func(h *harness) {
				h.toMaster()
				h.do(adv(peerHi4, 255, time.Second)) // a second owner wins the tie-break
				h.wantState(Backup)
			},
			ev: adv(peerLo4, 254, time.Second), want: nil, state: Backup,
			check: downUnchanged(3*time.Second + SkewTime(3, 255, time.Second))},

		// §6.3 Master
		{id: "5798-6.4.2-g Master_Down_Timer expiry", cfg: v3cfg(100), setup: backup, ev: Event{}, // ev replaced below
			want:  []Action{tr(Backup, Master, ReasonMasterNoResponse), send(100), add, announce},
			state: Master, check: reason(MasterNoResponse, 1)},
		{id: "5798-6.4.3-g master shutdown sends priority 0", cfg: v3cfg(100), setup: master, ev: Event{Kind: EventShutdown},
			want:  []Action{tr(Master, Initialize, ReasonShutdown), send(0), remove},
			state: Initialize, check: all(noTimers, func(t *testing.T, h *harness) {
				if n := h.r.Status().Counters.SentPriZeroPackets; n != 1 {
					t.Errorf("SentPriZeroPackets %d", n)
				}
			})},
		{id: "5798-6.4.3-g IPv6 master shutdown leaves groups", cfg: v6cfg(100), setup: master, ev: Event{Kind: EventShutdown},
			want: []Action{tr(Master, Initialize, ReasonShutdown), send(0), remove, leave}, state: Initialize, check: noTimers},
		{id: "5798-6.4.3-i priority 0 in Master: advert and reset Adver_Timer", cfg: v3cfg(100), setup: master,
			ev: adv(peerHi4, 0, time.Second), want: []Action{send(100), announce, sb(peerHi4, 0)}, state: Master, check: adverAt(time.Second)},
		{id: "5798-6.4.3-j higher priority: to Backup with learnt interval", cfg: v3cfg(100), setup: master,
			ev:    adv(peerLo4, 101, 200*ms),
			want:  []Action{tr(Master, Backup, ReasonHigherPriority), send(100), remove},
			state: Backup, check: all(downAt(600*ms+121875*time.Microsecond), masterAddr(peerLo4))},
		{id: "5798-6.4.3-j IPv6 higher priority leaves groups", cfg: v6cfg(100), setup: master,
			ev:   adv(netip.MustParseAddr("fe80::2"), 200, time.Second),
			want: []Action{tr(Master, Backup, ReasonHigherPriority), send(100), remove, leave}, state: Backup,
			check: downAt(3609375 * time.Microsecond)},
		{id: "5798-6.4.3-j equal priority, higher address wins", cfg: v3cfg(100), setup: master,
			ev: adv(peerHi4, 100, time.Second), want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove}, state: Backup},
		{id: "9568-6.4.3-a unsigned compare: 200.0.0.1 > 10.0.0.1", cfg: lo4, setup: master,
			ev: adv(netip.MustParseAddr("200.0.0.1"), 100, time.Second), want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove}, state: Backup},
		{id: "9568-6.4.3-a unsigned compare: 10.0.0.1 < 200.0.0.1", cfg: hi4, setup: master,
			ev: adv(netip.MustParseAddr("10.0.0.1"), 100, time.Second), want: []Action{send(100), announce, sb(netip.MustParseAddr("10.0.0.1"), 100)}, state: Master},
		{id: "9568-6.4.3-a unsigned compare: 128.0.0.0 > 127.255.255.255", cfg: with(v3cfg(100), func(c *Config) { c.Primary = netip.MustParseAddr("127.255.255.255") }),
			setup: master, ev: adv(netip.MustParseAddr("128.0.0.0"), 100, time.Second),
			want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove}, state: Backup},
		{id: "9568-6.4.3-a IPv6 16-byte compare fe80::1:0 > fe80::ff", cfg: v6lowPrimary, setup: master,
			ev: adv(netip.MustParseAddr("fe80::1:0"), 100, time.Second), want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove, leave}, state: Backup},
		{id: "9568-6.4.3-a IPv6 unsigned compare: fe80::909c:6ff:fe12:3456 > fe80::ff", cfg: v6lowPrimary, setup: master,
			ev: adv(highIID, 100, time.Second), want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove, leave}, state: Backup},
		{id: "9568-6.4.3-a IPv6 unsigned compare: fe80::ff < fe80::909c:6ff:fe12:3456", cfg: v6highPrimary, setup: master,
			ev: adv(netip.MustParseAddr("fe80::ff"), 100, time.Second), want: []Action{send(100), announce, sb(netip.MustParseAddr("fe80::ff"), 100)}, state: Master},
		{id: "9568-6.4.3-a IPv6 unsigned compare: fe80::8000:0:0:0 > fe80::7fff:ffff:ffff:ffff", cfg: with(v6cfg(100), func(c *Config) { c.Primary = netip.MustParseAddr("fe80::7fff:ffff:ffff:ffff") }),
			setup: master, ev: adv(netip.MustParseAddr("fe80::8000:0:0:0"), 100, time.Second),
			want: []Action{tr(Master, Backup, ReasonAddressTieBreak), send(100), remove, leave}, state: Backup},
		{id: "9568-6.4.3-a IPv6 zone plays no part", cfg: v6lowPrimary, setup: master,
			ev: adv(netip.MustParseAddr("fe80::1%eth0"), 100, time.Second), want: []Action{send(100), announce, sb(netip.MustParseAddr("fe80::1%eth0"), 100)}, state: Master},
		{id: "5798-6.4.3-k 9568-6.4.3-b lower priority: discard and assert", cfg: v3cfg(100), setup: master,
			ev: adv(peerHi4, 99, time.Second), want: []Action{send(100), announce, sb(peerHi4, 99)}, state: Master,
			check: func(t *testing.T, h *harness) {
				if at := h.deadline(AdverTimer); at != time.Second+3609375*time.Microsecond {
					t.Errorf("assertive advert moved Adver_Timer to %v", at)
				}
			}},
		{id: "5798-6.4.3-k 9568-6.4.3-b equal priority, lower address", cfg: v3cfg(100), setup: master,
			ev: adv(peerLo4, 100, time.Second), want: []Action{send(100), announce, sb(peerLo4, 100)}, state: Master},
		{id: "IMPL-7 immediate reply off: no advert, still announce and report", cfg: noReply, setup: master,
			ev: adv(peerHi4, 99, time.Second), want: []Action{announce, sb(peerHi4, 99)}, state: Master},
		{id: "3768-6.4.3-a v2 master sends no advert to a lower priority, still announces and reports", cfg: v2cfg(100), setup: master,
			ev: adv(peerHi4, 99, time.Second), want: []Action{announce, sb(peerHi4, 99)}, state: Master},
		{id: "3768-6.4.3-a v2 master yields to higher priority", cfg: v2cfg(100), setup: master,
			ev: adv(peerHi4, 101, time.Second), want: []Action{tr(Master, Backup, ReasonHigherPriority), send(100), remove}, state: Backup,
			check: downAt(3609375 * time.Microsecond)},
		{id: "IMPL-6 own advert (equal priority and address) ignored", cfg: v3cfg(100), setup: master,
			ev: adv(primary4, 100, time.Second), want: nil, state: Master,
			check: func(t *testing.T, h *harness) {
				if n := h.r.Status().Counters.OwnAdvertsIgnored; n != 1 {
					t.Errorf("OwnAdvertsIgnored %d", n)
				}
			}},
	} {
		t.Run(c.id, func(t *testing.T) {
			h := newHarness(t, c.cfg)
			c.setup(h)
			h.c.t = now
			var got []Action
			if c.ev.Kind == 0 { // the timer case: expire at exactly now
				_, tok, ok := h.r.Deadline(MasterDownTimer)
				if !ok {
					t.Fatal("no Master_Down_Timer")
				}
				got = h.do(Expired(MasterDownTimer, tok))
			} else {
				got = h.do(c.ev)
			}
			wantActions(t, "["+c.id+"]", got, c.want)
			h.wantState(c.state)
			if c.check != nil {
				c.check(t, h)
			}
		})
	}
}
