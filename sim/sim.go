// Package sim runs many fsm.Routers on an in-memory LAN under one virtual
// clock, so every election rule of spec §6 is a fast, deterministic test.
//
// Adverts travel as bytes: the sender's SendAdvert is encoded with the real
// codec (vrrp.Message.Encode, source = the router's primary address,
// destination 224.0.0.18 / ff02::12), and each receiver runs the real
// receive checks (vrrp.Validate, TTL 255, a Lookup built from its own
// configuration) before the state machine sees it. Knobs: loss, delay (global
// and per link), partition and heal, silent crash and restart, graceful stop
// and start, link down and up, tracked faults, priority changes, reloads
// (Reconfigure), primary address changes, and arbitrary actions scheduled at
// a virtual time. Observers (OnTransition, OnAdvert, OnDelivery) see each
// transition, advert and delivered copy as it happens, in order.
//
// Determinism: events are ordered by (time, order of scheduling), loss draws
// come from a PCG seeded by New, and nothing iterates a map; the same seed
// and the same calls give the same timeline. A consequence worth knowing:
// timers armed before an instant fire before packets sent at that instant
// are delivered, even with zero delay, as on a real link where two routers
// whose timers expire together both send before hearing each other.
//
// Files: sim.go (LAN, knobs, event loop), queue.go (virtual clock and event
// heap). Package sim/scenario builds govrrp simulate's scenarios on it.
package sim

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"govrrp/bfd/session"
	"govrrp/fsm"
	"govrrp/vrrp"
)

// Transition is one recorded state change.
type Transition struct {
	At       time.Duration
	Router   int
	From, To fsm.State
	Reason   fsm.Reason
}

func (t Transition) String() string {
	return fmt.Sprintf("%v r%d %v->%v (%v)", t.At, t.Router, t.From, t.To, t.Reason)
}

// Advert is one advert put on the wire.
type Advert struct {
	At       time.Duration
	Router   int
	Priority uint8
}

// Delivery is one copy of an advert reaching a router that is up.
type Delivery struct {
	At       time.Duration // arrival
	Sent     time.Duration // when the sender put it on the wire
	From, To int
	Priority uint8 // as sent
	// Err is the receive check that failed (vrrp.Reason names it); nil
	// when the advert passed them all and went to the state machine.
	Err error
}

// Node is one router on the LAN: a state machine plus its fake network layer.
type Node struct {
	ID     int
	Config fsm.Config
	Router *fsm.Router

	Crashed  bool // silent: no adverts, no reception, timers dead
	LinkDown bool
	// Installed reports whether virtual addresses are installed (between
	// AddAddresses and RemoveAddresses); Addrs lists them, following the
	// per-address actions of a reload too.
	Installed bool
	Addrs     []netip.Addr
	Announces int
	// Drops counts received adverts that failed vrrp.Validate, by reason.
	Drops map[string]int

	epoch     int // bumped by Crash/Restart: pending events of a dead router are dropped
	scheduled [3]uint64
	vcfg      vrrp.Config
	lookup    vrrp.Lookup
	rx        vrrp.Message

	// Master–Backup BFD (bfd.go): its parameters (nil: none) and, as
	// Backup, its session to the Master.
	bfd     *session.Config
	bfdPair *bfdPair
}

// LAN is a broadcast segment of routers for one VRID under a virtual clock.
type LAN struct {
	clock Clock
	q     queue
	rng   *rand.Rand
	nodes []*Node

	loss      float64
	delay     time.Duration
	linkDelay map[[2]int]time.Duration
	group     []int // partition group per node; equal groups hear each other

	Transitions []Transition
	Adverts     []Advert
	// Announcer is the router whose announcement (GARP/NA) a host on the
	// LAN heard last, -1 before any: whose MAC its neighbour entry for the
	// virtual addresses holds. A partition cuts only VRRP between the
	// groups; the host hears every router.
	Announcer int

	// Observers, called when set, in the order things happen: each
	// recorded transition, each advert put on the wire, and each copy
	// delivered to a router that is up (before its state machine sees it).
	// They may read the LAN and its routers but must not change them;
	// schedule changes with At.
	OnTransition func(Transition)
	OnAdvert     func(Advert)
	OnDelivery   func(Delivery)

	// BFDChanges are the state changes of the Master–Backup BFD sessions
	// (bfd.go), OnBFD sees each.
	BFDChanges []BFDChange
	OnBFD      func(BFDChange)
	bfdPairs   int
	bfdRng     *rand.Rand
}

