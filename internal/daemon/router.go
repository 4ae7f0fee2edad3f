package daemon

import (
	"context"
	"errors"
	"fmt"
	"govrrp/bfd/session"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/deadline"
	"govrrp/internal/linux"
	"govrrp/internal/notify"
	"govrrp/internal/track"
	"govrrp/vrrp"
)

// vr is one virtual router: its state machine and what executes its
// actions. Everything in it belongs to its interface's loop and is only
// touched there (the fields set before add are read-only afterwards); it has
// no goroutine of its own.
type vr struct {
	d    *Daemon
	l    *loop
	cfg  *config.Router // an entry of the configuration it runs (never written through: a reload points it at the new entry)
	name string         // cfg.Name, which never changes: read by workers
	base *slog.Logger   // the daemon's; see logger
	fsm  *fsm.Router
	slot int // its worker

	// Read by the link watcher off the loop, under d.mu (linkChanged):
	// what of cfg a reload cannot change in place (needsRestart), fixed
	// when the router is created, and the advert's size, stored by the
	// loop whenever it points cfg at another entry (setCfg).
	iface      string
	fam        vrrp.Family
	source     netip.Addr // configured (cfg.Source), or none
	advertSize atomic.Int32

	send    sender // the loop's socket, or its own (VMAC, unicast)
	ownSend bool
	vmac    *linux.VMAC
	vrrpCfg *vrrp.Config // what the receive checks compare against
	msg     vrrp.Message // reused for every advert sent
	hooks   *notify.Runner

	// The loop's timer heap (timers.go): when it fires the pending timer.
	wake      deadline.Slot
	pendTimer fsm.Timer
	pendToken uint64

	tracked    []track.Object
	trackFault bool
	// held: its Startup waits for a script of weight 0 with init unknown
	// to have a first result (track.Waiting), as keepalived holds an
	// instance while such a script is in its INIT state.
	held        bool
	linkUp      bool
	since       time.Time
	transitions []transition   // the latest, oldest first
	prevAddrs   []netip.Prefix // the addresses before a reload, for removals
	guarded     bool           // holds an ARPGuard entry for its VIPs
	dropping    []netip.Addr   // the VIPs its AcceptGuard entry drops (Accept_Mode false), sorted
	routesOn    []config.Route // the routes and rules the loop had installed (setRoutes)
	extrasOn    []extraAddr    // the addresses with a device, label or scope, and excluded ones (setExtras)
	rulesOn     []config.Rule

	// transitionCounts counts every transition (transitions keeps the
	// latest) by states and reason, in the order each kind first happened:
	// a router has a handful of kinds, so a list costs a few bytes where
	// an array of every kind would cost most of a router's memory. Only a
	// kind's first transition appends; counting allocates nothing after.
	transitionCounts []transitionCount

	rxForm     [2]uint64 // by vrrp.ChecksumForm: which form peers use [IMPL-2]
	sendErrors uint64
	sendLog    throttle
	v3OnlyLog  throttle      // a VRRPv3 Master heard sending no VRRPv2 (v2_compat)
	conflicts  *conflicts    // split brains and two owners seen (conflict.go)
	vg         *versionGuard // peers on the other VRRP version (versionguard.go)
	// bad is allocated by the first advert that fails a check or carries
	// a warning: most routers never see one, and at thousands of routers
	// the counters would be most of their memory.
	bad *badAdverts

	// Its sync group (syncgroup.go), nil for most; what was last reported
	// to it; detached: taken off its loop as it was (interface gone).
	group        *syncGroup
	groupState   fsm.State
	groupFault   bool
	groupWant    bool
	groupWaiting bool
	detached     bool

	// startDisabled: the operator had disabled it when it was opened
	// (admin.go); start disables it before its Startup.
	startDisabled bool

	// Master–Backup BFD (bfdmaster.go): what it last asked for.
	mbOn            bool
	mbPeer, mbLocal netip.Addr
	mbParams        session.Config
}

// badAdverts counts, per receive check, the adverts of a router that were
// dropped or accepted with a warning, and throttles their log lines.
type badAdverts struct {
	discards, warnings [vrrp.NumChecks]uint64
	dropLog, warnLog   [vrrp.NumChecks]throttle
}

func (r *vr) badAdverts() *badAdverts {
	if r.bad == nil {
		r.bad = new(badAdverts)
	}
	return r.bad
}

// transition is a state change as status reports it, kept compact: a
// router keeps its last maxTransitions.
type transition struct {
	at       time.Time
	from, to fsm.State
	reason   fsm.Reason
	priority uint8
}

// fsmConfig turns a configuration entry into state-machine parameters.
func fsmConfig(c *config.Router, primary netip.Addr) fsm.Config { return c.FSM(primary) }

// fsmConfig is fsmConfig for r: a member of a sync group waits for the
// group before becoming Master (syncgroup.go).
func (r *vr) fsmConfig(c *config.Router, primary netip.Addr) fsm.Config {
	fc := fsmConfig(c, primary)
	fc.GroupHold = r.group != nil
	return fc
}

