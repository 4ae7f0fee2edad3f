// Package scenario answers "what happens if..." questions with the
// simulator (package sim): a Scenario is routers on one LAN and events at
// virtual times (crash, cable pull, partition, priority change...), Parse
// reads one from YAML (with the walker of the configuration, so a mistake
// is refused at file:line:col with what to write instead), Demo and
// FromConfigs build one from flags or from govrrpd configurations, and Run
// plays it on the real state machines and returns a typed Result: the
// timeline, how long each takeover took next to the RFC's timer, how long
// the LAN had no Master, and who was Master after each event.
//
// No I/O: the caller reads the files and renders the Result
// (cmd/govrrp simulate).
//
// Files: scenario.go (the model, defaults, the demo), parse.go (YAML),
// configs.go (govrrpd configurations), run.go (the runner and its analysis).
package scenario

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/bfd/session"
	"govrrp/fsm"
	"govrrp/vrrp"
)

// Limits of one scenario.
const (
	MaxRouters   = 253
	MaxIntervals = 1_000_000 // duration / shortest interval: bounds memory
	maxTime      = 1000 * time.Hour
)

// DefaultVRID is the VRID of a scenario that names none.
const DefaultVRID = 1

// Settings are a scenario's LAN-wide settings; each router inherits what it
// does not set itself.
type Settings struct {
	Version      uint8
	Family       vrrp.Family
	Interval     time.Duration // Advertisement_Interval
	Preempt      bool
	PreemptDelay time.Duration
	Loss         float64 // probability that one copy of an advert is lost
	Delay        time.Duration
	Seed         uint64        // of the loss draws
	Duration     time.Duration // virtual time to run; 0: a settling step after the last event
	Addresses    []netip.Addr  // virtual addresses; nil: the family's default (VIPs)
}

// Defaults are the settings of a scenario that says nothing.
func Defaults() Settings {
	return Settings{Version: 3, Family: vrrp.IPv4, Interval: time.Second, Preempt: true, Seed: 1}
}

// VIPs are the virtual addresses: the ones given, or 10.77.0.254, or
// fe80::fe and fd77::fe for IPv6.
func (s *Settings) VIPs() []netip.Addr {
	if s.Addresses != nil {
		return s.Addresses
	}
	if s.Family == vrrp.IPv6 {
		return []netip.Addr{netip.MustParseAddr("fe80::fe"), netip.MustParseAddr("fd77::fe")}
	}
	return []netip.Addr{netip.MustParseAddr("10.77.0.254")}
}

// Scenario is what to simulate.
type Scenario struct {
	Name string // the file, or "" for the demo
	VRID uint8
	Settings
	Routers []Router
	Events  []Event // in time order
	// Notes are what the simulator leaves out of the configurations it was
	// built from (FromConfigs): keys it does not model.
	Notes []string
}

// Router is one router. The pointers are nil unless it sets them; it then
// inherits them from the scenario's Settings.
type Router struct {
	Name         string
	Priority     uint8
	Address      netip.Addr // primary: the advert source; zero: DefaultPrimary
	Addresses    []netip.Addr
	Interval     *time.Duration
	Version      *uint8
	Preempt      *bool
	PreemptDelay *time.Duration
	Accept       *bool
	Start        time.Duration // when it starts
	Never        bool          // it starts only on a start event
	// BFD is its Master–Backup BFD (routers[].bfd_master): nil, none.
	BFD *BFD

	// Config is the state machine's configuration, resolved from the above
	// by Parse, Demo and FromConfigs.
	Config fsm.Config

	node *yaml.Node // nil unless parsed
}

// BFD is a router's Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p): a
// session to the Master it follows as Backup, answered passively as
// Master, and what it does when the session fails.
type BFD struct {
	Interval   time.Duration // min_tx and min_rx
	Multiplier uint8
	Successor  fsm.Successor
}

// Session is the session configuration of b.
func (b *BFD) Session() *session.Config {
	return &session.Config{DesiredMinTx: b.Interval, RequiredMinRx: b.Interval, DetectMult: b.Multiplier}
}

// Kind is what an event does.
type Kind uint8

