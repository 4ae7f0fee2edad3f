package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/internal/notify"
	"govrrp/internal/track"
	"govrrp/vrrp"
)

// advert is what the receive goroutine hands a router: a copy of the few
// fields the state machine needs, so the Demux can reuse its message.
type advert struct {
	src      netip.Addr
	priority uint8
	interval time.Duration
	warnings vrrp.Warnings
}

// vr is one running virtual router: a goroutine that owns its state machine
// and executes its actions. Everything else talks to it through channels,
// so the state machine needs no locks and every event is atomic.
type vr struct {
	d     *Daemon
	cfg   config.Router
	log   *slog.Logger
	fsm   *fsm.Router
	clock *fsm.RealClock

	ifc       *iface
	send      *linux.Conn // ifc.conn, or a send-only socket of our own (VMAC, unicast)
	ownSend   bool
	vmac      *linux.VMAC
	vrrpCfg   *vrrp.Config // what the receive checks compare against
	announcer *linux.Announcer
	hooks     *notify.Runner
	msg       vrrp.Message // reused for every advert sent

	adverts chan advert
	kick    chan struct{} // pending actions from an inline advert
	ctl     chan func()
	stop    chan struct{}
	done    chan struct{}

	// mu guards what follows: the router goroutine holds it except while
	// waiting for input, and the receive goroutine takes it (TryLock) to
	// handle a steady-state advert inline.
	mu      sync.Mutex
	pending []fsm.Action // actions of adverts handled inline, not yet executed
	spare   []fsm.Action

	timer       *time.Timer
	pendTimer   fsm.Timer
	pendToken   uint64
	pendAt      time.Duration // the state machine's deadline of pendTimer
	precise     *preciseTimer // nil: Go timers only
	pendPrecise bool          // timer fires preciseLead early; wait the rest on precise
	tracked     []track.Object
	trackFault  bool
	linkUp      bool
	since       time.Time
	heardPrio   uint8
	lastMaster  netip.Addr
	transitions []api.Event
	prevAddrs   []netip.Prefix // the addresses before a reload, for removals
	guarded     bool           // holds an ARPGuard entry for its VIPs

	// Counted from other goroutines.
	discards      [numReasons]atomic.Uint64
	warnings      [numReasons]atomic.Uint64
	rxQueueDrops  atomic.Uint64
	rxForm        [2]atomic.Uint64 // by vrrp.ChecksumForm: which form peers use [IMPL-2]
	sendErrors    atomic.Uint64
	masterChanges atomic.Uint64
}

const numReasons = 19

// reasonIndex numbers the vrrp receive-check reasons for lock-free counters.
var reasonIndex = map[string]int{
	"truncated": 0, "ttl": 1, "version": 2, "type": 3, "checksum": 4, "vrid": 5, "own_advert": 6,
	"not_peer": 7, "destination": 8, "owner_conflict": 9, "auth_type_invalid": 10, "auth_type_mismatch": 11,
	"auth_failure": 12, "zero_count": 13, "zero_interval": 14, "first_not_link_local": 15, "address_list": 16,
	"interval_mismatch": 17, "other": 18,
}

var reasonNames = func() []string {
	out := make([]string, len(reasonIndex))
	for k, i := range reasonIndex {
		out[i] = k
	}
	return out
}()

func reasonSlot(err error) int {
	if i, ok := reasonIndex[vrrp.Reason(err)]; ok {
		return i
	}
	return reasonIndex["other"]
}

// fsmConfig turns a configuration entry into state-machine parameters.
func fsmConfig(c *config.Router, primary netip.Addr) fsm.Config {
	return fsm.Config{
		VRID: c.VRID, Version: c.Version, Family: c.Family, Priority: c.Priority,
		AdvertInterval: c.AdvertInterval, Preempt: c.Preempt, PreemptDelay: c.PreemptDelay,
		Accept: c.Accept, Addresses: c.VIPs(), Primary: primary, NoReplyLower: !c.ReplyLower,
	}
}

// startRouter builds and starts a virtual router. Called with d.mu held.
func (d *Daemon) startRouter(c config.Router) (*vr, error) {
	r := &vr{
		d: d, cfg: c, clock: d.clock,
		log:     d.log.With("router", c.Name),
		adverts: make(chan advert, 64),
		kick:    make(chan struct{}, 1),
		ctl:     make(chan func(), 16),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		since:   time.Now(),
	}
	// Locked until run parks for the first time: no advert may take the
	// inline path before the router has started.
	r.mu.Lock()
	if err := r.open(); err != nil {
		r.close()
		return nil, err
	}
	d.routers[c.Name] = r
	go r.run()
	return r, nil
}

