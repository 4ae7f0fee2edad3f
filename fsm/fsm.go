package fsm

import (
	"encoding/binary"
	"net/netip"
	"time"

	"govrrp/vrrp"
)

// EventKind names an input to the state machine.
type EventKind uint8

const (
	EventStartup EventKind = iota + 1
	EventShutdown
	// EventAdvert: an advert that passed vrrp.Validate. The state machine
	// trusts it.
	EventAdvert
	// EventTimer: a timer armed with Event.Token reached its deadline.
	EventTimer
	// EventPriority: tracking changed the priority to Event.Priority.
	EventPriority
	EventLinkDown
	EventLinkUp
	// EventFault / EventFaultCleared: a tracked object with a fault rule
	// failed / recovered. The caller aggregates several objects into one.
	EventFault
	EventFaultCleared
	// EventPrimary: the interface's primary IPv4 address (IPv6: its own
	// link-local) is now Event.Src. See SetPrimary.
	EventPrimary
	// EventGroupFault / EventGroupFaultCleared: another member of the
	// router's sync group is in Fault of its own (link or tracking) / no
	// member is any more. The router is in Fault while one is, as
	// keepalived's vrrp_sync_group holds every member in FAULT while any
	// member has a fault; a deliberate addition (docs/CONFORMANCE.md).
	EventGroupFault
	EventGroupFaultCleared
	// EventGroupBackup: another member of the sync group left Master for
	// Backup; a Master member follows it (keepalived vrrp_sync_backup). A
	// deliberate addition (docs/CONFORMANCE.md).
	EventGroupBackup
	// EventGroupMaster: every member of the sync group wants to be Master
	// or is (Config.GroupHold); a Backup that wants to becomes Master
	// (keepalived vrrp_sync_master). A deliberate addition.
	EventGroupMaster
	// EventDisable / EventEnable: the operator takes the router out of
	// service / puts it back (FRR's `shutdown` of a VRRP instance;
	// `govrrp disable`). Disable is the Shutdown event [5798-6.4.2-f]
	// [5798-6.4.3-g] with the reason admin-disabled: a Master resigns with
	// a priority-0 advert so a Backup takes over in Skew_Time
	// [5798-6.4.2-h], and releases its addresses. The router then stays in
	// Initialize, sending and answering nothing, whatever else happens:
	// Startup is held until Enable, and faults are only recorded. Enable is
	// the Startup event [5798-6.4.1-a] [5798-6.4.1-b] (reason
	// admin-enabled) if the router was started, into Fault if a fault
	// arrived meanwhile. Both are idempotent.
	EventDisable
	EventEnable
	// EventMasterDown: a BFD session to Event.Src went from Up to Down as a
	// failure (RFC 5880 §6.8.4; never a peer's AdminDown, RFC 5882 §3.2);
	// Event.Interval is that session's detection time. A Backup that
	// follows Src and is its successor (Config.Successor) acts as if
	// Master_Down_Timer had expired (draft-ietf-rtgwg-vrrp-bfd-p2p; see
	// masterDownDetected in timers.go). Anything else ignores it.
	EventMasterDown
)

// Event is one input. Only the fields of its Kind are read.
type Event struct {
	Kind     EventKind
	Src      netip.Addr    // EventAdvert: IP source of the advert; EventPrimary: the new primary
	Priority uint8         // EventAdvert; EventPriority: the new priority
	Interval time.Duration // EventAdvert: its Max Advertise Interval / Adver Int
	Timer    Timer         // EventTimer
	Token    uint64        // EventTimer

	// At, when set, is when the event happened on the Clock's scale: the
	// kernel's arrival time of an advert read in a batch, or the deadline of
	// a timer handled a little late. Timers armed by the event count from
	// it, so a late read never stretches Master_Down_Timer. A value after
	// Clock.Now() is ignored (the clock wins).
	At time.Duration

	// Version of an EventAdvert: 2 for a VRRPv2 advert to a router in the
	// interoperation mode (Config.V2Compat); otherwise it is ignored (the
	// receive checks passed only the router's own version).
	Version uint8
}