// startRouters builds virtual routers and puts them on their interfaces'
// loops, which start them. Opening a router is the slow part (netlink,
// sockets, a VMAC); once all are open, each loop takes all of its routers
// in one message, so that routers of the same priority and interval start
// in the same instant and send their adverts together from the first one
// on (timers.go), instead of drifting together over a hundred intervals.
// It returns the routers started and, for each that was not, its error.
// Called with d.mu held.
func (d *Daemon) startRouters(cs []*config.Router) (started []*vr, failed map[string]error) {
	failed = map[string]error{}
	var loops []*loop
	byLoop := map[*loop][]*vr{}
	for _, c := range cs {
		r := &vr{d: d, name: c.Name, base: d.log, since: time.Now(), slot: d.work.slot(c.Name), group: d.groups[c.Name],
			startDisabled: d.isDisabled(c.Name), iface: c.Interface, fam: c.Family, source: c.Source()}
		r.setCfg(c)
		l, err := r.open()
		if err == nil {
			for _, o := range byLoop[l] {
				if o.cfg.VRID == c.VRID {
					err = fmt.Errorf("VRID %d already runs on %s", c.VRID, c.Interface)
				}
			}
		}
		if err != nil {
			r.close()
			failed[c.Name] = err
			continue
		}
		if byLoop[l] == nil {
			loops = append(loops, l)
		}
		byLoop[l] = append(byLoop[l], r)
		d.routers[c.Name] = r
	}
	for _, l := range loops {
		rs := byLoop[l]
		if !l.do(func() {
			// One instant for all: the same Master_Down_Timer deadline
			// for routers of the same priority and interval.
			at := l.clock.Now()
			for _, r := range rs {
				l.add(r, at)
			}
		}) {
			for _, r := range rs {
				r.close()
				failed[r.name] = fmt.Errorf("the loop of %s stopped", r.cfg.Interface)
			}
			continue
		}
		started = append(started, rs...)
	}
	return started, failed
}

// open acquires the loop, VMAC, sockets and helpers of the router and
// builds its state machine; the loop is returned for add.
func (r *vr) open() (*loop, error) {
	d, c := r.d, r.cfg
	// An earlier instance killed with -9 may have left our VIPs behind:
	// a Backup holding them would answer ARP for them. An owner's
	// addresses are the interface's own: never ours to remove.
	if !c.Owner() {
		if _, err := d.addrs.Flush(c.Interface, c.VIPs()); err != nil {
			r.logger().Debug("flush stale addresses", "err", err)
		}
	}
	// And its other addresses (on other devices, excluded ones), and its
	// routes and rules: exactly the configured ones.
	byDev := map[string][]netip.Addr{}
	for _, x := range r.extras() {
		byDev[x.dev] = append(byDev[x.dev], x.p.Addr())
	}
	for dev, addrs := range byDev {
		if _, err := d.addrs.Flush(dev, addrs); err != nil {
			r.logger().Debug("flush stale addresses", "dev", dev, "err", err)
		}
	}
	if err := d.routes.Flush(toLinux(c.Routes, c.Rules)); err != nil {
		r.logger().Debug("flush stale routes and rules", "err", err)
	}
	l, err := d.openLoop(ifaceKey{c.Interface, c.Family})
	if err != nil {
		return nil, err
	}
	var busy bool
	l.do(func() { busy = l.routers[c.VRID] != nil })
	if busy {
		d.releaseLoopIfIdle(l)
		return nil, fmt.Errorf("VRID %d already runs on %s", c.VRID, c.Interface)
	}
	r.l = l
	d.loopRefs[l]++
	r.send = l.sock
	primary := l.sock.Source()
	if c.VMAC {
		r.vmac, err = d.vmacs.Create(linux.VMACConfig{Parent: c.Interface, VRID: c.VRID, Family: c.Family})
		if err != nil {
			return nil, err // names the macvlan and its parent
		}
		// IPv4: the parent answers ARP for any local address, so its
		// replies for the VIPs are dropped. IPv6: only an owner's VIPs are
		// also the parent's addresses, answered by it with its MAC.
		if c.Family == vrrp.IPv4 || c.Owner() {
			if d.arpGuard == nil {
				if d.arpGuard, err = linux.NewARPGuard(-1); err != nil {
					return nil, fmt.Errorf("VMAC needs nftables to keep %s from answering ARP for the VIPs with its own MAC: %w", c.Interface, err)
				}
			}
			if err := d.arpGuard.Guard(c.Interface, c.VIPs()); err != nil {
				return nil, fmt.Errorf("ARP guard on %s: %w", c.Interface, err)
			}
			r.guarded = true
			// The parent's own address (IPv4 primary, IPv6 link-local)
			// replaces a VIP as the source of its ARP requests and
			// neighbour solicitations (linux.ARPGuard); updateSource
			// follows it.
			if err := d.arpGuard.SetSource(c.Interface, primary); err != nil {
				return nil, fmt.Errorf("ARP guard on %s: %w", c.Interface, err)
			}
		}
		if c.Family == vrrp.IPv6 {
			// Each router's VMAC has its own random link-local: adverts come
			// from it, so the tie-break and DAD never see two routers share
			// an address (spec §9.1).
			primary = r.vmac.LinkLocal
		}
	}
	if vips := r.acceptDrops(); len(vips) > 0 && d.accept != nil {
		// Before the router can become Master, off its loop like the
		// rest of open.
		if err := d.accept.Set(r.name, r.addrDevice(), vips); err != nil {
			r.logger().Error("accept: false not enforced", "addresses", vips, "err", err)
		} else {
			r.dropping = vips
		}
	}
	if src := c.Source(); src.IsValid() {
		// unicast_source (keepalived unicast_src_ip): unicast adverts
		// leave from it, IPv6 ones too instead of a link-local;
		// multicast_source (mcast_src_ip): multicast ones, on a socket
		// of the router's own. Either is the address peers know us by:
		// our own adverts, the tie-break. It does not follow the
		// interface (updateSource).
		primary = src
	}
	if c.VMAC || len(c.UnicastPeers) > 0 || c.MulticastSource.IsValid() {
		dev := c.Interface
		if r.vmac != nil {
			dev = r.vmac.Name
		}
		s, err := d.openSender(linux.ConnConfig{Interface: dev, Family: c.Family, Source: primary, Exclude: d.isVIP, Peers: c.UnicastPeers, SendOnly: true, Netlink: d.nl})
		if err != nil {
			return nil, err // linux: vrrp send socket on <dev> (<family>): ...
		}
		r.send, r.ownSend = s, true
	}
	r.fsm, err = fsm.New(r.fsmConfig(c, primary), l.clock)
	if err != nil {
		return nil, err
	}
	r.setMessage(c)
	r.vrrpCfg = &vrrp.Config{
		Version: c.Version, Priority: c.Priority, Interval: c.AdvertInterval, Addresses: c.VIPs(),
		AuthType: r.msg.AuthType, AuthData: r.msg.AuthData, Checksum: c.Checksum,
		Local: primary, Peers: c.UnicastPeers, Strict: c.Strict, V2Compat: c.V2Compat,
	}
	r.hooks = d.newHooks(c, r.logger())
	if done := d.hooksDone[c.Name]; done != nil && r.hooks != nil {
		r.hooks.After(done) // its hooks from waiting in Fault first
	}
	for _, t := range c.Track.Interfaces {
		// Their state now, so the router starts at the priority (or in
		// the Fault) they give: the link watcher reports only later.
		failed := !d.linkState(t.Name).Usable()
		r.tracked = append(r.tracked, track.Object{Name: "interface:" + t.Name, Weight: t.Weight, Failed: failed})
	}
	for _, t := range c.Track.Scripts {
		r.tracked = append(r.tracked, d.scriptObject(t, d.cfg))
	}
	r.tracked = append(r.tracked, d.fileObjects(c)...)
	for _, t := range c.Track.BFD {
		r.tracked = append(r.tracked, track.Object{Name: bfdObjectName(t.Name), Weight: t.Weight, Failed: d.bfdFailed(t)})
	}
	r.linkUp = d.linkState(c.Interface).Usable()
	return l, nil
}