// open acquires the sockets, VMAC and helpers of the router.
func (r *vr) open() error {
	d, c := r.d, &r.cfg
	// An earlier instance killed with -9 may have left our VIPs behind:
	// a Backup holding them would answer ARP for them. An owner's
	// addresses are the interface's own: never ours to remove.
	if !r.ownsAddresses() {
		if _, err := d.addrs.Flush(c.Interface, c.VIPs()); err != nil {
			r.log.Debug("flush stale addresses", "err", err)
		}
	}
	ifc, err := d.openIface(ifaceKey{c.Interface, c.Family})
	if err != nil {
		return err
	}
	ifc.refs++
	r.ifc, r.send = ifc, ifc.conn
	primary := ifc.conn.Source()
	if c.VMAC {
		r.vmac, err = d.vmacs.Create(linux.VMACConfig{Parent: c.Interface, VRID: c.VRID, Family: c.Family})
		if err != nil {
			return fmt.Errorf("router %s: create VMAC: %w", c.Name, err)
		}
		if c.Family == vrrp.IPv4 {
			if d.arpGuard == nil {
				if d.arpGuard, err = linux.NewARPGuard(-1); err != nil {
					return fmt.Errorf("router %s: VMAC needs nftables to keep %s from answering ARP for the VIPs with its own MAC: %w", c.Name, c.Interface, err)
				}
			}
			if err := d.arpGuard.Guard(c.Interface, c.VIPs()); err != nil {
				return fmt.Errorf("router %s: %w", c.Name, err)
			}
			r.guarded = true
		}
		if c.Family == vrrp.IPv6 {
			// Each router's VMAC has its own random link-local: adverts come
			// from it, so the tie-break and DAD never see two routers share
			// an address (spec §9.1).
			primary = r.vmac.LinkLocal
		}
	}
	if c.VMAC || len(c.UnicastPeers) > 0 {
		dev := c.Interface
		if r.vmac != nil {
			dev = r.vmac.Name
		}
		r.send, err = linux.Listen(linux.ConnConfig{Interface: dev, Family: c.Family, Source: primary, Exclude: d.isVIP, Peers: c.UnicastPeers, SendOnly: true, Netlink: d.nl})
		if err != nil {
			return fmt.Errorf("router %s: open send socket: %w", c.Name, err)
		}
		r.ownSend = true
	}
	r.fsm, err = fsm.New(fsmConfig(c, primary), r.clock)
	if err != nil {
		return fmt.Errorf("router %s: %w", c.Name, err)
	}
	r.msg = vrrp.Message{Version: c.Version, Type: vrrp.TypeAdvertisement, VRID: c.VRID, Family: c.Family,
		Interval: c.AdvertInterval, Addresses: c.VIPs()}
	if c.AuthType == vrrp.AuthPassword {
		r.msg.AuthType = vrrp.AuthPassword
		r.msg.AuthData, _ = vrrp.Password(c.AuthPassword)
	}
	r.vrrpCfg = &vrrp.Config{
		Version: c.Version, Priority: c.Priority, Interval: c.AdvertInterval, Addresses: c.VIPs(),
		AuthType: r.msg.AuthType, AuthData: r.msg.AuthData, Checksum: c.Checksum,
		Local: primary, Peers: c.UnicastPeers, Strict: c.Strict,
	}
	r.announcer = linux.NewAnnouncer(linux.AnnounceConfig{Repeat: c.Announce.Repeat, Delay: c.Announce.Delay, Refresh: c.Announce.Refresh})
	r.hooks = notify.New(c.Notify, d.hookTimeout, r.log)
	for _, t := range c.Track.Interfaces {
		r.tracked = append(r.tracked, track.Object{Name: "interface:" + t.Name, Weight: t.Weight})
	}
	for _, t := range c.Track.Scripts {
		// A script that never passed counts as failed; one already running
		// (kept across a reload) reports only changes, so start from its
		// current state.
		failed := true
		if run := d.scripts[t.Name]; run != nil {
			failed = run.failed.Load()
		}
		r.tracked = append(r.tracked, track.Object{Name: "script:" + t.Name, Weight: t.Weight, Failed: failed})
	}
	if ifc.routers[c.VRID] != nil {
		return fmt.Errorf("router %s: VRID %d already runs on %s", c.Name, c.VRID, c.Interface)
	}
	ifc.routers[c.VRID] = r
	ifc.demux.Register(c.VRID, r.vrrpCfg, r.deliver)
	return nil
}