// The events. The first six act on one router.
const (
	Crash       Kind = iota + 1 // dies silently: no adverts, no timers
	Restart                     // a fresh state machine boots and starts at once
	Stop                        // graceful shutdown: a Master sends priority 0
	Start                       // starts a stopped router
	LinkDown                    // the cable is pulled: Fault, nothing in or out
	LinkUp                      // the cable is back
	SetPriority                 // effective priorities, as tracking sets them
	Partition                   // only routers in one group hear each other
	Heal                        // joins the partitions
	SetLoss                     // loss from now on
	SetDelay                    // delay from now on
)

var kindNames = [...]string{Crash: "crash", Restart: "restart", Stop: "stop", Start: "start", LinkDown: "link-down",
	LinkUp: "link-up", SetPriority: "priority", Partition: "partition", Heal: "heal", SetLoss: "loss", SetDelay: "delay"}

// String is the event's key in a scenario file.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText writes the key, for JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// OnOne reports whether the event acts on one router (Target).
func (k Kind) OnOne() bool { return k >= Crash && k <= LinkUp }

func kindOf(s string) Kind {
	for k, n := range kindNames {
		if n == s && n != "" {
			return Kind(k)
		}
	}
	return 0
}

// Master, as a router's name in an event, is the router that is Master at
// that moment (the best one if there are several).
const Master = "master"

// Event is one thing that happens at a virtual time.
type Event struct {
	At     time.Duration
	Kind   Kind
	Target string // OnOne: a router's name or Master
	// Ref, when above 0, makes an OnOne event act on the router that event
	// Ref-1 acted on (the demo plugs back the cable it pulled).
	Ref        int
	Priorities []Priority // SetPriority
	Groups     [][]string // Partition
	Loss       float64    // SetLoss
	Delay      time.Duration

	seq   int // file order, for a stable sort
	nodes eventNodes
}

// Priority is a router's new effective priority.
type Priority struct {
	Router   string // a name or Master
	Priority uint8
}

// DefaultPrimary is the Nth router's (from 0) primary address: 10.77.0.N+1
// or fe80::N+1.
func DefaultPrimary(fam vrrp.Family, i int) netip.Addr {
	if fam == vrrp.IPv6 {
		return netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte((i + 1) >> 8), 15: byte(i + 1)})
	}
	return netip.AddrFrom4([4]byte{10, 77, 0, byte(i + 1)})
}

// ParseFamily reads ipv4 or ipv6 (also 4, 6, inet, inet6).
func ParseFamily(s string) (vrrp.Family, bool) {
	switch strings.ToLower(s) {
	case "ipv4", "4", "inet":
		return vrrp.IPv4, true
	case "ipv6", "6", "inet6":
		return vrrp.IPv6, true
	}
	return 0, false
}

// resolve builds each router's fsm.Config from the scenario and its own
// settings and checks it. fail, when set, reports errors at the router's
// position (and resolve goes on); without it the first error is returned.
func (sc *Scenario) resolve(fail func(n *yaml.Node, fix, what string)) error {
	var first error
	report := func(n *yaml.Node, fix, what string) {
		switch {
		case fail != nil && n != nil:
			fail(n, fix, what)
		case first == nil && fix != "":
			first = fmt.Errorf("%s; %s", what, fix)
		case first == nil:
			first = fmt.Errorf("%s", what)
		}
	}
	used := map[netip.Addr]string{}
	for i := range sc.Routers {
		r := &sc.Routers[i]
		c := fsm.Config{VRID: sc.VRID, Version: sc.Version, Family: sc.Family, Priority: r.Priority,
			AdvertInterval: sc.Interval, Preempt: sc.Preempt, PreemptDelay: sc.PreemptDelay,
			Addresses: sc.VIPs(), Primary: r.Address}
		if r.Version != nil {
			c.Version = *r.Version
		}
		if r.Interval != nil {
			c.AdvertInterval = *r.Interval
		}
		if r.Preempt != nil {
			c.Preempt = *r.Preempt
		}
		if r.PreemptDelay != nil {
			c.PreemptDelay = *r.PreemptDelay
		}
		if r.Accept != nil {
			c.Accept = *r.Accept
		}
		if r.Addresses != nil {
			c.Addresses = r.Addresses
		}
		if !c.Primary.IsValid() {
			c.Primary = DefaultPrimary(sc.Family, i)
		}
		if r.BFD != nil {
			c.Successor = r.BFD.Successor
		}
		if err := c.Check(); err != nil {
			msg := strings.TrimPrefix(err.Error(), fsm.ErrConfig.Error()+": ")
			if fail != nil || sc.Name != "" {
				msg = "router " + r.Name + ": " + msg
			}
			report(r.node, "", msg)
			continue
		}
		if other, dup := used[c.Primary]; dup {
			report(r.node, "give each router its own", fmt.Sprintf("router %s: address %v is also %s's", r.Name, c.Primary, other))
			continue
		}
		used[c.Primary] = r.Name
		r.Config = c
	}
	return first
}

