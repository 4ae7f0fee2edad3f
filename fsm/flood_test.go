package fsm

import (
	"testing"
	"time"
)

// A flood of adverts that provoke answers (lower priority [9568-6.4.3-b],
// priority 0 [5798-6.4.3-i]) raises the Master's send rate by at most one
// advert per two Advertisement_Intervals, and one announcement burst per
// two intervals and per second: with one VIP, at most twice its packets.
func TestProvokedRepliesBounded(t *testing.T) {
	for _, tc := range []struct {
		id   string
		prio uint8
	}{
		{"9568-6.4.3-b lower-priority flood", 50},
		{"5798-6.4.3-i priority-0 flood", 0},
	} {
		t.Run(tc.id, func(t *testing.T) {
			h := newHarness(t, v3cfg(100))
			h.toMaster()
			start := h.c.t
			sent := h.r.Status().Counters.SentAdvertisements
			announces := 0
			// 10 s of a 10 kpps flood, with the Adver_Timer firings
			// interleaved in time order.
			const step = 100 * time.Microsecond
			for h.c.t < start+10*time.Second {
				h.advance(step)
				if at := h.deadline(AdverTimer); at <= h.c.t {
					h.fire(AdverTimer)
				}
				for _, a := range h.do(Advert(peerHi4, tc.prio, time.Second)) {
					if a.Kind == Announce {
						announces++
					}
				}
			}
			got := h.r.Status().Counters.SentAdvertisements - sent
			// 10 regular adverts, and at most one answer per 2 s.
			if got > 15 || got < 10 {
				t.Fatalf("sent %d adverts in 10 s at 1 s intervals under a flood, want 10..15", got)
			}
			if got+uint64(announces) > 20 {
				t.Fatalf("%d adverts and %d announcement bursts in 10 s at 1 s: more than twice the normal rate", got, announces)
			}
			if n := h.r.Status().Counters.RepliesSuppressed; n < 99000 {
				t.Fatalf("RepliesSuppressed %d, want nearly every flood packet", n)
			}
			h.wantState(Master)
		})
	}
}

// The first answer is never delayed, and answers resume one interval later.
func TestProvokedReplyFirstImmediate(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toMaster()
	wantActions(t, "[5798-6.4.3-i] first", h.do(Advert(peerHi4, 0, time.Second)), []Action{send(100), announce})
	h.advance(1500 * time.Millisecond)
	wantActions(t, "[9568-6.4.3-b] within two intervals", h.do(Advert(peerHi4, 50, time.Second)), nil)
	at := h.deadline(AdverTimer)
	h.advance(500 * time.Millisecond)
	wantActions(t, "[9568-6.4.3-b] two intervals later", h.do(Advert(peerHi4, 50, time.Second)), []Action{send(100), announce})
	if got := h.deadline(AdverTimer); got != at {
		t.Fatalf("the assertive advert moved Adver_Timer from %v to %v", at, got)
	}
}

// An advert read late from a batch resets Master_Down_Timer from when it
// arrived [5798-6.4.2-i], not from when it was handled.
func TestAdvertAtArrival(t *testing.T) {
	h := newHarness(t, v3cfg(100))
	h.toBackup()
	h.advance(2 * time.Second)
	arrived := h.c.t
	h.advance(40 * time.Millisecond) // read 40 ms late
	h.do(AdvertAt(peerHi4, 200, time.Second, arrived))
	if got, want := h.deadline(MasterDownTimer), arrived+MasterDownInterval(3, 100, time.Second); got != want {
		t.Fatalf("Master_Down_Timer at %v, want %v (from the arrival)", got, want)
	}
	// A time after the clock's now is not trusted.
	h.do(AdvertAt(peerHi4, 200, time.Second, h.c.t+time.Hour))
	if got, want := h.deadline(MasterDownTimer), h.c.t+MasterDownInterval(3, 100, time.Second); got != want {
		t.Fatalf("Master_Down_Timer at %v, want %v (from now)", got, want)
	}
}
