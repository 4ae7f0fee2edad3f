package bfdrun

import (
	"container/heap"
	"time"

	"govrrp/bfd/session"
)

// All of the loop's timer logic is in this file. Each session keeps its
// own deadlines (bfd/session/timers.go); the loop keeps one heap of its
// sessions ordered by the earliest, and the Poller's timerfd armed for the
// first. A firing is handed to the session with its deadline as the event
// time, so a loop woken late moves no timer later.

// rearm puts s in the heap at its next deadline, or takes it out.
func (r *Runner) rearm(s *sess) {
	at, ok := s.fsm.NextDeadline()
	if !ok {
		r.unschedule(s)
		return
	}
	s.wake = at
	if s.hidx >= 0 {
		heap.Fix(&r.timers, s.hidx)
		return
	}
	heap.Push(&r.timers, s)
}

func (r *Runner) unschedule(s *sess) {
	if s.hidx >= 0 {
		heap.Remove(&r.timers, s.hidx)
	}
}

// expire fires every deadline due by t, in order.
func (r *Runner) expire(t time.Duration) {
	for n := 0; len(r.timers) > 0 && r.timers[0].wake <= t && n < 4*len(r.timers)+16; n++ {
		s := r.timers[0]
		r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventTimer, At: s.wake}))
		r.rearm(s)
	}
}

// timeout is how long the loop may sleep (negative: no timer runs).
func (r *Runner) timeout(now time.Duration) time.Duration {
	if len(r.timers) == 0 {
		return -1
	}
	return max(r.timers[0].wake-now, 0)
}

type timerHeap []*sess

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].wake < h[j].wake }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}

func (h *timerHeap) Push(x any) {
	s := x.(*sess)
	s.hidx = len(*h)
	*h = append(*h, s)
}

func (h *timerHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.hidx = -1
	return s
}