// Advert builds the event for a validated advert.
func Advert(src netip.Addr, priority uint8, interval time.Duration) Event {
	return Event{Kind: EventAdvert, Src: src, Priority: priority, Interval: interval}
}

// AdvertAt is Advert for an advert that arrived at the given time.
func AdvertAt(src netip.Addr, priority uint8, interval time.Duration, at time.Duration) Event {
	return Event{Kind: EventAdvert, Src: src, Priority: priority, Interval: interval, At: at}
}

// AdvertMessage builds the event from a validated message and its IP source.
func AdvertMessage(src netip.Addr, m *vrrp.Message) Event {
	ev := Advert(src, m.Priority, m.Interval)
	ev.Version = m.Version
	return ev
}

// MasterDown builds the event of a BFD session to peer that failed, with
// the session's detection time.
func MasterDown(peer netip.Addr, detect time.Duration) Event {
	return Event{Kind: EventMasterDown, Src: peer, Interval: detect}
}

// Expired builds the event for timer t armed with token.
func Expired(t Timer, token uint64) Event {
	return Event{Kind: EventTimer, Timer: t, Token: token}
}

// SetPriority builds a tracking priority change.
func SetPriority(p uint8) Event { return Event{Kind: EventPriority, Priority: p} }

// SetPrimary builds a primary address change, as the link watcher reports
// it: the interface's primary IPv4 address, or its own IPv6 link-local
// [5798-7.2-d]. It never causes a transition; see Router.Reconfigure.
func SetPrimary(a netip.Addr) Event { return Event{Kind: EventPrimary, Src: a} }

// Router is the state machine of one virtual router. It is not safe for
// concurrent use: the caller serialises events, which is also what makes
// every transition atomic.
type Router struct {
	cfg   Config
	clock Clock
	now   time.Duration // clock.Now() at the start of the current Handle

	state   State
	running bool // in service: started and not disabled
	// started: between the caller's Startup and Shutdown; disabled:
	// between EventDisable and EventEnable.
	started, disabled bool
	prio              uint8

	masterAdverInterval time.Duration
	skew, masterDown    time.Duration
	// masterAddr is the Master followed (ours in Master), masterPrio the
	// priority it last advertised (Backup), lastMaster the latest valid
	// masterAddr, kept across Initialize and Fault to count changes.
	masterAddr, lastMaster netip.Addr
	masterPrio             uint8

	linkDown, trackFault bool
	groupFault           bool // another sync-group member is in Fault
	// wantMaster: a Backup held by its sync group whose Master_Down_Timer
	// expired (Config.GroupHold).
	wantMaster bool
	// preemptHold: the preempt delay is running; preemptDue: it ran out
	// (see preemptHeld).
	preemptHold, preemptDue bool
	// downReason is what a Master_Down_Timer expiry would mean now.
	downReason Reason

	timers [numTimers]timer
	tokens uint64
	// lastReply is when the last advert provoked by a received one went
	// out (see replyAllowed); replied says whether one has.
	lastReply time.Duration
	replied   bool
	// lastAnnounce: the last announcement after an assertive advert
	// (announceAllowed).
	lastAnnounce time.Duration
	announced    bool

	compat compat // the interoperation mode (compat.go)
	// masterSince is when we last became Master; splitBrain the episodes
	// of other Masters heard since (conflict.go).
	masterSince time.Duration
	splitBrain  episode
	// bfdPeer is the Master whose BFD session failed, which a Backup took
	// over from; bfdSuspect says we are Master by that failure and have not
	// yet heard bfdPeer again (see bfdFalseDown).
	bfdPeer    netip.Addr
	bfdSuspect bool
	// owner is the owner (priority 255) a non-owner hears, ownerLast when;
	// twoOwners the episodes of a second one [9568-8.3.2-a], owners the
	// two addresses last heard together.
	owner     netip.Addr
	ownerLast time.Duration
	twoOwners episode
	owners    [2]netip.Addr

	counters Counters
	acts     []Action
}