// New returns an empty LAN at virtual time 0 whose loss draws come from seed.
func New(seed uint64) *LAN {
	return &LAN{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), linkDelay: map[[2]int]time.Duration{}, Announcer: -1}
}

// Now is the virtual time.
func (l *LAN) Now() time.Duration { return l.clock.now }

// Clock is the LAN's virtual clock, shared by every router.
func (l *LAN) Clock() *Clock { return &l.clock }

// Add puts a router on the LAN, in Initialize, and returns its index.
func (l *LAN) Add(cfg fsm.Config) (int, error) {
	n := &Node{ID: len(l.nodes), Config: cfg, Drops: map[string]int{}}
	if err := l.boot(n); err != nil {
		return 0, err
	}
	n.setConfig(cfg)
	n.lookup = func(vrid uint8) *vrrp.Config {
		if vrid == n.Config.VRID {
			return &n.vcfg
		}
		return nil
	}
	l.nodes = append(l.nodes, n)
	l.group = append(l.group, 0)
	return n.ID, nil
}

// MustAdd is Add for tests with known-good configurations.
func (l *LAN) MustAdd(cfg fsm.Config) int {
	i, err := l.Add(cfg)
	if err != nil {
		panic(err)
	}
	return i
}

// setConfig makes cfg the node's configuration for sending and receiving.
func (n *Node) setConfig(cfg fsm.Config) {
	cfg.Addresses = slices.Clone(cfg.Addresses)
	n.Config = cfg
	n.vcfg = vrrp.Config{
		Version:   cfg.Version,
		Priority:  cfg.Priority,
		Interval:  cfg.AdvertInterval,
		Addresses: cfg.Addresses,
		Local:     cfg.Primary,
	}
}

func (l *LAN) boot(n *Node) error {
	r, err := fsm.New(n.Config, &l.clock)
	if err != nil {
		return err
	}
	n.Router, n.Installed, n.Addrs, n.scheduled = r, false, nil, [3]uint64{}
	n.epoch++
	return nil
}

// Node returns router i.
func (l *LAN) Node(i int) *Node { return l.nodes[i] }

// Len is the number of routers.
func (l *LAN) Len() int { return len(l.nodes) }

// Live reports whether router i is running normally: not crashed, link up,
// and started (Backup or Master).
func (l *LAN) Live(i int) bool {
	n := l.nodes[i]
	s := n.Router.State()
	return !n.Crashed && !n.LinkDown && (s == fsm.Backup || s == fsm.Master)
}

// Masters lists the live routers in Master.
func (l *LAN) Masters() []int {
	var m []int
	for i, n := range l.nodes {
		if l.Live(i) && n.Router.State() == fsm.Master {
			m = append(m, i)
		}
	}
	return m
}

// --- knobs (effective at the current virtual time; see At) ---

// Start delivers Startup to router i.
func (l *LAN) Start(i int) { l.handle(l.nodes[i], fsm.Event{Kind: fsm.EventStartup}) }

// Stop shuts router i down gracefully: a Master resigns with priority 0.
func (l *LAN) Stop(i int) { l.handle(l.nodes[i], fsm.Event{Kind: fsm.EventShutdown}) }

// Crash kills router i silently: it sends nothing more, hears nothing, and
// its timers die with it. Its installed addresses stay as they were.
func (l *LAN) Crash(i int) {
	n := l.nodes[i]
	n.Crashed = true
	n.epoch++
	l.bfdCrash(n)
}

// Restart boots a fresh state machine on a crashed (or any) router and
// starts it, as a daemon restart would.
func (l *LAN) Restart(i int) {
	n := l.nodes[i]
	if err := l.boot(n); err != nil {
		panic(err) // the configuration passed Add
	}
	n.Crashed = false
	if n.LinkDown {
		l.handle(n, fsm.Event{Kind: fsm.EventLinkDown})
	}
	l.handle(n, fsm.Event{Kind: fsm.EventStartup})
}

// LinkDown takes router i's interface down: nothing in or out.
func (l *LAN) LinkDown(i int) {
	l.nodes[i].LinkDown = true
	l.handle(l.nodes[i], fsm.Event{Kind: fsm.EventLinkDown})
}

