package daemon

import (
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
)

// A router counts every transition by states and reason (the status keeps
// only the latest 32), and its counters are exactly the API's keys, so the
// metrics collector, which reads the same keys, exports none as 0 by a
// spelling of its own.
func TestDetailCountsTransitionsByReason(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	b := lab.add(routerCfg("b", 1, 100, iv))
	lab.run(time.Second, nil) // alone: Backup at startup [5798-6.4.1-b], then Master on Master_Down_Timer [5798-6.4.2-g]
	d := b.detail()
	want := []api.TransitionCount{
		{From: "Initialize", To: "Backup", Reason: "startup", Count: 1},
		{From: "Backup", To: "Master", Reason: "master-no-response", Count: 1},
	}
	if !slices.Equal(d.TransitionCounts, want) {
		t.Fatalf("transition counts %+v, want %+v", d.TransitionCounts, want)
	}
	var keys []string
	for k := range d.Counters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if w := slices.Sorted(slices.Values(api.RouterCounters)); !slices.Equal(keys, w) {
		t.Fatalf("counters %v, want the API's %v", keys, w)
	}
}

// Counting a transition of a kind seen before allocates nothing on the
// loop.
func TestTransitionCountAllocs(t *testing.T) {
	lab := newStepLab(t)
	b := lab.add(routerCfg("b", 1, 100, 10*time.Millisecond))
	a := fsm.Action{Kind: fsm.Transition, From: fsm.Backup, To: fsm.Master, Reason: fsm.ReasonPriorityZero}
	if allocs := testing.AllocsPerRun(100, func() {
		b.transitioned(a)
		lab.effects, lab.order = lab.effects[:0], lab.order[:0] // the fake's record, not the loop's cost
	}); allocs != 0 {
		t.Errorf("%v allocations per transition", allocs)
	}
	want := api.TransitionCount{From: "Backup", To: "Master", Reason: "priority-zero-advert", Count: 101}
	if got := b.detail().TransitionCounts; !slices.Contains(got, want) {
		t.Errorf("counts %+v, want %+v among them", got, want)
	}
}