// logger returns a logger naming the router. It is made for each line
// (lines are rare, and off the loop) rather than kept: at thousands of
// routers a logger each would be a fifth of their memory.
func (r *vr) logger() *slog.Logger { return r.base.With("router", r.name) }

// setCfg points the router at configuration entry c: before it runs, then
// on its loop.
func (r *vr) setCfg(c *config.Router) {
	r.cfg = c
	r.advertSize.Store(int32(config.AdvertSize(c)))
}

// advertFits says whether the router's adverts fit an MTU of mtu (unknown:
// 0), as config.AdvertTooBig; read off the loop.
func (r *vr) advertFits(mtu int) bool {
	return mtu <= 0 || int(r.advertSize.Load()) <= mtu
}

// trackLink applies a link snapshot to the router's tracked interfaces:
// on the loop, where cfg, which a reload changes, is read.
func (r *vr) trackLink(st linux.LinkState) {
	for _, t := range r.cfg.Track.Interfaces {
		if t.Name == st.Name {
			r.setTracked("interface:"+st.Name, !st.Usable())
		}
	}
}

// setMessage prepares the advert the router sends, from c.
func (r *vr) setMessage(c *config.Router) {
	r.msg = vrrp.Message{Version: c.Version, Type: vrrp.TypeAdvertisement, VRID: c.VRID, Family: c.Family,
		Interval: c.AdvertInterval, Addresses: c.VIPs(), Priority: r.msg.Priority}
	if c.AuthType == vrrp.AuthPassword {
		r.msg.AuthType = vrrp.AuthPassword
		r.msg.AuthData, _ = vrrp.Password(c.AuthPassword)
	}
}

// start runs the router's startup on its loop: link state and tracking
// first, so it starts in Fault when it must; a router the operator disabled
// is disabled first, so it starts nothing.
func (r *vr) start(at time.Duration) {
	if r.startDisabled {
		r.handle(fsm.Event{Kind: fsm.EventDisable})
	}
	if !r.linkUp {
		r.handle(fsm.Event{Kind: fsm.EventLinkDown})
	}
	r.applyTracking()
	if track.Waiting(r.tracked) {
		r.held = true // releaseHeld starts it
		r.groupSync(nil)
		return
	}
	r.handle(fsm.Event{Kind: fsm.EventStartup, At: at})
}

// close releases what open acquired, once the router is off its loop and
// its effects have run. Called with d.mu held.
func (r *vr) close() {
	d := r.d
	if r.ownSend && r.send != nil {
		r.send.Close()
	}
	if r.hooks != nil {
		closeHooks(r.hooks, d.hookTimeout)
	}
	if r.l != nil {
		d.releaseLoop(r.l)
	}
	d.announcer.Stop(r.announceKey())
	for _, k := range r.devAnnounceKeys() {
		d.announcer.Stop(k)
	}
	removeRoutes(d.routes, r.cfg.Routes, r.cfg.Rules) // before the addresses
	for _, x := range append(r.extras(), r.extrasOn...) {
		_ = d.addrs.Remove(x.dev, x.p)
	}
	if !r.ownsAddresses() {
		for _, p := range r.cfg.Addresses {
			_ = d.addrs.Remove(r.addrDevice(), p)
		}
	}
	if r.vmac != nil {
		_ = d.vmacs.Remove(r.vmac.Name)
	}
	if r.guarded {
		_ = d.arpGuard.Release(r.cfg.Interface, r.cfg.VIPs())
	}
	if d.accept != nil && r.dropping != nil {
		// After the addresses. Stop and Apply have released it already,
		// all routers in one commit.
		_ = d.accept.Forget(r.name)
	}
	d.mbForget(r)
	delete(d.routers, r.cfg.Name)
}

