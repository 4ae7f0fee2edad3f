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
	l := newEventLog()
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

func TestRateLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(10 * time.Second)
	l.now = func() time.Time { return now }
	var got []uint64
	emit := func(n uint64) { got = append(got, n) }
	l.log("k", emit) // first: logged, count 1
	for range 5 {
		now = now.Add(time.Second)
		l.log("k", emit) // suppressed
	}
	now = now.Add(5 * time.Second)
	l.log("k", emit) // 11s after the first: logged with the 6 since
	l.log("other", emit)
	if len(got) != 3 || got[0] != 1 || got[1] != 6 || got[2] != 1 {
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