// close releases what open acquired. Called with d.mu held, after run ended.
func (r *vr) close() {
	d := r.d
	if r.ifc != nil {
		if r.ifc.routers[r.cfg.VRID] == r {
			r.ifc.demux.Unregister(r.cfg.VRID)
			r.ifc.routers[r.cfg.VRID] = nil
		}
		if r.ownSend && r.send != nil {
			r.send.Close()
		}
		d.releaseIface(r.ifc)
	}
	if r.announcer != nil {
		r.announcer.Close()
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
	delete(d.routers, r.cfg.Name)
}

// deliver runs on the receive goroutine for every advert that passed the
// receive checks. It never blocks: a router that cannot keep up drops.
func (r *vr) deliver(m *vrrp.Message, res vrrp.Result, ip vrrp.IPHeader) {
	r.rxForm[res.Form&1].Add(1)
	if res.Warnings != 0 {
		for _, err := range res.Warnings.Errors() {
			r.warnings[reasonSlot(err)].Add(1)
			r.d.rateLog.log(r.cfg.Name+"/warn/"+vrrp.Reason(err), func(n uint64) {
				r.log.Warn("advert accepted with a warning", "from", ip.Src, "reason", vrrp.Reason(err), "err", err, "count", n)
			})
		}
	}
	a := advert{src: ip.Src, priority: m.Priority, interval: m.Interval, warnings: res.Warnings}
	// Fast path: when the router goroutine is parked, handle the advert
	// here. A steady Backup's advert only moves Master_Down_Timer, so this
	// saves waking a goroutine per advert; any actions go to the router
	// goroutine, which is also where anything slow runs.
	if r.mu.TryLock() {
		acts := r.fsm.Handle(fsm.Advert(a.src, a.priority, a.interval))
		r.heard(a)
		if len(acts) == 0 && len(r.pending) == 0 {
			r.arm()
			r.mu.Unlock()
			return
		}
		r.pending = append(r.pending, acts...)
		r.mu.Unlock()
		select {
		case r.kick <- struct{}{}:
		default:
		}
		return
	}
	select {
	case r.adverts <- a:
	default:
		r.rxQueueDrops.Add(1)
	}
}

func (r *vr) countDiscard(err error) {
	r.discards[reasonSlot(err)].Add(1)
	r.d.rateLog.log(r.cfg.Name+"/"+vrrp.Reason(err), func(n uint64) {
		r.log.Warn("advert dropped", "reason", vrrp.Reason(err), "err", err, "count", n)
		r.d.events.publish(api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "discards", Reason: vrrp.Reason(err), Detail: fmt.Sprintf("%d dropped: %v", n, err)})
	})
}

// run is the router's goroutine.
func (r *vr) run() {
	defer close(r.done)
	r.timer = time.NewTimer(time.Hour)
	r.timer.Stop()
	defer r.timer.Stop()
	if p, err := newPreciseTimer(); err == nil {
		r.precise = p
		defer p.close()
	} else {
		r.log.Debug("precise timer unavailable, using Go timers", "err", err)
	}
	r.linkUp = linux.ReadLinkState(r.d.nl, r.cfg.Interface, r.d.isVIP).Usable()
	if !r.linkUp {
		r.handle(fsm.Event{Kind: fsm.EventLinkDown})
	}
	r.applyTracking()
	r.handle(fsm.Event{Kind: fsm.EventStartup})
	for {
		r.arm()
		// r.mu is held except while parked here: that is when the
		// receive goroutine may handle an advert inline (see deliver).
		r.mu.Unlock()
		var (
			a                     advert
			gotAdvert, fired, end bool
			f                     func()
		)
		select {
		case a = <-r.adverts:
			gotAdvert = true
		case <-r.timer.C:
			fired = true
		case <-r.kick:
		case f = <-r.ctl:
		case <-r.stop:
			end = true
		}
		r.mu.Lock()
		r.runPending()
		switch {
		case gotAdvert:
			r.handle(fsm.Advert(a.src, a.priority, a.interval))
			r.heard(a)
		case fired:
			r.expired()
		case f != nil:
			f()
		case end:
			r.handle(fsm.Event{Kind: fsm.EventShutdown})
			r.flush()
			r.mu.Unlock()
			return
		}
	}
}

// runPending executes the actions of adverts handled inline by the receive
// goroutine, in order, before anything else. Called with r.mu held.
func (r *vr) runPending() {
	if len(r.pending) == 0 {
		return
	}
	acts := r.pending
	r.pending = r.spare[:0]
	r.exec(acts)
	r.spare = acts[:0]
}

