package sim

import (
	"errors"
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"
)

// The observers see every transition and advert the LAN records, in the
// same order, and every delivered copy with its sender, send time and
// receive-check verdict.
func TestObservers(t *testing.T) {
	l := New(1)
	l.MustAdd(cfg(3, vrrp.IPv4, ip4(0), 200, time.Second))
	l.MustAdd(cfg(3, vrrp.IPv4, ip4(1), 100, time.Second))
	l.MustAdd(cfg(2, vrrp.IPv4, ip4(2), 150, time.Second)) // v2 among v3: every copy fails [5798-7.1-b]
	var trs []Transition
	var ads []Advert
	var dels []Delivery
	l.OnTransition = func(tr Transition) { trs = append(trs, tr) }
	l.OnAdvert = func(a Advert) { ads = append(ads, a) }
	l.OnDelivery = func(d Delivery) {
		if d.To == 1 && d.From == 0 && d.Err == nil && l.Node(1).Router.Status().Counters.RcvdAdvertisements != uint64(countFrom(dels, 0, 1)) {
			t.Errorf("delivery %+v observed after the state machine saw it", d)
		}
		dels = append(dels, d)
	}
	l.SetDelay(5 * ms)
	for i := range 3 {
		l.Start(i)
	}
	l.At(10*time.Second, func() { l.Crash(2) })
	l.Run(20 * time.Second)

	if !slices.Equal(trs, l.Transitions) || !slices.Equal(ads, l.Adverts) {
		t.Fatalf("observers saw\n%v\n%v\nLAN recorded\n%v\n%v", trs, ads, l.Transitions, l.Adverts)
	}
	var ok, bad int
	for _, d := range dels {
		if d.At != d.Sent+5*ms || d.From == d.To || !slices.ContainsFunc(l.Adverts, func(a Advert) bool {
			return a.At == d.Sent && a.Router == d.From && a.Priority == d.Priority
		}) {
			t.Fatalf("delivery %+v matches no advert", d)
		}
		mixed := (d.From == 2) != (d.To == 2)
		switch {
		case mixed && errors.Is(d.Err, vrrp.ErrVersion):
			bad++
		case !mixed && d.Err == nil:
			ok++
		default:
			t.Fatalf("delivery %+v: unexpected verdict", d)
		}
		if d.To == 2 && d.At > 10*time.Second {
			t.Fatalf("delivery %+v to a crashed router", d)
		}
	}
	if ok == 0 || bad == 0 {
		t.Fatalf("%d accepted, %d refused copies", ok, bad)
	}
	if got, want := l.Node(2).Drops["version"], countTo(dels, 2); got != want {
		t.Fatalf("node 2 dropped %d, observers saw %d copies to it", got, want)
	}
	if s := l.Node(0).Router.State(); s != fsm.Master {
		t.Fatalf("r0 %v", s)
	}
}

func countFrom(ds []Delivery, from, to int) int {
	n := 0
	for _, d := range ds {
		if d.From == from && d.To == to && d.Err == nil {
			n++
		}
	}
	return n
}

func countTo(ds []Delivery, to int) int {
	n := 0
	for _, d := range ds {
		if d.To == to {
			n++
		}
	}
	return n
}