// New returns a router in Initialize. cfg must pass Check; its address
// slice is copied.
func New(cfg Config, clock Clock) (*Router, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg.Addresses = append([]netip.Addr(nil), cfg.Addresses...)
	r := &Router{
		cfg:                 cfg,
		clock:               clock,
		state:               Initialize,
		prio:                cfg.Priority,
		masterAdverInterval: cfg.AdvertInterval,
		// acts grows on the first event with actions and is reused: a
		// steady Backup never needs it.
	}
	r.recompute()
	return r, nil
}

// Config returns the router's configuration.
func (r *Router) Config() Config { return r.cfg }

// State returns the current state.
func (r *Router) State() State { return r.state }

// Handle applies one event and returns the actions to execute, in order. The
// slice is reused by the next call to Handle or Reconfigure. Adverts in Initialize or Fault, stale
// timer firings and events that change nothing return no actions.
func (r *Router) Handle(ev Event) []Action {
	r.acts = r.acts[:0]
	r.now = r.clock.Now()
	if ev.At > 0 && ev.At < r.now {
		r.now = ev.At
	}
	switch ev.Kind {
	case EventStartup:
		r.startup()
	case EventShutdown:
		r.shutdown()
	case EventAdvert:
		r.advert(ev)
	case EventTimer:
		r.timerExpired(ev.Timer, ev.Token)
	case EventMasterDown:
		r.masterDownDetected(ev.Src, ev.Interval)
	case EventPriority:
		r.setPriority(ev.Priority)
	case EventLinkDown:
		r.linkDown = true
		r.enterFault(ReasonLinkDown)
	case EventLinkUp:
		r.linkDown = false
		r.leaveFault()
	case EventFault:
		r.trackFault = true
		r.enterFault(ReasonTrackFault)
	case EventFaultCleared:
		r.trackFault = false
		r.leaveFault()
	case EventPrimary:
		r.setPrimary(ev.Src)
	case EventGroupFault:
		r.groupFault = true
		r.enterFault(ReasonGroupFault)
	case EventGroupFaultCleared:
		r.groupFault = false
		r.leaveFault()
	case EventGroupBackup:
		r.groupBackup()
	case EventGroupMaster:
		if r.state == Backup && r.wantMaster {
			r.becomeMaster(r.downReason)
		}
	case EventDisable:
		if !r.disabled {
			r.disabled = true
			r.outOfService(ReasonAdminDisabled)
		}
	case EventEnable:
		if r.disabled {
			r.disabled = false
			if r.started {
				r.inService(ReasonAdminEnabled)
			}
		}
	}
	return r.acts
}

func (r *Router) emit(a Action) { r.acts = append(r.acts, a) }

func (r *Router) transition(to State, why Reason) {
	r.emit(Action{Kind: Transition, From: r.state, To: to, Reason: why})
	r.state = to
	r.wantMaster = false
}

// WantsMaster reports whether the router, held by its sync group
// (Config.GroupHold), would be Master now: what the group waits for from
// every member before EventGroupMaster.
func (r *Router) WantsMaster() bool { return r.wantMaster }

func (r *Router) sendAdvert(prio uint8) {
	r.emit(Action{Kind: SendAdvert, Priority: prio})
	r.counters.SentAdvertisements++
	if prio == 0 {
		r.counters.SentPriZeroPackets++
	}
	r.sendV2Copy(prio)
}

func (r *Router) faulted() bool { return r.linkDown || r.trackFault || r.groupFault }

// OwnFault reports whether the router has a fault of its own (link down or
// a tracked object), not one its sync group imposes: what the other members
// of the group follow. A started router the operator disabled has one too:
// it cannot run, like a member whose interface is missing, so its group
// leaves Master on this box as a whole (keepalived holds a group in FAULT
// while any member is), instead of splitting its addresses between boxes.
func (r *Router) OwnFault() bool {
	return r.started && r.disabled || r.running && (r.linkDown || r.trackFault)
}

