package daemon

import (
	"cmp"
	"container/heap"
	"slices"
	"time"

	"govrrp/fsm"
)

// All of a loop's timer logic is in this file. The state machines keep
// their own timers as deadlines (fsm/timers.go); a loop keeps one heap of
// its routers ordered by when each must next be woken, and one kernel timer
// (the poller's timerfd) armed for the earliest.
//
// Rules:
//   - A loop wakes at the earliest deadline exactly: Master_Down_Timer and
//     the preempt delay never fire early, and nothing fires late.
//   - Once awake for a deadline, the loop also fires every Adver_Timer due
//     within adverSlack of that deadline, so that the adverts of routers
//     falling due together leave in one sendmmsg. Adver_Timer thus fires at
//     most 1% of its interval early, never late, and the state machine
//     counts the next interval from its own deadline, not from the early
//     firing, so the rate stays exact.
//   - A firing is handed to the state machine with the deadline that woke
//     the loop as its time (fsm.Event.At): a loop woken late (a busy CPU, a
//     long batch) does not push the Master's next advert or a new Master's
//     first Adver_Timer later, and what fires together does not depend on
//     how late the loop woke, only on the deadlines.

// adverSlack is how early Adver_Timer may fire: 1% of the interval.
func adverSlack(interval time.Duration) time.Duration { return interval / 100 }

// rearm puts r in the loop's heap at its state machine's next deadline, or
// takes it out when no timer runs. Called after every event the router
// handles.
func (l *loop) rearm(r *vr) {
	t, at, token, ok := r.fsm.NextDeadline()
	if !ok {
		if r.hidx >= 0 {
			heap.Remove(&l.timers, r.hidx)
		}
		return
	}
	r.pendTimer, r.pendToken, r.pendAt = t, token, at
	if r.hidx >= 0 {
		heap.Fix(&l.timers, r.hidx)
		return
	}
	heap.Push(&l.timers, r)
}

// unschedule takes r out of the heap (it is leaving the loop).
func (l *loop) unschedule(r *vr) {
	if r.hidx >= 0 {
		heap.Remove(&l.timers, r.hidx)
	}
}

// expire fires, in deadline order, every timer due by t, each followed by
// the Adver_Timers it may take along: before each received advert with t
// its arrival time, so timers and adverts reach the state machines in the
// order they happened, and with t now once the socket is drained.
func (l *loop) expire(t time.Duration) {
	// Each firing moves the router's deadline forward (a consumed token
	// never comes back), so this ends; the bound is only a guard.
	for n := 0; len(l.timers) > 0 && l.timers[0].pendAt <= t && n < 4*len(l.timers)+16; n++ {
		r := l.timers[0]
		anchor := r.pendAt
		l.fire(r, anchor)
		l.coalesce(anchor)
	}
}

// fire hands r's pending timer to its state machine, at time at.
func (l *loop) fire(r *vr, at time.Duration) {
	r.handle(fsm.Event{Kind: fsm.EventTimer, Timer: r.pendTimer, Token: r.pendToken, At: at})
	l.rearm(r)
}

// coalesce fires the Adver_Timers due within their slack of anchor, in
// deadline order. The heap is walked from the root, skipping every subtree
// whose root is later than anchor plus the largest slack on the loop.
func (l *loop) coalesce(anchor time.Duration) {
	limit := anchor + l.maxSlack
	c := l.early[:0]
	stack := append(l.stack[:0], 0)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i >= len(l.timers) || l.timers[i].pendAt > limit {
			continue
		}
		r := l.timers[i]
		if r.pendTimer == fsm.AdverTimer && r.pendAt-adverSlack(r.cfg.AdvertInterval) <= anchor {
			c = append(c, r)
		}
		stack = append(stack, 2*i+1, 2*i+2)
	}
	l.stack = stack
	slices.SortFunc(c, func(a, b *vr) int { return cmp.Compare(a.pendAt, b.pendAt) })
	for _, r := range c {
		l.fire(r, anchor)
	}
	clear(c)
	l.early = c[:0]
}

// timeout is how long the loop may sleep: until the earliest deadline, or
// for ever (negative) when no timer runs.
func (l *loop) timeout(now time.Duration) time.Duration {
	if len(l.timers) == 0 {
		return -1
	}
	return max(l.timers[0].pendAt-now, 0)
}

// timerHeap orders a loop's routers by deadline; each router knows its
// index, so a reset is one heap.Fix.
type timerHeap []*vr

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].pendAt < h[j].pendAt }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}

func (h *timerHeap) Push(x any) {
	r := x.(*vr)
	r.hidx = len(*h)
	*h = append(*h, r)
}

func (h *timerHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	r.hidx = -1
	return r
}