// arm points the single Go timer at the state machine's next deadline.
// Master_Down_Timer (which decides failover latency: Master_Down_Interval
// after a cable pull, Skew_Time after a priority-0 advert) fires
// preciseLead early and expired waits the rest on the precise timer; in a
// steady Backup it is reset long before that, so this costs nothing.
func (r *vr) arm() {
	t, at, token, ok := r.fsm.NextDeadline()
	if !ok {
		r.timer.Stop()
		return
	}
	r.pendTimer, r.pendToken, r.pendAt = t, token, at
	d := r.clock.Until(at)
	r.pendPrecise = r.precise != nil && t == fsm.MasterDownTimer && d > preciseLead
	if r.pendPrecise {
		d -= preciseLead
	}
	r.timer.Reset(d)
}

// expired handles the firing of the Go timer.
func (r *vr) expired() {
	lead := time.Duration(0)
	if r.pendPrecise {
		lead = preciseLead
	}
	if r.clock.Until(r.pendAt) > lead {
		// An advert handled inline re-armed the timer after it fired:
		// this firing belongs to the old deadline. (Go timers never fire
		// early, so a current firing is never refused.)
		return
	}
	if r.pendPrecise {
		r.precise.sleep(r.clock.Until(r.pendAt))
		// Adverts that arrived while waiting came before the deadline:
		// they go first (one may restart the timer, making this firing
		// stale).
		for drained := false; !drained; {
			select {
			case a := <-r.adverts:
				r.handle(fsm.Advert(a.src, a.priority, a.interval))
				r.heard(a)
			default:
				drained = true
			}
		}
	}
	r.handle(fsm.Expired(r.pendTimer, r.pendToken))
}

// handle feeds one event to the state machine and executes its actions.
func (r *vr) handle(ev fsm.Event) { r.exec(r.fsm.Handle(ev)) }

// exec executes actions in order, except that the bookkeeping of
// transitions (log line, event, notify hooks) comes after the rest: a new
// master's first advert, its addresses and its announcements go out
// without waiting for it (at 10 ms adverts a log line is a visible part of
// a takeover), and hooks run once the addresses are in place.
func (r *vr) exec(acts []fsm.Action) {
	transitions := false
	for _, a := range acts {
		switch a.Kind {
		case fsm.Transition:
			transitions = true
		case fsm.SendAdvert:
			r.sendAdvert(a.Priority)
		case fsm.AddAddresses:
			r.addAddresses(a.Addr)
		case fsm.RemoveAddresses:
			r.removeAddresses(a.Addr)
		case fsm.Announce:
			r.announce(a.Addr)
		case fsm.JoinGroup, fsm.LeaveGroup:
			// The kernel joins (and leaves) the solicited-node group of an
			// IPv6 address when it is added (removed) [5798-6.4.3-b].
		}
	}
	if transitions {
		for _, a := range acts {
			if a.Kind == fsm.Transition {
				r.transitioned(a)
			}
		}
	}
}