// Disabled reports whether the operator disabled the router (EventDisable).
func (r *Router) Disabled() bool { return r.disabled }

// --- Initialize (spec §6.1) ---

func (r *Router) startup() {
	if r.started {
		return
	}
	r.started = true
	if !r.disabled {
		r.inService(ReasonStartup)
	}
}

// inService puts the router in service: the startup rules, or Fault when a
// fault is known.
func (r *Router) inService(why Reason) {
	r.running = true
	if r.faulted() {
		why := ReasonTrackFault
		switch {
		case r.linkDown:
			why = ReasonLinkDown
		case !r.trackFault:
			why = ReasonGroupFault
		}
		r.transition(Fault, why)
		return
	}
	r.initialize(why)
}

// initialize applies the startup rules of Initialize.
func (r *Router) initialize(why Reason) {
	r.masterAdverInterval = r.cfg.AdvertInterval
	r.recompute()
	r.follow(netip.Addr{}, 0)
	if r.cfg.Owner() {
		r.becomeMaster(why) // [5798-6.4.1-a]
		return
	}
	// [5798-6.4.1-b]
	r.transition(Backup, why)
	r.downReason = ReasonMasterNoResponse
	r.startMasterDownTimer()
	r.resetPreemptDelay()
}

// becomeMaster: send an advert, then GARP / join + NA, Adver_Timer, → Master
// [5798-6.4.1-a] [5798-6.4.2-g].
func (r *Router) becomeMaster(why Reason) {
	r.transition(Master, why)
	r.sendAdvert(r.prio)
	r.emit(Action{Kind: AddAddresses})
	if r.cfg.Family == vrrp.IPv6 {
		r.emit(Action{Kind: JoinGroup})
	}
	r.emit(Action{Kind: Announce})
	r.startAdverTimer()
	r.resetPreemptDelay() // keepalived: a new delay each time it is Backup again
	r.follow(r.cfg.Primary, r.prio)
	r.masterSince = r.now
	r.bfdSuspect = why == ReasonBFDMasterDown
	if r.bfdSuspect {
		r.counters.BFDTakeovers++
	}
	r.counters.MasterTransitions++
	r.counters.NewMasterReason = why.newMasterReason()
}

// leaveMaster withdraws what becomeMaster installed. A split brain ends
// with our mastership.
func (r *Router) leaveMaster() {
	r.splitBrain.active = false
	r.emit(Action{Kind: RemoveAddresses})
	if r.cfg.Family == vrrp.IPv6 {
		r.emit(Action{Kind: LeaveGroup})
	}
}

func (r *Router) shutdown() {
	r.started = false
	r.outOfService(ReasonShutdown)
}

// outOfService takes the router out of service as the Shutdown event does.
func (r *Router) outOfService(why Reason) {
	if !r.running {
		return // shutdown in Initialize: no-op
	}
	r.running = false
	switch r.state {
	case Backup: // [5798-6.4.2-f]
		r.transition(Initialize, why)
	case Master: // [5798-6.4.3-g]
		r.transition(Initialize, why)
		r.sendAdvert(0)
		r.leaveMaster()
	case Fault:
		r.transition(Initialize, why)
	}
	r.stopAll()
	r.resetPreemptDelay()
}

// --- Adverts (spec §6.2, §6.3, §6.5) ---

func (r *Router) advert(ev Event) {
	r.counters.RcvdAdvertisements++
	if r.compatIgnore(ev) {
		return
	}
	if ev.Priority == 0 {
		r.counters.RcvdPriZeroPackets++
	}
	if r.state == Backup || r.state == Master {
		r.ownerAdvert(ev)
	}
	if r.state == Master {
		r.bfdFalseDown(ev)
	}
	switch r.state {
	case Backup:
		r.backupAdvert(ev)
	case Master:
		r.masterAdvert(ev)
	}
	// Initialize and Fault ignore adverts.
}

