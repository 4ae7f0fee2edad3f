package daemon

import (
	"time"

	"govrrp/fsm"
	"govrrp/internal/deadline"
)

// All of a loop's timer logic is in this file. The state machines keep
// their own timers as deadlines (fsm/timers.go); a loop keeps one heap of
// its routers ordered by when each must next be woken, and one kernel timer
// (the poller's timerfd) armed for the earliest.
//
// Rules:
//   - Master_Down_Timer and the preempt delay fire at their deadline
//     exactly: the loop wakes then, never earlier.
//   - Adver_Timer may fire up to 1% of the interval early (adverSlack),
//     never late. The loop uses that to put the adverts of its Masters on
//     a common grid, the multiples of each interval on the loop's clock:
//     an Adver_Timer due within 1% after a grid point fires on it; one
//     further away fires at the multiple of 1% of the interval just at or
//     after 1% before its deadline, together with every other one due in
//     the same 1% step. The state machine counts the next interval from an
//     early firing (fsm: adverTimerExpired), so each Master's phase moves
//     towards the grid by one step per advert (within 100 adverts it is
//     there) and then stays there. From then on the Masters with the same
//     interval fall due at the same instant: the loop wakes once and sends
//     all their adverts with one sendmmsg, where random phases would cost
//     a wake-up per advert. While a phase moves, that Master advertises at
//     most 1% faster than configured.
//   - A firing is handed to the state machine with the instant the loop
//     chose for it as its time (fsm.Event.At), not when the loop got to
//     it: a loop woken late (a busy CPU, a long batch) pushes no deadline
//     later, and what fires with what depends on the deadlines only.

// adverSlack is how early Adver_Timer may fire: 1% of the interval.
func adverSlack(interval time.Duration) time.Duration { return interval / 100 }

// wakeAt is when the loop fires timer t of a router due at at.
func wakeAt(t fsm.Timer, at, interval time.Duration) time.Duration {
	if t != fsm.AdverTimer || interval <= 0 {
		return at
	}
	slack := adverSlack(interval)
	if slack <= 0 {
		return at
	}
	grid := at - at%interval
	if at-grid <= slack {
		return grid
	}
	// The multiple of slack in [at-slack, at): every deadline of the same
	// step fires at the same instant.
	early := at - slack
	if r := early % slack; r != 0 {
		early += slack - r
	}
	return early
}

// rearm puts r in the loop's heap at the instant its next timer fires, or
// takes it out when no timer runs. Called after every event the router
// handles.
func (l *loop) rearm(r *vr) {
	t, at, token, ok := r.fsm.NextDeadline()
	if !ok {
		l.timers.Remove(r)
		return
	}
	r.pendTimer, r.pendToken = t, token
	l.timers.Set(r, wakeAt(t, at, r.cfg.AdvertInterval))
}

// unschedule takes r out of the heap (it is leaving the loop).
func (l *loop) unschedule(r *vr) { l.timers.Remove(r) }

// expire fires, in order, every timer whose instant has come by t: before
// each received advert with t its arrival time, so timers and adverts
// reach the state machines in the order they happened, and with t now once
// the socket is drained.
func (l *loop) expire(t time.Duration) {
	// Each firing moves the router's deadline forward (a consumed token
	// never comes back), so this ends; the bound is only a guard.
	for n := 0; n < 4*l.timers.Len()+16; n++ {
		r, ok := l.timers.First()
		if !ok || r.wake.At() > t {
			return
		}
		r.handle(fsm.Event{Kind: fsm.EventTimer, Timer: r.pendTimer, Token: r.pendToken, At: r.wake.At()})
		l.rearm(r)
	}
}

// timeout is how long the loop may sleep: until the earliest firing, or
// for ever (negative) when no timer runs.
func (l *loop) timeout(now time.Duration) time.Duration { return l.timers.Timeout(now) }

// DeadlineSlot places r in its loop's heap.
func (r *vr) DeadlineSlot() *deadline.Slot { return &r.wake }