// LinkUp brings it back.
func (l *LAN) LinkUp(i int) {
	l.nodes[i].LinkDown = false
	l.handle(l.nodes[i], fsm.Event{Kind: fsm.EventLinkUp})
}

// TrackFault sets or clears a tracked fault on router i.
func (l *LAN) TrackFault(i int, failed bool) {
	k := fsm.EventFaultCleared
	if failed {
		k = fsm.EventFault
	}
	l.handle(l.nodes[i], fsm.Event{Kind: k})
}

// SetPriority changes router i's priority, as tracking would.
func (l *LAN) SetPriority(i int, p uint8) { l.handle(l.nodes[i], fsm.SetPriority(p)) }

// Reconfigure reloads router i with cfg in place, as the daemon's SIGHUP
// does; the adverts it sends and the receive checks it runs follow the new
// configuration. An error (fsm.ErrRestartNeeded, fsm.ErrConfig) changes
// nothing; a caller that wants the daemon's fallback calls Stop, sets
// Node(i).Config and calls Restart.
func (l *LAN) Reconfigure(i int, cfg fsm.Config) error {
	n := l.nodes[i]
	if n.Crashed {
		if err := cfg.Check(); err != nil {
			return err
		}
		n.setConfig(cfg) // picked up by Restart
		return nil
	}
	acts, err := n.Router.Reconfigure(cfg)
	if err != nil {
		return err
	}
	n.setConfig(n.Router.Config())
	l.apply(n, acts)
	return nil
}

// SetPrimary changes router i's primary address, as the link watcher
// reports it; its adverts come from it from now on.
func (l *LAN) SetPrimary(i int, a netip.Addr) {
	n := l.nodes[i]
	if n.Crashed {
		return
	}
	l.handle(n, fsm.SetPrimary(a))
	n.setConfig(n.Router.Config())
}

// SetLoss sets the probability (0..1) that one copy of an advert is lost.
func (l *LAN) SetLoss(p float64) { l.loss = p }

// SetDelay sets the delivery delay of every link without its own.
func (l *LAN) SetDelay(d time.Duration) { l.delay = d }

// SetLinkDelay sets the delay from router a to router b.
func (l *LAN) SetLinkDelay(a, b int, d time.Duration) { l.linkDelay[[2]int{a, b}] = d }

// Partition splits the LAN: routers in the same group hear each other;
// routers in no group form one more group together.
func (l *LAN) Partition(groups ...[]int) {
	for i := range l.group {
		l.group[i] = 0
	}
	for g, members := range groups {
		for _, i := range members {
			l.group[i] = g + 1
		}
	}
}

// Heal joins every partition.
func (l *LAN) Heal() { l.Partition() }

// At runs f at virtual time t (now if t is past), in order with the other
// events of that instant.
func (l *LAN) At(t time.Duration, f func()) {
	l.q.push(item{at: max(t, l.clock.now), kind: evFunc, fn: f})
}

// maxEventsPerInstant bounds the events of one virtual instant; a LAN of
// 255 routers settling an election needs far fewer.
const maxEventsPerInstant = 1 << 20

// Run processes every event up to and including virtual time until.
func (l *LAN) Run(until time.Duration) {
	same := 0
	for l.q.Len() > 0 && l.q.peek().at <= until {
		it := l.q.pop()
		if it.at == l.clock.now {
			same++
		} else {
			same = 0
		}
		if same > maxEventsPerInstant {
			// Virtual time would never advance: an advert storm (two
			// Masters each answering the other). Fail loudly, not hang.
			panic(fmt.Sprintf("sim: livelock: more than %d events at %v", maxEventsPerInstant, l.clock.now))
		}
		l.clock.now = it.at
		switch it.kind {
		case evFunc:
			it.fn()
		case evTimer:
			n := l.nodes[it.node]
			if n.epoch == it.epoch && !n.Crashed {
				l.handle(n, fsm.Expired(it.timer, it.token))
			}
		case evDeliver:
			l.deliver(l.nodes[it.node], &it)
		case evBFDTimer:
			l.bfdTimer(&it)
		case evBFDPacket:
			l.bfdDeliver(&it)
		}
	}
	if until > l.clock.now {
		l.clock.now = until
	}
}

// RunFor runs for d of virtual time.
func (l *LAN) RunFor(d time.Duration) { l.Run(l.clock.now + d) }

// --- the fake network layer ---