func (r *Router) backupAdvert(ev Event) {
	if ev.Priority == 0 {
		// [5798-6.4.2-h]: the Master resigned; the best Backup has the
		// shortest skew and takes over first.
		r.downReason = ReasonPriorityZero
		r.startSkewTimer()
		r.heardMaster(ev)
		return
	}
	preempt := (r.cfg.Preempt || r.cfg.Owner()) && !r.preemptHeld(ev.Priority) // [5798-6.1-f]
	if !preempt || ev.Priority >= r.prio {
		// [5798-6.4.2-i] [9568-6.4.2-a] [3768-6.4.2-a]
		r.wantMaster = false // a Master is heard again
		r.learnInterval(ev.Interval)
		r.follow(ev.Src, ev.Priority)
		r.downReason = ReasonMasterNoResponse
		r.startMasterDownTimer()
		return
	}
	// [5798-6.4.2-j]: discard; the running timer expiring is the preemption.
	r.downReason = ReasonPreempted
	r.heardMaster(ev)
}

// follow records the Master now followed (invalid: none known) and counts a
// change of Master: a valid address other than the last one followed, so a
// restart or a fault that hears the same Master again is none.
func (r *Router) follow(a netip.Addr, prio uint8) {
	r.masterAddr, r.masterPrio = a, prio
	if !a.IsValid() {
		return
	}
	if r.lastMaster.IsValid() && a != r.lastMaster {
		r.counters.MasterChanges++
	}
	r.lastMaster = a
}

// heardMaster: a Backup discarded an advert [5798-6.4.2-j] or had one start
// Skew_Time [5798-6.4.2-h]; from the Master it follows, its priority is
// what that Master now advertises.
func (r *Router) heardMaster(ev Event) {
	if ev.Src == r.masterAddr {
		r.masterPrio = ev.Priority
	}
}

func (r *Router) masterAdvert(ev Event) {
	if ev.Priority == 0 {
		// [5798-6.4.3-i]: answer at once so Backups do not take over,
		// within the bound of replyAllowed; a suppressed answer leaves
		// Adver_Timer on its schedule.
		if r.replyAllowed() {
			r.sendAdvert(r.prio)
			r.startAdverTimer()
		}
		// Only a Master resigns: another router was Master beside us.
		r.otherMaster(ev)
		return
	}
	cmp := compareAddr(ev.Src, r.cfg.Primary)
	switch {
	case ev.Priority > r.prio || (ev.Priority == r.prio && cmp > 0):
		// [5798-6.4.3-j] [9568-6.4.3-a]
		why := ReasonHigherPriority
		if ev.Priority == r.prio {
			why = ReasonAddressTieBreak
		}
		r.transition(Backup, why)
		// A deliberate addition (docs/CONFORMANCE.md): one last advert at
		// our priority. After a partition the winner may never have heard
		// us; this makes it answer as to any lower-priority Master
		// [9568-6.4.3-b] and announce the addresses again, so hosts that
		// learnt our MAC while we were Master follow it at once. Not to
		// an owner: a VRRPv2 owner discards it [3768-7.1-e], a VRRPv3
		// owner logs it as a conflict [E8298], and an owner taking over at
		// its startup is the common case.
		if ev.Priority != vrrp.PriorityOwner {
			r.sendAdvert(r.prio)
		}
		r.leaveMaster()
		r.learnInterval(ev.Interval)
		r.follow(ev.Src, ev.Priority)
		r.downReason = ReasonMasterNoResponse
		r.startMasterDownTimer()
	case ev.Priority == r.prio && cmp == 0:
		// Our own advert looped back [IMPL-6]: the receive path drops these;
		// replying here would start an advert storm.
		r.counters.OwnAdvertsIgnored++
	default:
		// [5798-6.4.3-k] discard; RFC 9568 asserts mastership at once
		// [9568-6.4.3-b], VRRPv2 never does [3768-6.4.3-a] [IMPL-7]. The
		// announce burst follows, in every version: a second Master may
		// have answered ARP for the addresses [IMPL-13].
		if r.cfg.Version == 3 && !r.cfg.NoReplyLower && r.replyAllowed() {
			r.sendAdvert(r.prio)
		}
		r.otherMaster(ev)
	}
}

