package fsm

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/vrrp"
)

type fakeClock struct{ t time.Duration }

func (c *fakeClock) Now() time.Duration { return c.t }

var (
	primary4 = netip.MustParseAddr("10.0.0.1")
	peerLo4  = netip.MustParseAddr("10.0.0.0")
	peerHi4  = netip.MustParseAddr("10.0.0.2")
	vip4     = netip.MustParseAddr("10.0.0.254")
	primary6 = netip.MustParseAddr("fe80::1")
	vipLL    = netip.MustParseAddr("fe80::51")
	vip6     = netip.MustParseAddr("2001:db8::51")
)

func v3cfg(prio uint8) Config {
	return Config{VRID: 51, Version: 3, Family: vrrp.IPv4, Priority: prio, AdvertInterval: time.Second,
		Preempt: true, Addresses: []netip.Addr{vip4}, Primary: primary4}
}

func v2cfg(prio uint8) Config {
	c := v3cfg(prio)
	c.Version = 2
	return c
}

func v6cfg(prio uint8) Config {
	c := v3cfg(prio)
	c.Family, c.Addresses, c.Primary = vrrp.IPv6, []netip.Addr{vipLL, vip6}, primary6
	return c
}

type harness struct {
	t *testing.T
	c *fakeClock
	r *Router
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	c := &fakeClock{}
	r, err := New(cfg, c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &harness{t: t, c: c, r: r}
}

// do handles ev and returns a copy of the actions, nil for none.
func (h *harness) do(ev Event) []Action {
	if a := h.r.Handle(ev); len(a) > 0 {
		return slices.Clone(a)
	}
	return nil
}

func (h *harness) advance(d time.Duration) { h.c.t += d }

// deadline returns when timer tm fires, failing when it is not running.
func (h *harness) deadline(tm Timer) time.Duration {
	h.t.Helper()
	at, _, ok := h.r.Deadline(tm)
	if !ok {
		h.t.Fatalf("%v not running (state %v)", tm, h.r.State())
	}
	return at
}

func (h *harness) running(tm Timer) bool {
	_, _, ok := h.r.Deadline(tm)
	return ok
}

// fire moves the clock to timer tm's deadline and delivers its expiry.
func (h *harness) fire(tm Timer) []Action {
	h.t.Helper()
	at, tok, ok := h.r.Deadline(tm)
	if !ok {
		h.t.Fatalf("fire: %v not running (state %v)", tm, h.r.State())
	}
	h.c.t = at
	return h.do(Expired(tm, tok))
}

func (h *harness) wantState(s State) {
	h.t.Helper()
	if got := h.r.State(); got != s {
		h.t.Fatalf("state %v, want %v", got, s)
	}
}

// toBackup starts a non-owner router (at the current time).
func (h *harness) toBackup() {
	h.t.Helper()
	h.do(Event{Kind: EventStartup})
	h.wantState(Backup)
}

// toMaster starts a router and lets its Master_Down_Timer expire.
func (h *harness) toMaster() {
	h.t.Helper()
	h.do(Event{Kind: EventStartup})
	if h.r.State() == Backup {
		h.fire(MasterDownTimer)
	}
	h.wantState(Master)
}

func tr(from, to State, why Reason) Action {
	return Action{Kind: Transition, From: from, To: to, Reason: why}
}

func send(p uint8) Action { return Action{Kind: SendAdvert, Priority: p} }

// sb is the report of a new split-brain episode.
func sb(from netip.Addr, p uint8) Action { return Action{Kind: SplitBrain, Addr: from, Priority: p} }

var (
	add      = Action{Kind: AddAddresses}
	remove   = Action{Kind: RemoveAddresses}
	announce = Action{Kind: Announce}
	join     = Action{Kind: JoinGroup}
	leave    = Action{Kind: LeaveGroup}
)

func wantActions(t *testing.T, id string, got, want []Action) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s actions\n got %v\nwant %v", id, got, want)
	}
}