func (l *LAN) handle(n *Node, ev fsm.Event) {
	if n.Crashed {
		return
	}
	l.apply(n, n.Router.Handle(ev))
}

// apply executes a router's actions and schedules its timers.
func (l *LAN) apply(n *Node, acts []fsm.Action) {
	for _, a := range acts {
		switch a.Kind {
		case fsm.SendAdvert:
			l.send(n, a.Priority)
		case fsm.Transition:
			t := Transition{At: l.clock.now, Router: n.ID, From: a.From, To: a.To, Reason: a.Reason}
			l.Transitions = append(l.Transitions, t)
			if l.OnTransition != nil {
				l.OnTransition(t)
			}
		case fsm.AddAddresses:
			if !a.Addr.IsValid() {
				n.Addrs = slices.Clone(n.Router.Config().Addresses)
			} else if !slices.Contains(n.Addrs, a.Addr) {
				n.Addrs = append(n.Addrs, a.Addr)
			}
			n.Installed = len(n.Addrs) > 0
		case fsm.RemoveAddresses:
			if !a.Addr.IsValid() {
				n.Addrs = nil
			} else {
				n.Addrs = slices.DeleteFunc(n.Addrs, func(x netip.Addr) bool { return x == a.Addr })
			}
			n.Installed = len(n.Addrs) > 0
		case fsm.Announce:
			n.Announces++
			if !n.LinkDown {
				l.Announcer = n.ID
			}
		}
	}
	// Queue a firing for every newly armed timer; older entries carry stale
	// tokens and the router ignores them when they pop.
	for t := fsm.AdverTimer; t <= fsm.PreemptDelayTimer; t++ {
		if at, tok, ok := n.Router.Deadline(t); ok && tok != n.scheduled[t] {
			n.scheduled[t] = tok
			l.q.push(item{at: at, kind: evTimer, node: n.ID, epoch: n.epoch, timer: t, token: tok})
		}
	}
	if n.bfd != nil || n.bfdPair != nil {
		l.bfdFollow(n)
	}
}

func (l *LAN) send(n *Node, prio uint8) {
	if n.LinkDown {
		return
	}
	adv := Advert{At: l.clock.now, Router: n.ID, Priority: prio}
	l.Adverts = append(l.Adverts, adv)
	if l.OnAdvert != nil {
		l.OnAdvert(adv)
	}
	m := vrrp.Message{
		Version:   n.Config.Version,
		Type:      vrrp.TypeAdvertisement,
		VRID:      n.Config.VRID,
		Priority:  prio,
		Family:    n.Config.Family,
		Interval:  n.Config.AdvertInterval,
		Addresses: n.Config.Addresses,
	}
	dst := vrrp.MulticastIPv4
	if n.Config.Family == vrrp.IPv6 {
		dst = vrrp.MulticastIPv6
	}
	b, err := m.Encode(nil, n.Config.Primary, dst, vrrp.ChecksumPseudoHeader)
	if err != nil {
		panic(fmt.Sprintf("sim: encode: %v", err)) // a configuration fsm.Check accepted
	}
	for _, o := range l.nodes {
		if o == n || l.group[o.ID] != l.group[n.ID] {
			continue
		}
		if l.loss > 0 && l.rng.Float64() < l.loss {
			continue
		}
		d, ok := l.linkDelay[[2]int{n.ID, o.ID}]
		if !ok {
			d = l.delay
		}
		l.q.push(item{at: l.clock.now + d, kind: evDeliver, node: o.ID, payload: b, src: n.Config.Primary,
			from: n.ID, sent: l.clock.now, prio: prio})
	}
}

func (l *LAN) deliver(n *Node, it *item) {
	if n.Crashed || n.LinkDown {
		return
	}
	src := it.src
	dst := vrrp.MulticastIPv4
	if vrrp.FamilyOf(src) == vrrp.IPv6 {
		dst = vrrp.MulticastIPv6
	}
	_, err := vrrp.Validate(&n.rx, it.payload, vrrp.IPHeader{Src: src, Dst: dst, TTL: vrrp.TTL}, n.lookup)
	if l.OnDelivery != nil {
		l.OnDelivery(Delivery{At: l.clock.now, Sent: it.sent, From: it.from, To: n.ID, Priority: it.prio, Err: err})
	}
	if err != nil {
		n.Drops[vrrp.Reason(err)]++
		return
	}
	l.handle(n, fsm.AdvertMessage(src, &n.rx))
}
