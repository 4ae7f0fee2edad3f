package fsm

import (
	"net/netip"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Any sequence of events, including nonsense the daemon should never send
// (garbage tokens, unknown kinds, zero intervals), keeps the state machine
// consistent and never panics.
func TestInvariantsUnderRandomEvents(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := v3cfg(rapid.SampledFrom([]uint8{1, 100, 254, 255}).Draw(t, "prio"))
		if rapid.Bool().Draw(t, "v2") {
			cfg.Version = 2
		}
		cfg.Preempt = rapid.Bool().Draw(t, "preempt")
		cfg.PreemptDelay = time.Duration(rapid.IntRange(0, 3).Draw(t, "delay")) * time.Second
		c := &fakeClock{}
		r, err := New(cfg, c)
		if err != nil {
			t.Fatal(err)
		}
		addrs := []netip.Addr{peerLo4, primary4, peerHi4, netip.MustParseAddr("255.255.255.255")}
		for range rapid.IntRange(1, 60).Draw(t, "n") {
			c.t += time.Duration(rapid.IntRange(0, 2000).Draw(t, "dt")) * time.Millisecond
			var ev Event
			reconf := false
			switch k := rapid.IntRange(0, 12).Draw(t, "kind"); k {
			case 0:
				ev = Advert(rapid.SampledFrom(addrs).Draw(t, "src"), rapid.Uint8().Draw(t, "p"),
					time.Duration(rapid.IntRange(0, 4095).Draw(t, "cs"))*10*time.Millisecond)
			case 1, 2: // a live timer, if any
				tm, _, tok, ok := r.NextDeadline()
				if !ok {
					continue
				}
				if at, _, _ := r.Deadline(tm); at > c.t {
					c.t = at
				}
				ev = Expired(tm, tok)
			case 3:
				ev = Expired(Timer(rapid.IntRange(0, 5).Draw(t, "timer")), rapid.Uint64Range(0, 50).Draw(t, "tok"))
			case 4:
				ev = SetPriority(rapid.Uint8().Draw(t, "newprio"))
			case 5: // a reload within what Reconfigure applies in place
				reconf = true
			case 6:
				ev = SetPrimary(rapid.SampledFrom(append(addrs, primary6, netip.Addr{})).Draw(t, "primary"))
			default:
				ev = Event{Kind: EventKind(rapid.IntRange(0, 18).Draw(t, "ev"))}
			}
			before := r.State()
			disabled := r.Disabled()
			var acts []Action
			if reconf {
				n := r.Config()
				if !n.Owner() {
					n.Priority = rapid.Uint8Range(1, 254).Draw(t, "cfgprio")
				}
				if n.Version == 3 {
					n.AdvertInterval = time.Duration(rapid.IntRange(1, 300).Draw(t, "cfgcs")) * 10 * time.Millisecond
				} else {
					n.AdvertInterval = time.Duration(rapid.IntRange(1, 3).Draw(t, "cfgs")) * time.Second
				}
				n.Preempt = rapid.Bool().Draw(t, "cfgpreempt")
				n.PreemptDelay = time.Duration(rapid.IntRange(0, 3).Draw(t, "cfgdelay")) * time.Second
				n.Addresses = rapid.SliceOfN(rapid.SampledFrom([]netip.Addr{vip4, peerHi4, peerLo4}), 1, 3).Draw(t, "cfgaddrs")
				n.Primary = rapid.SampledFrom(addrs).Draw(t, "cfgprimary")
				var err error
				if acts, err = r.Reconfigure(n); err != nil {
					t.Fatalf("Reconfigure: %v", err)
				}
				for _, a := range acts {
					if a.Kind == Transition || a.Kind == SendAdvert || before != Master || !a.Addr.IsValid() {
						t.Fatalf("Reconfigure in %v acted: %v", before, acts)
					}
				}
			} else {
				acts = r.Handle(ev)
			}
			st := r.State()
			cur := before
			for _, a := range acts {
				if a.Kind == Transition {
					if a.From != cur || a.From == a.To {
						t.Fatalf("transition %v from %v", a, cur)
					}
					cur = a.To
				}
				// A Master resigns with priority 0 on shutdown, on a fault
				// and when its sync group goes Fault or Backup.
				if a.Kind == SendAdvert && a.Priority == 0 && ev.Kind != EventShutdown && ev.Kind != EventFault &&
					ev.Kind != EventGroupFault && ev.Kind != EventGroupBackup && ev.Kind != EventDisable {
					t.Fatalf("priority 0 sent on %+v", ev)
				}
				// A disabled router sends nothing and holds nothing until
				// enabled (a reload may still narrow its stored addresses).
				if disabled && !reconf && ev.Kind != EventEnable {
					t.Fatalf("disabled, acted on %+v: %v", ev, acts)
				}
			}
			if cur != st {
				t.Fatalf("transitions end in %v, state %v", cur, st)
			}
			_, _, adv := r.Deadline(AdverTimer)
			_, _, down := r.Deadline(MasterDownTimer)
			switch st {
			case Master:
				if !adv || down {
					t.Fatalf("[5798-6.2-a] Master timers adver=%v down=%v", adv, down)
				}
			case Backup:
				if adv || !down {
					t.Fatalf("[5798-6.2-a] Backup timers adver=%v down=%v", adv, down)
				}
			default:
				if _, _, _, any := r.NextDeadline(); any {
					t.Fatalf("timer running in %v", st)
				}
			}
			s := r.Status()
			if cfg.Priority == 255 && s.Priority != 255 || s.Priority == 0 {
				t.Fatalf("priority %d", s.Priority)
			}
			if s.MasterDownInterval <= 3*s.MasterAdverInterval || s.SkewTime <= 0 {
				t.Fatalf("timers %+v", s)
			}
		}
	})
}
