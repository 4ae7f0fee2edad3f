package daemon

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/vrrp"
)

func TestEventLog(t *testing.T) {
	l := newEventLog(nil)
	for i := range eventHistory + 5 {
		l.publish(api.Event{Detail: strconv.Itoa(i)})
	}
	h := l.history(3)
	if len(h) != 3 || h[2].Detail != strconv.Itoa(eventHistory+4) || h[0].Detail != strconv.Itoa(eventHistory+2) {
		t.Fatalf("history %+v", h)
	}
	ctx, cancel := context.WithCancel(context.Background())
	past, ch := l.subscribe(ctx, 1)
	if len(past) != 1 {
		t.Fatalf("past %d", len(past))
	}
	l.publish(api.Event{Type: "x"})
	if ev := <-ch; ev.Type != "x" {
		t.Fatalf("got %+v", ev)
	}
	// A subscriber that stops reading is cut off, never waited for.
	for range 300 {
		l.publish(api.Event{})
	}
	n := 0
	for range ch {
		n++
	}
	if n != 256 {
		t.Fatalf("slow subscriber got %d buffered events before its channel closed", n)
	}
	cancel()
}

// The throttle logs the first occurrence, then at most one line per period
// with the count since the last [9568-7.1-a].
func TestThrottle(t *testing.T) {
	var th throttle
	var got []uint64
	hit := func(now time.Duration) {
		if n, ok := th.hit(now, 10*time.Second); ok {
			got = append(got, n)
		}
	}
	hit(0) // first: logged, count 1
	for i := range 5 {
		hit(time.Duration(i+1) * time.Second) // suppressed
	}
	hit(11 * time.Second) // logged with the 6 since
	hit(12 * time.Second)
	if len(got) != 2 || got[0] != 1 || got[1] != 6 {
		t.Fatalf("emissions %v", got)
	}
}

func TestNeedsRestart(t *testing.T) {
	base := config.Router{Name: "gw", Interface: "eth0", VRID: 51, Version: 3, Family: vrrp.IPv4, Priority: 100,
		AdvertInterval: time.Second, Addresses: []netip.Prefix{netip.MustParsePrefix("10.77.0.254/24")}}
	for _, tc := range []struct {
		name    string
		change  func(*config.Router)
		restart bool
	}{
		{"priority", func(r *config.Router) { r.Priority = 200 }, false},
		{"interval", func(r *config.Router) { r.AdvertInterval = 2 * time.Second }, false},
		{"addresses", func(r *config.Router) { r.Addresses = append(r.Addresses, netip.MustParsePrefix("10.77.0.253/24")) }, false},
		{"notify", func(r *config.Router) { r.Notify = [][]string{{"/bin/true"}} }, false},
		{"interface", func(r *config.Router) { r.Interface = "eth1" }, true},
		{"vrid", func(r *config.Router) { r.VRID = 52 }, true},
		{"version", func(r *config.Router) { r.Version = 2 }, true},
		{"vmac", func(r *config.Router) { r.VMAC = true }, true},
		{"unicast", func(r *config.Router) { r.UnicastPeers = []netip.Addr{netip.MustParseAddr("10.77.0.2")} }, true},
		// The send socket's source (unicast_source): a new socket.
		{"unicast source", func(r *config.Router) { r.UnicastSource = netip.MustParseAddr("10.77.0.9") }, true},
		{"becomes owner", func(r *config.Router) { r.Priority = 255 }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			b.Addresses = append([]netip.Prefix(nil), base.Addresses...)
			tc.change(&b)
			if got := needsRestart(base, b); got != tc.restart {
				t.Fatalf("needsRestart = %v, want %v", got, tc.restart)
			}
		})
	}
	// Positions in the file are not a change.
	moved := base
	moved.Pos, moved.KeyPos = config.Pos{Line: 9}, map[string]config.Pos{"vrid": {Line: 10}}
	if comparable(moved).Pos != comparable(base).Pos {
		t.Fatal("positions make an unchanged router look changed")
	}
}