// received handles an advert that passed the receive checks. On the loop.
func (r *vr) received(m *vrrp.Message, res vrrp.Result, src netip.Addr, at time.Duration) {
	if m.Version == r.cfg.Version {
		// Not the VRRPv2 adverts of the interoperation mode: the
		// counters say which VRRPv3 form peers use.
		r.rxForm[res.Form&1]++
	}
	r.heardFrom(src, at)
	if res.Warnings != 0 {
		for c := range vrrp.NumChecks {
			if res.Warnings.Has(c) {
				b := r.badAdverts()
				b.warnings[c]++
				if n, ok := b.warnLog[c].hit(at, logPeriod); ok {
					r.l.emit(effect{kind: effLog, r: r, msg: "advert accepted with a warning", check: c, err: c.Err(), count: n, src: src})
				}
			}
		}
	}
	ev := fsm.AdvertAt(src, m.Priority, m.Interval, at)
	ev.Version = m.Version
	var v3only uint64
	if r.cfg.V2Compat {
		v3only = r.fsm.Status().Counters.V3WithoutV2
	}
	r.handle(ev)
	if r.cfg.V2Compat && r.fsm.Status().Counters.V3WithoutV2 != v3only {
		// RFC 5798 §8.4.2 lets us say so: a VRRPv3 Master not in the
		// interoperation mode, which the VRRPv2 routers cannot hear.
		if n, ok := r.v3OnlyLog.hit(at, logPeriod); ok {
			r.l.emit(effect{kind: effLog, r: r, msg: msgV3Only, src: src, count: n})
		}
	}
	r.l.rearm(r)
}

// msgV3Only is the log line about a VRRPv3 Master heard in the
// interoperation mode that sends no VRRPv2 adverts.
const msgV3Only = "a VRRPv3 master sends no VRRPv2 adverts: is it in the v2/v3 interoperation mode (v2_compat)?"

// discard counts an advert for this router that failed a receive check;
// quiet when the version guard reports it instead.
func (r *vr) discard(c vrrp.Check, err error, src netip.Addr, at time.Duration, quiet bool) {
	b := r.badAdverts()
	b.discards[c]++
	if quiet {
		return
	}
	if n, ok := b.dropLog[c].hit(at, logPeriod); ok {
		r.l.emit(effect{kind: effLog, r: r, msg: "advert dropped", check: c, err: err, count: n, src: src})
	}
}

func (r *vr) sendFailed(err error) {
	r.sendErrors++
	if n, ok := r.sendLog.hit(r.l.clock.Now(), logPeriod); ok {
		r.l.emit(effect{kind: effLog, r: r, msg: "advert not sent", err: err, count: n})
	}
}

// handle feeds one event to the state machine and executes its actions.
// Callers on the loop re-arm the router's timer afterwards (rearm).
func (r *vr) handle(ev fsm.Event) {
	acts := r.fsm.Handle(ev)
	r.exec(acts)
	r.groupSync(acts)
	r.mbFollow()
}

// exec executes actions in order. Adverts go into the socket's batch (the
// loop writes it at the end of the step, or at once for a new Master);
// everything slow becomes an effect, run by the router's worker after the
// adverts have left.
func (r *vr) exec(acts []fsm.Action) {
	urgent, transitions := false, false
	gate := r.vmacGate(acts)
	if gate != nil && gate.master {
		// Before the addresses and the announcement: no host is told
		// to use the VMAC before the macvlan takes what is sent to it
		// [9568-8.1.2-a].
		r.l.emit(*gate)
	}
	for _, a := range acts {
		switch a.Kind {
		case fsm.Transition:
			transitions = true
			urgent = urgent || a.To == fsm.Master
		case fsm.SendAdvert:
			r.msg.Priority = a.Priority
			if a.Version != 0 && a.Version != r.msg.Version {
				// The VRRPv2 copy of the interoperation mode
				// [5798-8.4.2-c], in the same batch: the message is
				// encoded as it is queued. Its Adver Int is the whole
				// seconds of the interval, its auth type none
				// [IMPL-15].
				r.msg.Version = a.Version
				r.l.queue(r, r.send, &r.msg, r.cfg.Checksum)
				r.msg.Version = r.cfg.Version
				continue
			}
			r.l.queue(r, r.send, &r.msg, r.cfg.Checksum)
		case fsm.AddAddresses:
			if !r.ownsAddresses() {
				// A VIP a reload adds: its drop goes in first, so it
				// never accepts, not even for a moment [5798-6.4.3-f].
				r.syncAccept()
				r.l.emit(effect{kind: effAddAddresses, r: r, dev: r.addrDevice(), prefixes: r.prefixes(a.Addr), noSource: !r.cfg.Accept && !r.cfg.Owner()})
			}
			if !a.Addr.IsValid() {
				// Becoming Master: the other addresses, then the routes
				// and rules (a route's source may be any of them).
				r.setExtras(r.extras())
				r.setRoutes(r.cfg.Routes, r.cfg.Rules)
			}
		case fsm.RemoveAddresses:
			if !a.Addr.IsValid() {
				// Leaving Master: the routes and rules go first.
				r.setRoutes(nil, nil)
				r.setExtras(nil)
				if keys := r.devAnnounceKeys(); keys != nil {
					r.l.emit(effect{kind: effStopAnnounce, r: r, annKeys: keys})
				}
			}
			e := effect{kind: effRemoveAddresses, r: r, dev: r.addrDevice(), announce: r.announceKey()}
			if !r.ownsAddresses() {
				e.prefixes = r.prefixes(a.Addr)
			}
			if a.Addr.IsValid() {
				e.announce = linux.AnnounceKey{} // one address of a reload: the job runs on
			}
			r.l.emit(e)
		case fsm.Announce:
			r.announce(a.Addr)
		case fsm.SplitBrain, fsm.TwoOwners, fsm.BFDFalseDown:
			r.conflict(a)
		case fsm.JoinGroup, fsm.LeaveGroup:
			// The kernel joins (and leaves) the solicited-node group of an
			// IPv6 address when it is added (removed) [5798-6.4.3-b].
		}
	}
	if transitions {
		// The bookkeeping (log line, event, hooks) follows the rest, so
		// hooks run once the addresses are in place.
		for _, a := range acts {
			if a.Kind == fsm.Transition {
				r.transitioned(a)
			}
		}
	}
	if gate != nil && !gate.master {
		r.l.emit(*gate)
	}
	if urgent {
		// A new Master's first advert goes out before anything else.
		r.l.flush()
	}
}