// replyAllowed rate-limits the adverts a Master sends in answer to
// received ones (the priority-0 answer [5798-6.4.3-i] and the assertion to
// a lower-priority Master [9568-6.4.3-b]) to one per two
// Advertisement_Intervals, and announceAllowed the announcement burst after
// an assertion to one per two intervals and at most one a second: a
// deliberate addition (docs/CONFORMANCE.md). Without a bound a flood of
// such adverts from one host makes the Master send an advert and an
// announcement per packet received; with it a flood adds at most half the
// configured advert rate, plus at most one announcement burst (a message
// per VIP) per two intervals, so with one VIP the Master's packet rate at
// most doubles whatever arrives. The first answer is never delayed, so a
// real resignation or a real second Master is answered at once, as the
// RFCs ask, and the regular adverts answer the rest within an interval.
func (r *Router) replyAllowed() bool {
	if r.replied && r.now-r.lastReply < 2*r.cfg.AdvertInterval {
		r.counters.RepliesSuppressed++
		return false
	}
	r.replied, r.lastReply = true, r.now
	return true
}

func (r *Router) announceAllowed() bool {
	period := max(2*r.cfg.AdvertInterval, time.Second)
	if r.announced && r.now-r.lastAnnounce < period {
		return false
	}
	r.announced, r.lastAnnounce = true, r.now
	return true
}

// compareAddr compares IP addresses as unsigned big-endian integers
// [9568-6.4.3-a]; zones play no part.
func compareAddr(a, b netip.Addr) int {
	x, y := a.Unmap().As16(), b.Unmap().As16()
	for _, half := range [2]int{0, 8} {
		u, v := binary.BigEndian.Uint64(x[half:]), binary.BigEndian.Uint64(y[half:])
		if u != v {
			if u < v {
				return -1
			}
			return 1
		}
	}
	return 0
}

// --- Extensions: tracking and Fault ---

// setPriority applies a tracked priority. The owner's priority is fixed;
// others stay in 1..254 (0 and 255 have protocol meanings). The new value is
// on the wire with the next advert and in the next timer arming.
func (r *Router) setPriority(p uint8) {
	if r.cfg.Owner() {
		return
	}
	p = min(max(p, 1), vrrp.PriorityOwner-1)
	r.prio = p
	r.recompute()
}

func (r *Router) enterFault(why Reason) {
	if !r.running || r.state == Fault {
		return
	}
	was := r.state
	r.transition(Fault, why)
	if was == Master {
		// With the link up, resign like a shutdown so Backups take over in
		// Skew_Time; with it down nothing can be sent.
		if !r.linkDown {
			r.sendAdvert(0)
		}
		r.leaveMaster()
	}
	r.stopAll()
	r.resetPreemptDelay()
}

// groupBackup: a Master whose sync group went Backup resigns as at
// shutdown (a priority-0 advert, so the peer's member takes over within
// Skew_Time [5798-6.4.2-h]) and waits as a Backup [5798-6.4.2-d]. Other
// states have nothing to leave.
func (r *Router) groupBackup() {
	if r.state != Master {
		return
	}
	r.transition(Backup, ReasonGroupBackup)
	r.sendAdvert(0)
	r.leaveMaster()
	r.stopAll()
	r.masterAdverInterval = r.cfg.AdvertInterval
	r.recompute()
	r.follow(netip.Addr{}, 0)
	r.downReason = ReasonMasterNoResponse
	r.startMasterDownTimer()
}

func (r *Router) leaveFault() {
	if r.state != Fault || r.faulted() {
		return
	}
	r.transition(Initialize, ReasonFaultCleared)
	r.initialize(ReasonFaultCleared)
}