func (r *vr) sendAdvert(prio uint8) {
	r.msg.Priority = prio
	if err := r.send.Send(&r.msg, r.cfg.Checksum); err != nil {
		r.sendErrors.Add(1)
		r.d.rateLog.log(r.cfg.Name+"/send", func(n uint64) {
			r.log.Warn("advert not sent", "err", err, "count", n)
		})
	}
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
func (r *vr) prefixes(only netip.Addr) []netip.Prefix {
	if !only.IsValid() {
		return r.cfg.Addresses
	}
	for _, p := range append(r.cfg.Addresses, r.prevAddrs...) {
		if p.Addr() == only {
			return []netip.Prefix{p}
		}
	}
	return []netip.Prefix{netip.PrefixFrom(only, only.BitLen())}
}

// ownsAddresses reports whether the VIPs are real addresses of the
// interface (priority 255): they are there before govrrpd starts and stay
// after it stops, whatever the state, so the daemon neither installs them
// (which would record them for removal) nor removes them.
func (r *vr) ownsAddresses() bool { return r.cfg.Owner() }

func (r *vr) addAddresses(only netip.Addr) {
	if r.ownsAddresses() {
		return
	}
	for _, p := range r.prefixes(only) {
		if err := r.d.addrs.Add(r.addrDevice(), p); err != nil {
			r.log.Error("install virtual address", "address", p, "err", err)
		}
	}
}

func (r *vr) removeAddresses(only netip.Addr) {
	if !only.IsValid() {
		r.announcer.Stop(r.announceKey())
	}
	if r.ownsAddresses() {
		return
	}
	for _, p := range r.prefixes(only) {
		if err := r.d.addrs.Remove(r.addrDevice(), p); err != nil {
			r.log.Error("remove virtual address", "address", p, "err", err)
		}
	}
}

func (r *vr) announceKey() linux.AnnounceKey {
	return linux.AnnounceKey{Interface: r.addrDevice(), VRID: r.cfg.VRID, IPv6: r.cfg.Family == vrrp.IPv6}
}

func (r *vr) announce(only netip.Addr) {
	var mac net.HardwareAddr
	if r.vmac != nil {
		mac = r.vmac.MAC
	}
	vips := r.cfg.VIPs()
	if only.IsValid() {
		// A new address of a reload: one burst for it alone. (The
		// announcer keys jobs by router, so this replaces a refresh job;
		// the next transition to Master restarts the full one.)
		vips = []netip.Addr{only}
	}
	if err := r.announcer.Start(r.announceKey(), mac, vips); err != nil {
		r.log.Warn("announce", "err", err)
	}
}

func (r *vr) transitioned(a fsm.Action) {
	now := time.Now()
	r.since = now
	st := r.fsm.Status()
	ev := api.Event{Time: now, Router: r.cfg.Name, Type: "transition", From: a.From.String(), To: a.To.String(), Reason: a.Reason.String(), Priority: st.Priority}
	r.transitions = append(r.transitions, ev)
	if len(r.transitions) > 32 {
		r.transitions = r.transitions[1:]
	}
	r.log.Info("transition", "from", ev.From, "to", ev.To, "reason", ev.Reason, "priority", st.Priority)
	r.d.events.publish(ev)
	r.hooks.Notify(notify.Event{Router: r.cfg.Name, From: ev.From, To: ev.To, Reason: ev.Reason,
		Interface: r.cfg.Interface, VRID: r.cfg.VRID, Family: r.cfg.Family.String(), Priority: st.Priority})
}

// heard records the priority of the master we follow, for status.
func (r *vr) heard(a advert) {
	st := r.fsm.Status()
	if st.MasterAddr == a.src {
		r.heardPrio = a.priority
	}
	if st.MasterAddr != r.lastMaster {
		if r.lastMaster.IsValid() {
			r.masterChanges.Add(1)
		}
		r.lastMaster = st.MasterAddr
	}
}

// flush waits (briefly) for the priority-0 advert of a shutdown to leave.
func (r *vr) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = r.send.Flush(ctx)
}

// setTracked records a tracked object's state and applies the result. Runs
// on the router goroutine.
func (r *vr) setTracked(name string, failed bool) {
	changed := false
	for i := range r.tracked {
		if r.tracked[i].Name == name && r.tracked[i].Failed != failed {
			r.tracked[i].Failed, changed = failed, true
		}
	}
	if changed {
		r.log.Info("tracked object changed", "object", name, "failed", failed)
		r.d.events.publish(api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "track", Detail: fmt.Sprintf("%s failed=%v", name, failed)})
		r.applyTracking()
	}
}

// applyTracking turns the tracked objects into a priority and a fault.
func (r *vr) applyTracking() {
	prio, fault := track.Effective(r.cfg.Priority, r.tracked)
	if prio != r.fsm.Status().Priority {
		r.handle(fsm.SetPriority(prio))
		r.d.events.publish(api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "priority", Priority: prio})
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

// setLink applies the interface's state. Runs on the router goroutine.
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
}

// do runs f on the router goroutine and waits for it, or gives up when the
// router has stopped.
func (r *vr) do(f func()) bool {
	done := make(chan struct{})
	select {
	case r.ctl <- func() { f(); close(done) }:
	case <-r.done:
		return false
	}
	select {
	case <-done:
		return true
	case <-r.done:
		return false
	}
}

// post runs f on the router goroutine without waiting.
func (r *vr) post(f func()) {
	select {
	case r.ctl <- f:
	case <-r.done:
	}
}

// shutdown stops the router like the protocol's Shutdown event: a Master
// sends priority 0 and withdraws its addresses. Called without d.mu.
func (r *vr) shutdown() {
	close(r.stop)
	<-r.done
	closeHooks(r.hooks, r.d.hookTimeout)
}

// closeHooks lets a notify runner finish its queue, within bounds.
func closeHooks(h *notify.Runner, hookTimeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*hookTimeout)
	defer cancel()
	h.Close(ctx)
}