// Resolve completes a scenario written in Go: each router's Config from
// its settings, VRID DefaultVRID when unset, and when Duration is 0 a
// settling step after the last event. Parse, Demo and FromConfigs return
// resolved scenarios; Run resolves one whose routers have no Config.
func (sc *Scenario) Resolve() error {
	if sc.VRID == 0 {
		sc.VRID = DefaultVRID
	}
	if len(sc.Routers) == 0 || len(sc.Routers) > MaxRouters {
		return fmt.Errorf("%d routers: 1..%d", len(sc.Routers), MaxRouters)
	}
	if err := sc.resolve(nil); err != nil {
		return err
	}
	slices.SortStableFunc(sc.Events, func(a, b Event) int { return cmp.Compare(a.At, b.At) })
	sc.fillDuration()
	return sc.checkLength()
}

// fillDuration sets an unset Duration to a settling step after the last
// event.
func (sc *Scenario) fillDuration() {
	if sc.Duration != 0 {
		return
	}
	for _, e := range sc.Events {
		sc.Duration = max(sc.Duration, e.At)
	}
	sc.Duration += sc.Settle()
}

// Settle is how long after an event the LAN surely has settled: 10 of the
// longest intervals, the longest preempt delay and twice the delay, rounded
// up to a whole interval so that event times stay round.
func (sc *Scenario) Settle() time.Duration {
	var iv, pd time.Duration
	for _, r := range sc.Routers {
		iv, pd = max(iv, r.Config.AdvertInterval), max(pd, r.Config.PreemptDelay)
	}
	dl := sc.Delay
	for _, e := range sc.Events {
		if e.Kind == SetDelay {
			dl = max(dl, e.Delay)
		}
	}
	s := 10*iv + pd + 2*dl
	return (s + iv - 1) / iv * iv
}

// Demo is the demo's scenario for routers r1, r2, ... of the given
// priorities: they elect a Master; a step later the Master's cable is
// pulled; two steps later it is plugged back; three steps later the Master
// stops gracefully. A step is Settle.
func Demo(s Settings, priorities []uint8) (*Scenario, error) {
	if len(priorities) == 0 || len(priorities) > MaxRouters {
		return nil, fmt.Errorf("1..%d routers", MaxRouters)
	}
	sc := &Scenario{VRID: DefaultVRID, Settings: s}
	for i, p := range priorities {
		sc.Routers = append(sc.Routers, Router{Name: fmt.Sprintf("r%d", i+1), Priority: p})
	}
	if err := sc.resolve(nil); err != nil {
		return nil, err
	}
	gap := sc.Settle()
	all := []Event{
		{At: gap, Kind: LinkDown, Target: Master},
		{At: 2 * gap, Kind: LinkUp, Ref: 1},
		{At: 3 * gap, Kind: Stop, Target: Master},
	}
	if sc.Duration == 0 {
		sc.Duration = 4 * gap
	}
	for _, e := range all {
		if e.At <= sc.Duration {
			sc.Events = append(sc.Events, e)
		}
	}
	return sc, sc.checkLength()
}

// checkLength refuses runs that would record too much.
func (sc *Scenario) checkLength() error {
	iv := sc.Routers[0].Config.AdvertInterval
	for _, r := range sc.Routers {
		iv = min(iv, r.Config.AdvertInterval)
	}
	if sc.Duration/iv > MaxIntervals {
		return fmt.Errorf("duration %v is more than %d advert intervals (%v); shorten it", sc.Duration, MaxIntervals, iv)
	}
	return nil
}
