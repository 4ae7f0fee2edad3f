package bfdrun

import (
	"time"

	"govrrp/bfd/session"
	"govrrp/internal/deadline"
)

// All of the loop's timer logic is in this file. Each session keeps its
// own deadlines (bfd/session/timers.go); the loop keeps one heap of its
// sessions ordered by the earliest (internal/deadline, as the VRRP loops),
// and the Poller's timerfd armed for the first. A firing is handed to the
// session with its deadline as the event time, so a loop woken late moves
// no timer later.

// rearm puts s in the heap at its next deadline, or takes it out.
func (r *Runner) rearm(s *sess) {
	if at, ok := s.fsm.NextDeadline(); ok {
		r.timers.Set(s, at)
		return
	}
	r.timers.Remove(s)
}

// expire fires every deadline due by t, in order.
func (r *Runner) expire(t time.Duration) {
	// Each firing moves the session's deadlines forward; the bound is
	// only a guard.
	for n := 0; n < 4*r.timers.Len()+16; n++ {
		s, ok := r.timers.First()
		if !ok || s.wake.At() > t {
			return
		}
		r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventTimer, At: s.wake.At()}))
		r.settle(s)
	}
}

// DeadlineSlot places s in the loop's heap.
func (s *sess) DeadlineSlot() *deadline.Slot { return &s.wake }
