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
		r.cause = s.wake.At()
		r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventTimer, At: r.cause}))
		r.settle(s)
	}
}

// minStall is the least oversleep worth telling the sessions about: less
// is the scheduler's ordinary latency, and each session moves its
// detection timer only for a stall of at least its peer's interval
// (bfd/session/timers.go).
const minStall = time.Millisecond

// slept notes when the loop means to wake next: its first deadline, or
// now when that is past (a step that left packets unread runs again at
// once: a busy loop is no stalled one).
func (r *Runner) slept(now time.Duration) {
	s, ok := r.timers.First()
	r.dueOK = ok
	if ok {
		r.due = max(s.wake.At(), now)
	}
}

// woke tells every session that the loop overslept its first deadline, up
// to now, by a stall of the host (the loop was not run): time the loop
// could not observe is not the peer's silence. Before any packet is read
// or timer fired, so a detection time that ran out during the stall is
// moved first. From then on the loop is running: a later call in the same
// step measures a stall within it.
func (r *Runner) woke(now time.Duration) {
	defer func() { r.due, r.dueOK = now, true }()
	if !r.dueOK || now-r.due < minStall {
		return
	}
	d, at, moved := now-r.due, r.eventTime(now), 0
	for _, s := range r.sessions {
		n := s.fsm.Status().Stalls
		r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventStall, At: at, Stall: d}))
		if s.fsm.Status().Stalls != n {
			moved++
			r.rearm(s)
		}
	}
	if moved > 0 && r.opts.Stalled != nil {
		r.opts.Stalled(Stall{At: r.wall(at), Length: d, Sessions: moved})
	}
}

// DeadlineSlot places s in the loop's heap.
func (s *sess) DeadlineSlot() *deadline.Slot { return &s.wake }
