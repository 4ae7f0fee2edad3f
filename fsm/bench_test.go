package fsm

import (
	"testing"
	"time"
)

// The steady-state advert paths run per advert for hundreds of routers:
// they must not allocate.
func TestSteadyStateZeroAllocs(t *testing.T) {
	b := newHarness(t, v3cfg(100))
	b.toBackup()
	ev := Advert(peerHi4, 200, time.Second)
	if n := testing.AllocsPerRun(1000, func() { b.r.Handle(ev) }); n != 0 {
		t.Errorf("Backup receiving an advert: %v allocs", n)
	}
	m := newHarness(t, v3cfg(100))
	m.toMaster()
	if n := testing.AllocsPerRun(1000, func() {
		_, tok, _ := m.r.Deadline(AdverTimer)
		m.r.Handle(Expired(AdverTimer, tok))
	}); n != 0 {
		t.Errorf("Master on Adver_Timer: %v allocs", n)
	}
	if n := testing.AllocsPerRun(1000, func() { m.r.Handle(Advert(peerHi4, 99, time.Second)) }); n != 0 {
		t.Errorf("Master asserting on a lower priority: %v allocs", n)
	}
}

func BenchmarkBackupAdvert(b *testing.B) {
	c := &fakeClock{}
	r, _ := New(v3cfg(100), c)
	r.Handle(Event{Kind: EventStartup})
	ev := Advert(peerHi4, 200, 10*time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		c.t += 10 * time.Millisecond
		r.Handle(ev)
	}
	if r.State() != Backup {
		b.Fatal("not Backup")
	}
}

func BenchmarkMasterAdverTimer(b *testing.B) {
	c := &fakeClock{}
	r, _ := New(v3cfg(255), c)
	r.Handle(Event{Kind: EventStartup})
	b.ReportAllocs()
	for b.Loop() {
		_, at, tok, _ := r.NextDeadline()
		c.t = at
		if a := r.Handle(Expired(AdverTimer, tok)); len(a) != 1 {
			b.Fatal(a)
		}
	}
}