// acceptDrops returns the VIPs the AcceptGuard must drop for the router,
// sorted: all of them for a non-owner with Accept_Mode false, else none.
//
// They are dropped for as long as the router runs, whatever its state:
// without the address (Backup, Fault) the kernel delivers nothing to it, so
// the drop only matters once the address is there, and it is already in
// place then. Following each transition instead would cost a netfilter
// commit per Backup transition, and one that deletes set elements waits for
// an RCU grace period (about 15 ms here): 15 s of worker time for a
// thousand routers stepping down.
func (r *vr) acceptDrops() []netip.Addr {
	if r.cfg.Owner() || r.cfg.Accept {
		return nil
	}
	vips := r.cfg.VIPs()
	slices.SortFunc(vips, netip.Addr.Compare)
	return slices.Compact(vips)
}

// syncAccept has the worker bring the router's AcceptGuard entry to
// acceptDrops, in order with its address effects: called before the
// addresses a reload adds, and after the rest of a reload (removed VIPs,
// accept toggled). On the loop.
func (r *vr) syncAccept() {
	if r.d == nil || r.d.accept == nil {
		return // no guard (nftables unusable, or a unit test's bare loop)
	}
	want := r.acceptDrops()
	if slices.Equal(want, r.dropping) {
		return
	}
	r.dropping = want
	r.l.emit(effect{kind: effAccept, r: r, dev: r.addrDevice(), vips: want})
}

// vmacGate returns the effect that opens the VMAC macvlan's gate when acts
// make the router Master, or closes it when they end its mastership; nil
// when they do neither or there is no VMAC. Only a Master's macvlan takes
// frames addressed to the VMAC [5798-6.4.2-d].
func (r *vr) vmacGate(acts []fsm.Action) *effect {
	if r.vmac == nil {
		return nil
	}
	var e *effect
	for _, a := range acts {
		if a.Kind == fsm.Transition && (a.To == fsm.Master) != (a.From == fsm.Master) {
			e = &effect{kind: effVMACGate, r: r, dev: r.vmac.Name, master: a.To == fsm.Master}
		}
	}
	return e
}

// addrDevice is where the VIPs live: the VMAC macvlan or the interface.
func (r *vr) addrDevice() string {
	if r.vmac != nil {
		return r.vmac.Name
	}
	return r.cfg.Interface
}

// prefixes returns the configured prefixes of the action's address: all of
// them for the zero Addr, else the one of that address (looked up in the
// previous configuration too, for a removal during a reload).
//
// Addresses with a device, label or scope are not among them: setExtras
// has them.
func (r *vr) prefixes(only netip.Addr) []netip.Prefix {
	if !only.IsValid() {
		if r.cfg.AddrOpts == nil {
			return r.cfg.Addresses
		}
		var out []netip.Prefix
		for _, p := range r.cfg.Addresses {
			if _, ok := r.cfg.AddrOpts[p.Addr()]; !ok {
				out = append(out, p)
			}
		}
		return out
	}
	if _, ok := r.cfg.AddrOpts[only]; ok {
		return nil
	}
	for _, p := range append(r.cfg.Addresses, r.prevAddrs...) {
		if p.Addr() == only {
			return []netip.Prefix{p}
		}
	}
	return []netip.Prefix{netip.PrefixFrom(only, only.BitLen())}
}

// ownsAddresses reports whether the VIPs are real addresses of the
// interface (priority 255) and nothing more: they are there before govrrpd
// starts and stay after it stops, whatever the state, so the daemon neither
// installs them (which would record them for removal) nor removes them. An
// owner with a VMAC also gets them on its macvlan while Master, as any
// Master, so the VMAC answers ARP and NS for them while the guard silences
// the parent's copies [5798-8.1.2-a][5798-8.2.2-a][5798-8.1.2-c][5798-8.2.2-d].
// Accept_Mode asks r.cfg.Owner() instead: an owner accepts, VMAC or not.
func (r *vr) ownsAddresses() bool { return r.cfg.Owner() && r.vmac == nil }

func (r *vr) announceKey() linux.AnnounceKey {
	return linux.AnnounceKey{Interface: r.addrDevice(), VRID: r.cfg.VRID, IPv6: r.cfg.Family == vrrp.IPv6}
}

