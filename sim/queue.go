package sim

import (
	"container/heap"
	"net/netip"
	"time"

	"govrrp/fsm"
)

// Clock is the virtual clock; it implements fsm.Clock and only moves when
// the LAN runs.
type Clock struct{ now time.Duration }

// Now returns the virtual time.
func (c *Clock) Now() time.Duration { return c.now }

type evKind uint8

const (
	evTimer evKind = iota
	evDeliver
	evFunc
	evBFDTimer  // a BFD session end's deadline (bfd.go)
	evBFDPacket // a BFD packet reaching its end
)

type item struct {
	at   time.Duration
	seq  uint64 // ties at one instant run in scheduling order
	kind evKind

	node  int
	epoch int       // evTimer
	timer fsm.Timer // evTimer
	token uint64    // evTimer

	payload []byte        // evDeliver
	src     netip.Addr    // evDeliver
	from    int           // evDeliver: the sender
	sent    time.Duration // evDeliver
	prio    uint8         // evDeliver

	fn func() // evFunc

	bfd  *bfdPair // evBFDTimer, evBFDPacket: the session and its end
	side int
}

// queue is a min-heap of events by (at, seq).
type queue struct {
	items []item
	seq   uint64
}

func (q *queue) Len() int { return len(q.items) }
func (q *queue) Less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}
func (q *queue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *queue) Push(x any)    { q.items = append(q.items, x.(item)) }
func (q *queue) Pop() any {
	n := len(q.items) - 1
	it := q.items[n]
	q.items[n] = item{}
	q.items = q.items[:n]
	return it
}

func (q *queue) push(it item) {
	q.seq++
	it.seq = q.seq
	heap.Push(q, it)
}

func (q *queue) pop() item   { return heap.Pop(q).(item) }
func (q *queue) peek() *item { return &q.items[0] }
