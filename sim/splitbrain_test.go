package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"govrrp/vrrp"
)

// After a partition heals, hosts follow the surviving Master within one of
// its advert intervals, whichever side's advert crosses first: the loser
// hears the winner and steps down with one last advert, which makes the
// winner announce again [9568-6.4.3-b] (a deliberate addition,
// docs/CONFORMANCE.md); or the winner hears the loser first and announces.
// The winner reports one split-brain episode; a third router is not
// disturbed. The heal is tried at ten phases of the advert interval.
func TestSplitBrainHealAnnounces(t *testing.T) {
	const iv = 100 * ms
	for _, version := range []uint8{3, 2} {
		ivv := iv
		if version == 2 {
			ivv = time.Second
		}
		for phase := range 10 {
			for _, third := range []bool{false, true} {
				t.Run(fmt.Sprintf("v%d/phase%d/third=%v", version, phase, third), func(t *testing.T) {
					l := New(1)
					l.SetDelay(ms)
					prios := []uint8{200, 100}
					if third {
						prios = append(prios, 150)
					}
					for i, p := range prios {
						l.MustAdd(cfg(version, vrrp.IPv4, ip4(i), p, ivv))
						l.Start(i)
					}
					l.RunFor(10 * ivv)
					// The winner keeps the third router; the loser is alone.
					l.Partition([]int{1})
					l.RunFor(10 * ivv)
					if m := l.Masters(); !slices.Equal(m, []int{0, 1}) {
						t.Fatalf("partitioned: masters %v", m)
					}
					l.RunFor(time.Duration(phase) * ivv / 10)
					healed := l.Now()
					transitions := len(l.Transitions)
					l.Heal()
					l.Run(healed + ivv + 2*ms)
					if m := l.Masters(); !slices.Equal(m, []int{0}) {
						t.Fatalf("masters %v one interval after the heal", m)
					}
					if l.Announcer != 0 {
						t.Fatalf("the host follows r%d one interval after the heal, want r0 (the Master)", l.Announcer)
					}
					l.RunFor(20 * ivv)
					if got := len(l.Transitions) - transitions; got != 1 {
						t.Fatalf("%d transitions after the heal, want only the loser's step-down: %v", got, l.Transitions[transitions:])
					}
					if l.Announcer != 0 {
						t.Fatalf("host follows r%d", l.Announcer)
					}
					for i, want := range []uint64{1, 0, 0}[:len(prios)] {
						if n := l.Node(i).Router.Status().Counters.SplitBrains; n != want {
							t.Errorf("r%d counted %d split brains, want %d", i, n, want)
						}
					}
				})
			}
		}
	}
}