func (r *vr) announce(only netip.Addr) {
	var mac net.HardwareAddr
	if r.vmac != nil {
		mac = r.vmac.MAC
	}
	// VIPs on other devices are announced there, from the device's own
	// MAC, each device a job of its own.
	byDev := map[string][]netip.Addr{}
	var devs []string
	for _, v := range r.cfg.VIPs() {
		dev := r.addrDevice()
		if d := r.cfg.AddrOpts[v].Dev; d != "" {
			dev = d
		}
		if only.IsValid() && v != only {
			// A new address of a reload: one burst for it alone. (Jobs
			// are keyed by router, so this replaces a refresh job; the
			// next transition to Master restarts the full one.)
			continue
		}
		if byDev[dev] == nil {
			devs = append(devs, dev)
		}
		byDev[dev] = append(byDev[dev], v)
	}
	a := r.cfg.Announce
	for _, dev := range devs {
		e := effect{kind: effAnnounce, r: r, announce: r.announceKey(), mac: mac, vips: byDev[dev],
			annCfg: linux.AnnounceConfig{Repeat: a.Repeat, Delay: a.Delay, Refresh: a.Refresh}}
		if dev != r.addrDevice() {
			e.announce.Interface, e.mac = dev, nil
		}
		r.l.emit(e)
	}
}

// devAnnounceKeys returns the announcement jobs of the VIPs on other
// devices than the router's (announce).
func (r *vr) devAnnounceKeys() []linux.AnnounceKey {
	var keys []linux.AnnounceKey
	for _, v := range r.cfg.VIPs() {
		if d := r.cfg.AddrOpts[v].Dev; d != "" && d != r.addrDevice() {
			k := r.announceKey()
			k.Interface = d
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// transitioned records a state change on the loop (status reads it there)
// and hands the log line, the event and the hooks to the worker.
func (r *vr) transitioned(a fsm.Action) {
	now := time.Now()
	r.since = now
	st := r.fsm.Status()
	ev := api.Event{Time: now, Router: r.cfg.Name, Type: "transition", From: a.From.String(), To: a.To.String(), Reason: a.Reason.String(), Priority: st.Priority}
	if len(r.transitions) == maxTransitions {
		r.transitions = append(r.transitions[:0], r.transitions[1:]...)
	}
	r.transitions = append(r.transitions, transition{at: now, from: a.From, to: a.To, reason: a.Reason, priority: st.Priority})
	r.countTransition(a)
	r.l.emit(effect{kind: effTransition, r: r, ev: ev, hooks: r.hooks, note: notify.Event{Router: r.cfg.Name, From: ev.From, To: ev.To, Reason: ev.Reason,
		Interface: r.cfg.Interface, VRID: r.cfg.VRID, Family: r.cfg.Family.String(), Priority: st.Priority}})
}

// transitionCount is how many transitions of one kind a router made.
type transitionCount struct {
	from, to fsm.State
	reason   fsm.Reason
	n        uint64
}

// countTransition counts a in transitionCounts. On the loop.
func (r *vr) countTransition(a fsm.Action) {
	for i := range r.transitionCounts {
		if c := &r.transitionCounts[i]; c.from == a.From && c.to == a.To && c.reason == a.Reason {
			c.n++
			return
		}
	}
	r.transitionCounts = append(r.transitionCounts, transitionCount{from: a.From, to: a.To, reason: a.Reason, n: 1})
}

// maxTransitions is how many past transitions a router keeps for status.
const maxTransitions = 32

// setTracked records a tracked object's state and applies the result. On
// the loop.
func (r *vr) setTracked(name string, failed bool) {
	changed := false
	for i := range r.tracked {
		if o := &r.tracked[i]; o.Name == name && (o.Failed != failed || o.Unknown) {
			o.Failed, o.Unknown, changed = failed, false, true
		}
	}
	if changed {
		r.l.emit(effect{kind: effEvent, r: r, msg: "tracked object changed", ev: api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "track", Detail: fmt.Sprintf("%s failed=%v", name, failed)}})
		r.applyTracking()
		r.releaseHeld()
	}
	r.l.rearm(r)
}

// releaseHeld starts a router held in Initialize (start) once nothing it
// tracks keeps it waiting: a script's first result (setTracked), or a
// reload that removed the tracking or gave it a weight (reconfigure). On
// the loop.
func (r *vr) releaseHeld() {
	if r.held && !track.Waiting(r.tracked) {
		r.held = false
		r.handle(fsm.Event{Kind: fsm.EventStartup, At: r.l.eventTime(r.l.clock.Now())})
	}
}

// applyTracking turns the tracked objects into a priority and a fault.
func (r *vr) applyTracking() {
	prio, fault := track.Effective(r.cfg.Priority, r.tracked)
	if prio != r.fsm.Status().Priority {
		r.handle(fsm.SetPriority(prio))
		r.l.emit(effect{kind: effEvent, r: r, ev: api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "priority", Priority: prio}})
	}
	if fault != r.trackFault {
		r.trackFault = fault
		if fault {
			r.handle(fsm.Event{Kind: fsm.EventFault})
		} else {
			r.handle(fsm.Event{Kind: fsm.EventFaultCleared})
		}
	}
}

// setLink applies the interface's state. On the loop.
func (r *vr) setLink(st linux.LinkState) {
	up := st.Usable()
	if up == r.linkUp {
		return
	}
	r.linkUp = up
	if up {
		r.handle(fsm.Event{Kind: fsm.EventLinkUp})
	} else {
		r.handle(fsm.Event{Kind: fsm.EventLinkDown})
	}
	r.l.rearm(r)
}

// setSource follows a change of the advert source (spec §2): the socket
// sends from it, the receive checks recognise it as ours, and the
// tie-break compares it. On the loop.
func (r *vr) setSource(src netip.Addr) {
	r.send.SetSource(src)
	r.vrrpCfg.Local = src
	r.handle(fsm.SetPrimary(src))
	r.l.rearm(r)
}

// newHooks returns the runner of a router's notify hooks, nil when it has
// none.
func (d *Daemon) newHooks(c *config.Router, log *slog.Logger) *notify.Runner {
	return notify.NewHooks(notify.Hooks{
		Notify: c.Notify, Master: c.Hooks.Master, Backup: c.Hooks.Backup, Fault: c.Hooks.Fault, Stop: c.Hooks.Stop,
		Keepalived: c.Hooks.Generic, Type: "INSTANCE", Cred: d.hookCred,
	}, d.hookTimeout, log)
}

// closeHooks lets a notify runner finish its queue, within bounds.
func closeHooks(h *notify.Runner, hookTimeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*hookTimeout)
	defer cancel()
	h.Close(ctx)
}

