package deadline

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type item struct {
	name int
	slot Slot
}

func (i *item) DeadlineSlot() *Slot { return &i.slot }

// Random sets, moves and removals: First is always the earliest of what is
// in, Scheduled says who is, Timeout follows First.
func TestHeapRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Heap[*item]
	items := make([]*item, 50)
	for i := range items {
		items[i] = &item{name: i}
	}
	in := map[*item]time.Duration{}
	for range 5000 {
		it := items[r.IntN(len(items))]
		if r.IntN(4) == 0 {
			h.Remove(it)
			delete(in, it)
		} else {
			at := time.Duration(r.IntN(1000))
			h.Set(it, at)
			in[it] = at
		}
		if h.Len() != len(in) {
			t.Fatalf("len %d, want %d", h.Len(), len(in))
		}
		for _, x := range items {
			_, want := in[x]
			if x.slot.Scheduled() != want {
				t.Fatalf("item %d scheduled %v", x.name, x.slot.Scheduled())
			}
		}
		first, ok := h.First()
		if !ok {
			if len(in) != 0 || h.Timeout(0) >= 0 {
				t.Fatal("empty heap with items, or a timeout")
			}
			continue
		}
		ats := make([]time.Duration, 0, len(in))
		for _, at := range in {
			ats = append(ats, at)
		}
		if min := slices.Min(ats); first.slot.At() != min || h.Timeout(min-5) != 5 || h.Timeout(min+5) != 0 {
			t.Fatalf("first at %v, want %v", first.slot.At(), min)
		}
	}
}

func TestHeapAllocs(t *testing.T) {
	var h Heap[*item]
	items := []*item{{name: 1}, {name: 2}, {name: 3}}
	for _, it := range items {
		h.Set(it, 0)
	}
	at := time.Duration(0)
	if n := testing.AllocsPerRun(100, func() {
		at++
		it, _ := h.First()
		h.Set(it, at+3)
	}); n != 0 {
		t.Fatalf("%v allocations per move", n)
	}
}

func TestOrder(t *testing.T) {
	var o Order
	for _, c := range [][2]time.Duration{{5, 5}, {3, 5}, {7, 7}, {7, 7}, {6, 7}} {
		if got := o.At(c[0]); got != c[1] || o.Last() != c[1] {
			t.Fatalf("At(%v) = %v, want %v", c[0], got, c[1])
		}
	}
}
