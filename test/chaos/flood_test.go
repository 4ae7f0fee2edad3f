package chaos

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/test/interop"
	"govrrp/vrrp"
)

func init() {
	cases = append(cases,
		chaosCase{name: "bad-input", run: func(t *testing.T, r *result) { runFlood(t, r, 20_000, 5*time.Second) }},
		chaosCase{name: "flood", run: func(t *testing.T, r *result) { runFlood(t, r, 150_000, 5*time.Second) }},
	)
}

// runFlood: a host on the LAN sends rate packets/s for dur at VRID 51: 40%
// well-formed adverts of priority 50 (below both routers), the rest junk
// that fails one receive check each (lab.Flood). Promise: no
// transition on either router, no crash, what reached the daemons counted
// (received or discarded with a reason), memory back to its level.
func runFlood(t *testing.T, r *result, rate int, dur time.Duration) {
	p := newPair(t, vr(200), vr(100))
	time.Sleep(time.Second) // past the takeover's GARPs and start-up allocations
	idle1, idle2 := usageOf(p.g1), usageOf(p.g2)
	time.Sleep(2 * time.Second)
	b1, b2 := usageOf(p.g1), usageOf(p.g2)
	d1, d2 := detail(t, p.g1), detail(t, p.g2)

	ctx, cancel := context.WithTimeout(context.Background(), dur+5*time.Second)
	defer cancel()
	st, err := lab.Flood(ctx, p.host, lab.FloodConfig{
		Interface: "eth0", Family: vrrp.IPv4, Rate: rate, Duration: dur, Valid: 0.4,
		VRID: 51, Version: 3, Priority: 50, Interval: interval,
		Addresses: []netip.Addr{vip.Addr()}, Seed: 12,
	})
	if err != nil {
		t.Fatal(err)
	}
	f1, f2 := usageOf(p.g1), usageOf(p.g2)
	a1, a2 := detail(t, p.g1), detail(t, p.g2)
	r.fig("sent %d packets (%d valid) in %.1f s = %.0f/s, %d refused by the sender's kernel", st.Sent, st.Valid, st.Elapsed.Seconds(), st.Rate(), st.Errors)
	r.fig("counted by Master %d, by Backup %d", counted(a1)-counted(d1), counted(a2)-counted(d2))
	r.fig("CPU idle→flood: Master %.1f%%→%.0f%%, Backup %.1f%%→%.0f%% of a core",
		100*cpuShare(idle1, b1), 100*cpuShare(b1, f1), 100*cpuShare(idle2, b2), 100*cpuShare(b2, f2))

	for _, g := range []*interop.Govrrp{p.g1, p.g2} {
		if bad := crashed(g); bad != "" || !g.Running() {
			r.broke(t, "%s crashed (%q in its log, running %v)", g.Name(), bad, g.Running())
		}
	}
	if moved(d1, a1) || a1.State != "Master" {
		r.broke(t, "the Master moved under the flood: now %s; %s", a1.State, since(d1, a1))
	}
	if moved(d2, a2) || a2.State != "Backup" {
		r.broke(t, "the Backup moved under the flood (false takeover): now %s; %s", a2.State, since(d2, a2))
	}
	if counted(a1) == counted(d1) || counted(a2) == counted(d2) {
		r.broke(t, "a daemon counted nothing of the flood")
	}
	time.Sleep(2 * time.Second) // backlogs drain, idle threads park
	e1, e2 := usageOf(p.g1), usageOf(p.g2)
	r.fig("RSS before→2 s after: Master %.1f→%.1f MiB, Backup %.1f→%.1f MiB", mib(b1.rss), mib(e1.rss), mib(b2.rss), mib(e2.rss))
	for _, s := range []struct {
		name          string
		before, after usage
	}{{"Master", b1, e1}, {"Backup", b2, e2}} {
		if s.after.rss > s.before.rss+8<<10 {
			r.broke(t, "the %s's RSS stayed up: %.1f→%.1f MiB", s.name, mib(s.before.rss), mib(s.after.rss))
		}
	}
}