// apply runs one effect on a worker.
func (d *Daemon) apply(e effect) {
	r := e.r
	switch e.kind {
	case effAddAddresses:
		add := d.addrs.Add
		if e.noSource {
			add = d.addrs.AddNoSource
		}
		for _, p := range e.prefixes {
			err := add(e.dev, p)
			k := hostAddrKey{e.dev, p.Addr()}
			switch {
			case err == nil:
				d.notOurs.Delete(k)
			case errors.Is(err, linux.ErrNotOurs):
				// The host's address (the operator's, networkd's), added
				// while the router runs: left alone, not withdrawn when
				// leaving Master. Said once, not at every transition.
				if _, said := d.notOurs.LoadOrStore(k, true); !said {
					r.logger().Error("a virtual address is the host's own address of the interface: not installed, and never removed, by govrrpd; remove it from the interface or from the configuration", "address", p, "interface", e.dev, "err", err)
				}
			default:
				r.logger().Error("install virtual address", "address", p, "err", err)
			}
		}
	case effRemoveAddresses:
		if e.announce != (linux.AnnounceKey{}) {
			d.announcer.Stop(e.announce)
		}
		for _, p := range e.prefixes {
			if err := d.addrs.Remove(e.dev, p); err != nil {
				r.logger().Error("remove virtual address", "address", p, "err", err)
			}
		}
	case effAddExtras:
		for _, x := range e.extras {
			add := func() error { return d.addrs.AddWith(x.dev, x.p, x.label, x.scope) }
			if x.noSource {
				add = func() error { return d.addrs.AddNoSource(x.dev, x.p) }
			}
			if err := add(); err != nil {
				r.logger().Error("install address", "address", x.p, "dev", x.dev, "err", err)
			}
		}
	case effRemoveExtras:
		for _, x := range e.extras {
			if err := d.addrs.Remove(x.dev, x.p); err != nil {
				r.logger().Error("remove address", "address", x.p, "dev", x.dev, "err", err)
			}
		}
	case effStopAnnounce:
		for _, k := range e.annKeys {
			d.announcer.Stop(k)
		}
	case effAddRoutes:
		addRoutes(d.routes, e.routes, e.rules, r.logger())
	case effRemoveRoutes:
		for _, err := range removeRoutes(d.routes, e.routes, e.rules) {
			r.logger().Error("remove route or rule", "err", err)
		}
	case effAccept:
		if d.accept == nil {
			return // nftables unusable: said once at start
		}
		if err := d.accept.Set(r.name, e.dev, e.vips); err != nil {
			r.logger().Error("accept: false not enforced", "addresses", e.vips, "err", err)
		}
	case effVMACGate:
		if err := d.vmacs.SetMaster(e.dev, e.master); err != nil {
			r.logger().Error("VMAC gate", "master", e.master, "err", err)
		}
	case effAnnounce:
		if err := d.announcer.StartWith(e.announce, e.mac, e.vips, e.annCfg); err != nil {
			r.logger().Warn("announce", "err", err)
		}
	case effGroup:
		e.group.apply(e.report)
	case effTransition:
		r.logger().Info("transition", "from", e.ev.From, "to", e.ev.To, "reason", e.ev.Reason, "priority", e.ev.Priority)
		d.events.publish(e.ev)
		if e.hooks != nil {
			e.hooks.Notify(e.note)
		}
	case effEvent:
		if e.msg != "" {
			r.logger().Info(e.msg, "detail", e.ev.Detail)
		}
		d.events.publish(e.ev)
	case effLog:
		d.logEffect(e)
	case effConflict:
		d.logConflict(e)
	}
}

// logEffect writes a throttled warning, and publishes drops as events.
func (d *Daemon) logEffect(e effect) {
	if e.r == nil {
		k := e.loop.key
		if e.check == vrrp.CheckOther && e.msg == "" {
			d.log.Warn("socket filter", "interface", k.name, "family", k.fam.String(), "err", e.err)
			return
		}
		d.log.Warn("advert dropped", "interface", k.name, "family", k.fam.String(), "vrid", e.vrid, "from", e.src, "reason", e.check.String(), "err", e.err, "count", e.count)
		return
	}
	r := e.r
	switch e.msg {
	case "advert dropped":
		r.logger().Warn(e.msg, "from", e.src, "reason", e.check.String(), "err", e.err, "count", e.count)
		d.events.publish(api.Event{Time: time.Now(), Router: r.name, Type: "discards", Reason: e.check.String(), Source: addrString(e.src), Detail: fmt.Sprintf("%d dropped: %v", e.count, e.err)})
	case "advert accepted with a warning":
		r.logger().Warn(e.msg, "from", e.src, "reason", e.check.String(), "err", e.err, "count", e.count)
	case msgV3Only:
		r.logger().Warn(e.msg, "from", e.src, "count", e.count)
	case msgVersionMismatch:
		d.logVersionMismatch(e)
	default:
		r.logger().Warn(e.msg, "err", e.err, "count", e.count)
	}
}

