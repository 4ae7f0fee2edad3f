package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// A Master leaves in an order that keeps the network consistent: its
// adverts go out first, then it withdraws its addresses and stops their
// announcement, then the transition is logged and its hooks run (and see
// the addresses gone). Hearing a higher priority [5798-6.4.3-j] it sends
// one last advert at its own priority (docs/CONFORMANCE.md: the winner
// answers it and announces again), none to an owner; shut down
// [5798-6.4.3-g] it sends priority 0, so a Backup takes over in Skew_Time
// [5798-6.4.2-h].
func TestLoopLeavingMasterOrder(t *testing.T) {
	const iv = 10 * time.Millisecond
	rm, tr := fmt.Sprintf("effect %d ", effRemoveAddresses), func(to string) string { return fmt.Sprintf("effect %d %s", effTransition, to) }
	cases := []struct {
		name  string
		leave func(lab *stepLab, r *vr, now time.Duration)
		want  []string
		sent  []uint8 // the priorities of the adverts sent on leaving
	}{
		{name: "higher priority", leave: func(lab *stepLab, r *vr, now time.Duration) {
			lab.sock.deliver(pkt(advert(1, 250, peerA4, iv, vipOf(1)), peerA4, now))
			lab.at(now)
		}, want: []string{"adverts", rm, tr("Backup")}, sent: []uint8{200}},
		{name: "owner", leave: func(lab *stepLab, r *vr, now time.Duration) {
			lab.sock.deliver(pkt(advert(1, 255, peerA4, iv, vipOf(1)), peerA4, now))
			lab.at(now)
		}, want: []string{rm, tr("Backup")}},
		{name: "shutdown", leave: func(lab *stepLab, r *vr, now time.Duration) {
			lab.clk.set(now)
			lab.l.remove(r)
			lab.l.flush()
		}, want: []string{"adverts", rm, tr("Initialize")}, sent: []uint8{0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := newStepLab(t)
			r := lab.add(routerCfg("m", 1, 200, iv))
			lab.run(time.Second, nil)
			if r.fsm.State() != fsm.Master {
				t.Fatalf("state %v", r.fsm.State())
			}
			lab.order, lab.effects = nil, nil
			sent := len(lab.sock.written())
			// Half an interval before the next advert: none is due.
			next, _, ok := r.fsm.Deadline(fsm.AdverTimer)
			if !ok {
				t.Fatal("a Master without Adver_Timer")
			}
			now := next - iv/2
			tc.leave(lab, r, now)
			if !slices.Equal(lab.order, tc.want) {
				t.Fatalf("order %v, want %v", lab.order, tc.want)
			}
			for _, e := range lab.effects {
				if e.kind == effRemoveAddresses && (!slices.Equal(e.prefixes, r.cfg.Addresses) || e.announce != r.announceKey()) {
					t.Fatalf("withdrew %v and stopped announcing %+v, want %v and %+v", e.prefixes, e.announce, r.cfg.Addresses, r.announceKey())
				}
			}
			var prios []uint8
			for _, a := range lab.sock.written()[sent:] {
				prios = append(prios, a.Priority)
			}
			if !slices.Equal(prios, tc.sent) {
				t.Fatalf("sent adverts at priorities %v on leaving, want %v", prios, tc.sent)
			}
		})
	}
}

// failingSocket refuses every advert, as a socket whose interface lost its
// address or whose buffer is full.
type failingSocket struct{ *fakeSocket }

func (failingSocket) Queue(*vrrp.Message, vrrp.ChecksumForm) error { return errSendRefused }

var errSendRefused = errors.New("send refused")

// An advert the socket refuses is counted (send_errors) and logged at most
// once per logPeriod with the count in between, and changes nothing else:
// the Master stays Master and keeps trying on its schedule.
func TestLoopCountsSendErrors(t *testing.T) {
	lab := newStepLab(t)
	r := lab.add(routerCfg("m", 1, 200, 100*time.Millisecond))
	r.send = failingSocket{lab.sock}
	lab.run(25*time.Second, nil)
	st, det := r.fsm.Status(), r.detail()
	if st.State != fsm.Master || st.Counters.SentAdvertisements < 200 {
		t.Fatalf("%v after %d adverts", st.State, st.Counters.SentAdvertisements)
	}
	if det.Counters["send_errors"] != st.Counters.SentAdvertisements {
		t.Fatalf("send_errors %d for %d adverts", det.Counters["send_errors"], st.Counters.SentAdvertisements)
	}
	var logged []uint64
	for _, e := range lab.effects {
		if e.kind == effLog && e.err == errSendRefused {
			logged = append(logged, e.count)
		}
	}
	// 0 s, 10 s, 20 s: three lines over 25 s, counting every failure.
	var sum uint64
	for _, n := range logged {
		sum += n
	}
	if len(logged) != 3 || sum > det.Counters["send_errors"] {
		t.Fatalf("log lines with counts %v for %d failures, want three", logged, det.Counters["send_errors"])
	}
}

// What the loops hand their workers reaches the event stream (the API's
// `events`, `govrrpctl watch`): transitions, a tracked object's change and
// the priority it gives, a split brain, and dropped adverts with their
// check.
func TestDaemonPublishesEvents(t *testing.T) {
	const iv = 10 * time.Millisecond
	c := routerCfg("vr", 1, 200, iv)
	c.Track.Interfaces = []config.TrackItem{{Name: "uplink", Weight: -30}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, ch := d.Subscribe(ctx, 0)
	var mu sync.Mutex
	var got []api.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		}
	}()
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.Stop(); cancel(); <-done }()
	seen := func(match func(api.Event) bool) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(got, match)
	}
	wait := func(what string, match func(api.Event) bool) {
		t.Helper()
		waitUntil(t, 5*time.Second, what, func() bool { return seen(match) })
	}
	wait("transition to Master", func(e api.Event) bool {
		return e.Type == "transition" && e.Router == "vr" && e.From == "Backup" && e.To == "Master" && e.Reason == "master-no-response"
	})
	d.linkChanged(linux.LinkState{Name: "uplink", Exists: true, Index: 3})
	wait("track event", func(e api.Event) bool {
		return e.Type == "track" && e.Router == "vr" && e.Detail == "interface:uplink failed=true"
	})
	wait("priority event", func(e api.Event) bool { return e.Type == "priority" && e.Router == "vr" && e.Priority == 170 })
	sock := fn.sock("eth0")
	// Another Master's adverts, one each time the test looks.
	waitUntil(t, 5*time.Second, "split brain", func() bool {
		sock.deliver(pkt(advert(1, 100, peerA4, iv, vipOf(1)), peerA4, d.clock.Now()))
		return seen(func(e api.Event) bool {
			return e.Type == "split_brain" && e.Router == "vr" && e.Priority == 100 && strings.Contains(e.Detail, peerA4.String())
		})
	})
	bad := pkt(advert(1, 100, peerA4, iv, vipOf(1)), peerA4, d.clock.Now())
	bad.ip.TTL = 1
	sock.deliver(bad)
	wait("discards", func(e api.Event) bool { return e.Type == "discards" && e.Router == "vr" && e.Reason == "ttl" })
}
