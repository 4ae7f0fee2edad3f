// Package deadline is the one min-heap of an event loop's deadlines (the
// VRRP loops of internal/daemon, the BFD loop of internal/bfdrun): items
// ordered by the instant they must be woken, each knowing its place, so
// that moving or removing one is a single O(log n) fix and the loop sleeps
// until First.
package deadline

import (
	"container/heap"
	"time"
)

// Slot is what an item keeps for the heap: embed one and return it from
// DeadlineSlot. The zero Slot is in no heap.
type Slot struct {
	at  time.Duration
	pos int // 1 + index in the heap; 0: not in one
}

// At is when the item is due (meaningful while Scheduled).
func (s *Slot) At() time.Duration { return s.at }

// Scheduled reports whether the item is in a heap.
func (s *Slot) Scheduled() bool { return s.pos > 0 }

// Item is a heap element: a pointer to something holding a Slot.
type Item interface {
	comparable
	DeadlineSlot() *Slot
}

// Heap orders items by their instant. The zero Heap is empty and ready.
// Not safe for concurrent use: it belongs to one loop.
type Heap[T Item] struct{ q queue[T] }

// Set puts x in the heap due at at, or moves it there.
func (h *Heap[T]) Set(x T, at time.Duration) {
	s := x.DeadlineSlot()
	s.at = at
	if s.pos > 0 {
		heap.Fix(&h.q, s.pos-1)
		return
	}
	heap.Push(&h.q, x)
}

// Remove takes x out of the heap, if it is in it.
func (h *Heap[T]) Remove(x T) {
	if s := x.DeadlineSlot(); s.pos > 0 {
		heap.Remove(&h.q, s.pos-1)
	}
}

// First returns the earliest item, or false when the heap is empty.
func (h *Heap[T]) First() (x T, ok bool) {
	if len(h.q) == 0 {
		return x, false
	}
	return h.q[0], true
}

// Len is the number of items.
func (h *Heap[T]) Len() int { return len(h.q) }

// Timeout is how long a loop may sleep at now: until the first item is due
// (0 when it is already), or for ever (negative) when the heap is empty.
func (h *Heap[T]) Timeout(now time.Duration) time.Duration {
	if len(h.q) == 0 {
		return -1
	}
	return max(h.q[0].DeadlineSlot().at-now, 0)
}

// queue is the container/heap adapter.
type queue[T Item] []T

func (q queue[T]) Len() int           { return len(q) }
func (q queue[T]) Less(i, j int) bool { return q[i].DeadlineSlot().at < q[j].DeadlineSlot().at }
func (q queue[T]) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].DeadlineSlot().pos, q[j].DeadlineSlot().pos = i+1, j+1
}

func (q *queue[T]) Push(x any) {
	it := x.(T)
	it.DeadlineSlot().pos = len(*q) + 1
	*q = append(*q, it)
}

func (q *queue[T]) Pop() any {
	old := *q
	it := old[len(old)-1]
	var zero T
	old[len(old)-1] = zero
	*q = old[:len(old)-1]
	it.DeadlineSlot().pos = 0
	return it
}

// Order keeps an event loop's event times from going back: a packet the
// kernel stamped before the last event handled is taken as simultaneous
// with it. The zero Order starts at 0.
type Order struct{ last time.Duration }

// At returns the time to hand an event that happened at t.
func (o *Order) At(t time.Duration) time.Duration {
	if t < o.last {
		return o.last
	}
	o.last = t
	return t
}

// Last is the latest event time handed out.
func (o *Order) Last() time.Duration { return o.last }