// setRoutes has the worker bring the router's installed routes and rules
// to routes and rules (nil: none, on leaving Master): what is no longer
// wanted goes, rules first, then what is new comes, routes first. On the
// loop; r.routesOn and r.rulesOn are what it asked for last.
func (r *vr) setRoutes(routes []config.Route, rules []config.Rule) {
	var rm effect
	rm.kind, rm.r = effRemoveRoutes, r
	for _, rt := range r.routesOn {
		if !slices.Contains(routes, rt) {
			rm.routes = append(rm.routes, rt)
		}
	}
	for _, ru := range r.rulesOn {
		if !slices.Contains(rules, ru) {
			rm.rules = append(rm.rules, ru)
		}
	}
	add := effect{kind: effAddRoutes, r: r}
	for _, rt := range routes {
		if !slices.Contains(r.routesOn, rt) {
			add.routes = append(add.routes, rt)
		}
	}
	for _, ru := range rules {
		if !slices.Contains(r.rulesOn, ru) {
			add.rules = append(add.rules, ru)
		}
	}
	if len(rm.routes)+len(rm.rules) > 0 {
		r.l.emit(rm)
	}
	if len(add.routes)+len(add.rules) > 0 {
		r.l.emit(add)
	}
	r.routesOn, r.rulesOn = slices.Clone(routes), slices.Clone(rules)
}

// toLinux is routes and rules as the data plane installs them:
// internal/linux knows no configuration (docs:TestLayering).
func toLinux(routes []config.Route, rules []config.Rule) ([]linux.Route, []linux.Rule) {
	lroutes := make([]linux.Route, len(routes))
	for i, rt := range routes {
		lroutes[i] = linux.Route{To: rt.To, Via: rt.Via, Dev: rt.Dev, Src: rt.Src, Table: rt.Table, Metric: rt.Metric, Scope: rt.Scope, Type: rt.Type}
	}
	lrules := make([]linux.Rule, len(rules))
	for i, ru := range rules {
		lrules[i] = linux.Rule{Family: ru.Family, From: ru.From, To: ru.To, Table: ru.Table, Priority: ru.Priority,
			IIF: ru.IIF, OIF: ru.OIF, Mark: ru.Mark, Mask: ru.Mask, HasMark: ru.HasMark}
	}
	return lroutes, lrules
}

// addRoutes installs routes, then rules (which may send traffic to the
// routes' tables); a failure is logged and the rest still go in.
func addRoutes(rs routing, croutes []config.Route, crules []config.Rule, log *slog.Logger) {
	routes, rules := toLinux(croutes, crules)
	for _, rt := range routes {
		if err := rs.AddRoute(rt); err != nil {
			log.Error("install route", "to", rt.To, "err", err)
		}
	}
	for _, ru := range rules {
		if err := rs.AddRule(ru); err != nil {
			log.Error("install rule", "table", ru.Table, "err", err)
		}
	}
}

// removeRoutes withdraws rules, then routes: the reverse of addRoutes.
// Only what was installed goes (linux.Routes knows).
func removeRoutes(rs routing, croutes []config.Route, crules []config.Rule) []error {
	routes, rules := toLinux(croutes, crules)
	var errs []error
	for _, ru := range rules {
		if err := rs.RemoveRule(ru); err != nil {
			errs = append(errs, err)
		}
	}
	for _, rt := range routes {
		if err := rs.RemoveRoute(rt); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// extraAddr is an address a Master installs outside the plain VIP path: a
// VIP with a device, label or scope, or an excluded address (installed,
// never advertised).
type extraAddr struct {
	dev          string
	p            netip.Prefix
	label, scope string
	noSource     bool // an IPv6 VIP of a router with Accept_Mode false: AddNoSource, as the others
}

// extras returns the router's extra addresses as configured. An owner's
// VIPs are the interface's own wherever they are: never installed.
func (r *vr) extras() []extraAddr {
	var out []extraAddr
	x := func(p netip.Prefix) extraAddr {
		o := r.cfg.AddrOpts[p.Addr()]
		dev := o.Dev
		if dev == "" {
			dev = r.addrDevice()
		}
		return extraAddr{dev: dev, p: p, label: o.Label, scope: o.Scope}
	}
	if !r.ownsAddresses() {
		for _, p := range r.cfg.Addresses {
			if _, ok := r.cfg.AddrOpts[p.Addr()]; ok {
				e := x(p)
				e.noSource = p.Addr().Is6() && !r.cfg.Accept && !r.cfg.Owner()
				out = append(out, e)
			}
		}
	}
	for _, p := range r.cfg.Excluded {
		out = append(out, x(p))
	}
	return out
}

// setExtras brings the router's installed extra addresses to want (nil:
// none), as setRoutes does its routes. On the loop.
func (r *vr) setExtras(want []extraAddr) {
	rm := effect{kind: effRemoveExtras, r: r}
	for _, x := range r.extrasOn {
		if !slices.Contains(want, x) {
			rm.extras = append(rm.extras, x)
		}
	}
	add := effect{kind: effAddExtras, r: r}
	for _, x := range want {
		if !slices.Contains(r.extrasOn, x) {
			add.extras = append(add.extras, x)
		}
	}
	if len(rm.extras) > 0 {
		r.l.emit(rm)
	}
	if len(add.extras) > 0 {
		r.l.emit(add)
	}
	r.extrasOn = slices.Clone(want)
}
