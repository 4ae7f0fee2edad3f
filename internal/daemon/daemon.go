// Package daemon wires govrrpd together: configuration in, one event loop
// per interface and family owning the socket and the state machines
// (package fsm) of the virtual routers there, the Linux data plane (package
// linux) for sockets, addresses, announcements and VMACs, tracking, notify
// hooks, and the snapshots the control API and metrics read.
//
// A packet's path, all on the loop's goroutine and in wire order:
// linux.Conn.ReadBatch → the receive checks (vrrp.Validate, with the real
// TTL and the kernel's arrival time) → fsm.Router.Handle → adverts queued
// on the socket and written with one sendmmsg per step. Slow effects
// (netlink, GARP/NA, hooks, log lines) run on workers after the adverts have
// left. See loop.go, timers.go and docs/ARCHITECTURE.md.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/internal/notify"
	"govrrp/internal/track"
	"govrrp/vrrp"
)

// addresses installs virtual addresses: *linux.Addresses (netlink), or a
// fake in unit tests.
type addresses interface {
	Add(dev string, p netip.Prefix) error
	AddNoSource(dev string, p netip.Prefix) error // Accept_Mode false: never a source
	AddWith(dev string, p netip.Prefix, label, scope string) error
	Remove(dev string, p netip.Prefix) error
	Flush(dev string, vips []netip.Addr) ([]netip.Prefix, error)
	Held(dev string, vips []netip.Addr) ([]netip.Prefix, error) // what Flush would remove
	RemoveAll() error
}

// routing installs a Master's routes and rules: *linux.Routes (netlink),
// or a fake in unit tests. It takes the data plane's types; toLinux
// converts the configuration's.
type routing interface {
	AddRoute(linux.Route) error
	RemoveRoute(linux.Route) error
	AddRule(linux.Rule) error
	RemoveRule(linux.Rule) error
	Flush([]linux.Route, []linux.Rule) error // what a killed instance left
	RemoveAll() error
}

// acceptGuard drops packets addressed to the VIPs of non-owner routers with
// Accept_Mode false: *linux.AcceptGuard, or a fake in unit tests.
type acceptGuard interface {
	Set(owner, dev string, vips []netip.Addr) error
	Forget(owners ...string) error
	Close() error
}

// announcer sends GARP/NA bursts: *linux.Announcer, or a fake in unit tests.
type announcer interface {
	StartWith(key linux.AnnounceKey, mac net.HardwareAddr, vips []netip.Addr, cfg linux.AnnounceConfig) error
	Stop(key linux.AnnounceKey)
	Close()
}

// Options tune a Daemon.
type Options struct {
	Log *slog.Logger
	// ConfigFile is re-read by Reload from the API.
	ConfigFile string
	// HookTimeout bounds each notify hook run (default 30s).
	HookTimeout time.Duration
	// Netlink is the handle for the daemon's namespace (nil: the process's).
	Netlink *netlink.Handle
	// Level is the level of Log's handler, which SetLogLevel changes at
	// run time and a reload sets when the file's log.level changed (nil:
	// a level of its own, which changes nothing).
	Level *slog.LevelVar
}

// Daemon runs the virtual routers of one configuration.
type Daemon struct {
	log   *slog.Logger
	nl    *netlink.Handle
	clock clock
	// listen opens the socket and poller of a loop, and linkState reads an
	// interface's state: the kernel's in production, fakes in unit tests.
	listen    func(key ifaceKey) (socket, poller, error)
	linkState func(name string) linux.LinkState
	// openSender opens a router's own send socket (VMAC, unicast).
	openSender func(linux.ConnConfig) (sender, error)
	// watchLinks runs the netlink link watcher (off in unit tests).
	watchLinks  bool
	hookTimeout time.Duration
	hookCred    *syscall.Credential // notify_user, notify_group; set at start
	file        string

	addrs    addresses
	routes   routing
	vmacs    *linux.VMACs
	arpGuard *linux.ARPGuard // created with the first IPv4 VMAC router (or VMAC owner)
	// accept enforces Accept_Mode false; created by Start (removing a
	// table a killed instance left), nil when nftables is unusable.
	accept    acceptGuard
	announcer announcer
	events    *eventLog
	work      *workers

	mu       sync.RWMutex
	cfg      *config.Config
	routers  map[string]*vr
	groups   map[string]*syncGroup // by member name; as at New (a reload keeps them)
	loops    map[ifaceKey]*loop
	loopRefs map[*loop]int
	vips     atomic.Pointer[map[netip.Addr]bool]
	scripts  map[string]*scriptRun
	files    trackFiles
	bfd      *bfdSessions // nil until a session is configured (bfd.go)
	mb       *bfdMaster   // Master–Backup BFD of routers[].bfd_master (bfdmaster.go)
	watcher  *linux.LinkWatcher
	// pending holds routers that cannot run (their interface is missing or
	// has no address): they wait in Fault, holding nothing, and start when
	// the link watcher reports the interface usable (relink).
	pending map[string]parked
	// hooksDone is closed, per router that tryStartAfter starts or parks,
	// when the hooks of its earlier runner are done (open, park).
	hooksDone map[string]chan struct{}
	// bfdTrack is what routers tracking a BFD session see (bfdtrack.go).
	bfdTrack bfdTrack

	reloadMu sync.Mutex
	// relinks holds the interfaces a relink is queued for (waiting for
	// reloadMu): a flapping interface during a slow reload queues one,
	// not one per link event.
	relinkMu sync.Mutex
	relinks  map[string]bool
	stopping atomic.Bool
	// rec keeps the record file of the addresses installed (record.go);
	// addrs records through it.
	rec *recorder
	// notOurs holds the VIPs found already on their device as the host's
	// address (linux.ErrNotOurs), reported once each.
	notOurs sync.Map // hostAddrKey → true

	// The operator's controls (admin.go): disabled routers by name (under
	// mu), one change at a time (adminMu), and the log level.
	adminMu  sync.Mutex
	disabled map[string]bool
	level    *slog.LevelVar
	// boot is what only a start applies, as this one did (startOnly):
	// what a reload reports it skipped.
	boot *config.Config
}

type hostAddrKey struct {
	dev  string
	addr netip.Addr
}

// parked is a router waiting for its interface.
type parked struct {
	cfg    config.Router
	reason string // faultMissing, faultNoAddress, faultHostAddress, faultOwnerAddress, faultMTU or faultSource
	// appeared: it waited for its interface to exist, so the interface
	// was not there when the host checks ran (hostHeld).
	appeared bool
	from     fsm.State
	since    time.Time
	// hooks ran the notify hooks of its entering Fault at start; the
	// router's own runner must not start before they are done.
	hooks *notify.Runner
}

// Why a router waits in Fault without running (api.RouterStatus.FaultReason).
const (
	faultMissing   = "interface-missing"
	faultNoAddress = "no-address"
	// A VIP is an address the host gave an interface that appeared after
	// the configuration was checked: starting would delete it.
	faultHostAddress = "host-address"
	// An owner's interface appeared after the configuration was checked,
	// without the address the owner must have [5798-5.2.4-a].
	faultOwnerAddress = "owner-address-missing"
	// Its advert is larger than the interface's MTU: the interface
	// appeared after the configuration was checked, or its MTU was
	// lowered since. It runs when the MTU allows the advert.
	faultMTU = "advert-exceeds-mtu"
	// Its interface lacks its configured source (multicast_source,
	// unicast_source): the interface appeared after the configuration
	// was checked, or the address was removed since. It runs when the
	// interface has it.
	faultSource = "source-missing"
)

// mtuFault says why rc's adverts cannot leave its interface in state st
// (config's check, on the interface as it is now), nil if they can.
func mtuFault(rc *config.Router, st linux.LinkState) error {
	if what := config.AdvertTooBig(rc, st.MTU); what != "" {
		return errors.New(what)
	}
	return nil
}

// sourceFault says why rc's adverts cannot leave from its configured source
// (config's check, on its interface's addresses as they are now), nil if
// they can or none is configured. Called with d.mu held.
func (d *Daemon) sourceFault(rc *config.Router) error {
	src := rc.Source()
	if !src.IsValid() {
		return nil
	}
	held, err := d.addrs.Held(rc.Interface, []netip.Addr{src})
	if err != nil {
		return nil // unreadable: gone meanwhile, which relink sees
	}
	if _, what := config.SourceMissing(rc, func(a netip.Addr) bool {
		return slices.ContainsFunc(held, func(p netip.Prefix) bool { return p.Addr() == a })
	}); what != "" {
		return errors.New(what)
	}
	return nil
}

type scriptRun struct {
	cfg    config.Script
	cancel context.CancelFunc
	done   chan struct{}
	failed atomic.Bool
	// unknown: init unknown and no result yet. Cleared after failed is
	// stored, so a reader that sees it clear reads the first result.
	unknown atomic.Bool
}

// scriptObject is a tracked script's object with the script's state now: a
// running script's, else its start (failed, or unknown with init unknown).
// A running one reports only changes, so a router that starts tracking it
// (at its start or a reload) starts from its current state. Called with
// d.mu held (read).
func (d *Daemon) scriptObject(t config.TrackItem, cfg *config.Config) track.Object {
	run := d.scripts[t.Name]
	if run == nil && cfg != nil && cfg.Scripts[t.Name].InitUnknown {
		return track.Object{Name: "script:" + t.Name, Weight: t.Weight, Unknown: true}
	}
	return run.object(t)
}

// object is t's tracked object with the run's state now; failed when no
// run (nil). unknown is loaded first: the run stores failed before it
// clears unknown, so a clear one comes with a result.
func (run *scriptRun) object(t config.TrackItem) track.Object {
	o := track.Object{Name: "script:" + t.Name, Weight: t.Weight, Failed: true}
	if run != nil {
		o.Unknown = run.unknown.Load()
		o.Failed = run.failed.Load()
	}
	return o
}

// New prepares a Daemon for cfg; Start runs it.
func New(cfg *config.Config, opts Options) *Daemon {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.HookTimeout == 0 {
		opts.HookTimeout = 30 * time.Second
	}
	d := &Daemon{
		log: opts.Log, nl: opts.Netlink, clock: realClock{fsm.NewRealClock()}, hookTimeout: opts.HookTimeout, hookCred: cfg.NotifyAs.Cred(), file: opts.ConfigFile,
		rec: newRecorder(config.RecordFile(), opts.Log), vmacs: linux.NewVMACs(opts.Netlink), events: newEventLog(opts.Log),
		announcer: linux.NewAnnouncer(linux.AnnounceConfig{}), cfg: cfg, routers: map[string]*vr{}, loops: map[ifaceKey]*loop{},
		loopRefs: map[*loop]int{}, scripts: map[string]*scriptRun{}, pending: map[string]parked{},
		disabled: map[string]bool{}, level: opts.Level, boot: startOnly(cfg), mb: newBFDMaster(),
	}
	if d.level == nil {
		d.level = new(slog.LevelVar)
	}
	d.addrs = recordedAddrs{linux.NewAddresses(opts.Netlink), d.rec}
	d.routes = linux.NewRoutes(opts.Netlink)
	d.work = newWorkers(numWorkers, d.apply, d.recordBatch)
	d.groups = d.syncGroups(cfg)
	d.listen = d.listenLinux
	d.openSender = func(c linux.ConnConfig) (sender, error) {
		s, err := linux.Listen(c)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	d.linkState = func(name string) linux.LinkState { return linux.ReadLinkState(d.nl, name, d.isVIP) }
	d.watchLinks = true
	d.setVIPs(cfg)
	forgetPositions(cfg)
	return d
}

// forgetPositions drops the per-key positions of the routers of cfg: they
// serve the messages about the file, given before the daemon takes it, and
// at thousands of routers they are a third of the configuration's memory.
// Each router keeps where its entry starts; its routes and rules do not.
func forgetPositions(cfg *config.Config) {
	for i := range cfg.Routers {
		r := &cfg.Routers[i]
		r.KeyPos = nil
		// A route or rule is the same entry wherever it is written: a
		// reload compares them without it.
		for j := range r.Routes {
			r.Routes[j].Pos = config.Pos{}
		}
		for j := range r.Rules {
			r.Rules[j].Pos = config.Pos{}
		}
	}
}

func (d *Daemon) setVIPs(cfg *config.Config) {
	m := map[netip.Addr]bool{}
	for _, r := range cfg.Routers {
		for _, a := range r.Addresses {
			m[a.Addr()] = true
		}
		for _, a := range r.Excluded {
			m[a.Addr()] = true
		}
	}
	d.vips.Store(&m)
}

// isVIP keeps virtual addresses from being picked as advert sources or
// reported as primary addresses.
func (d *Daemon) isVIP(a netip.Addr) bool { return (*d.vips.Load())[a] }

// Start opens everything and starts every router. A router whose interface
// is missing or has no address waits in Fault until it is usable; one that
// cannot start for another reason is logged; the others run.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.accept == nil {
		g, err := linux.NewAcceptGuard(-1)
		if err != nil {
			// Failing open: refusing to start would take the gateway away.
			level := slog.LevelDebug
			if slices.ContainsFunc(d.cfg.Routers, func(r config.Router) bool { return !r.Owner() && !r.Accept }) {
				level = slog.LevelError
			}
			d.log.Log(context.Background(), level, "accept: false cannot be enforced: a non-owner master will accept packets for its virtual addresses", "err", err)
		} else {
			d.accept = g
		}
	}
	// What an earlier instance killed with -9 recorded stays recorded
	// until the routers' start removes it (linux.Addresses.Flush).
	d.rec.start(config.System{}.Recorded(d.rec.file))
	var errs []error
	d.tryStart(d.cfg.Routers, &errs)
	d.startScripts(d.cfg)
	d.startFiles(d.cfg)
	d.startBFD(d.cfg.BFD)
	d.startBFDMaster(d.cfg.Routers)
	if d.watchLinks {
		if err := d.watch(d.cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(d.routers) == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	releaseMemory()
	return nil
}

// releaseMemory hands the garbage of a start or a reload (the YAML tree,
// netlink dumps of every interface) back to the kernel at once. The Go
// runtime would otherwise keep the pages for minutes: at thousands of
// routers that is several times the daemon's live heap in RSS. It costs one
// full collection, only at start and reload.
func releaseMemory() { debug.FreeOSMemory() }

// tryStart starts the routers of rcs, and parks those whose interface is
// missing or has no address until it is usable: nothing is opened on an
// interface that is not there (no socket, loop or VMAC). Called with d.mu
// held.
func (d *Daemon) tryStart(rcs []config.Router, errs *[]error) { d.tryStartAfter(rcs, errs, nil) }

// tryStartAfter is tryStart for routers whose earlier runner of notify
// hooks (prev, by name) may still run. A router's hooks run in order: those
// of its earlier instance, or of its waiting in Fault, before those of the
// new one, which waits for them (open and park read d.hooksDone) rather
// than this, which holds d.mu, so that status and the link watcher go on
// meanwhile. Called with d.mu held.
func (d *Daemon) tryStartAfter(rcs []config.Router, errs *[]error, prev map[string]*notify.Runner) {
	old := maps.Clone(prev)
	if old == nil {
		old = map[string]*notify.Runner{}
	}
	for _, rc := range rcs {
		if p := d.pending[rc.Name]; p.hooks != nil && old[rc.Name] == nil {
			old[rc.Name] = p.hooks
			p.hooks = nil
			d.pending[rc.Name] = p
		}
	}
	d.hooksDone = map[string]chan struct{}{}
	for name := range old {
		d.hooksDone[name] = make(chan struct{})
	}
	links := map[string]linux.LinkState{}
	// The routers started point into rcs (the configuration's entries):
	// no copy per router.
	var ready []*config.Router
	for i := range rcs {
		rc := rcs[i]
		st, seen := links[rc.Interface]
		if !seen {
			st = d.linkState(rc.Interface)
			links[rc.Interface] = st
		}
		if !st.Exists {
			d.park(rc, faultMissing, fsm.Initialize, nil)
			continue
		}
		from := fsm.Initialize
		if _, waited := d.pending[rc.Name]; waited {
			from = fsm.Fault
		}
		if err := mtuFault(&rc, st); err != nil {
			d.park(rc, faultMTU, from, err)
			continue
		}
		if err := d.sourceFault(&rc); err != nil {
			d.park(rc, faultSource, from, err)
			continue
		}
		if held := d.hostHeld(rc); len(held) > 0 {
			d.park(rc, faultHostAddress, fsm.Fault, fmt.Errorf("%v already on %s", held, rc.Interface))
			continue
		}
		if missing := d.ownerMissing(rc); len(missing) > 0 {
			d.park(rc, faultOwnerAddress, fsm.Fault, fmt.Errorf("%v not on %s", missing, rc.Interface))
			continue
		}
		ready = append(ready, &rcs[i])
	}
	_, failed := d.startRouters(ready)
	for _, rc := range ready {
		err := failed[rc.Name]
		switch {
		case err == nil:
			delete(d.pending, rc.Name)
		case errors.Is(err, linux.ErrNoSource):
			d.park(*rc, faultNoAddress, fsm.Initialize, err)
		case !d.linkState(rc.Interface).Exists: // gone meanwhile
			d.park(*rc, faultMissing, fsm.Initialize, err)
		default:
			d.unpark(rc.Name, false)
			if errs != nil {
				*errs = append(*errs, fmt.Errorf("router %s: %w", rc.Name, err))
			}
			d.log.Error("router not started", "router", rc.Name, "err", err)
		}
	}
	for name, h := range old {
		if p, ok := d.pending[name]; ok && p.hooks == nil {
			p.hooks = h // waits still, no new runner: the old one goes on
			d.pending[name] = p
			continue
		}
		done := d.hooksDone[name]
		go func() {
			closeHooks(h, d.hookTimeout)
			close(done)
		}()
	}
	d.hooksDone = nil
}

// hostHeld returns the VIPs (and excluded addresses) of rc that its
// interface already has, when they can only be the host's: the interface
// appeared after the host checks ran (rc waited for it, maybe then for its
// addresses), so no govrrpd can have left them there, and the checks could
// not see them. The router's start would delete them as stale VIPs
// (linux.Addresses.Flush). An owner's are its own. Called with d.mu held.
func (d *Daemon) hostHeld(rc config.Router) []netip.Prefix {
	p, ok := d.pending[rc.Name]
	if !ok || !p.appeared || rc.Owner() {
		return nil
	}
	// Its excluded addresses on the interface too: the start flushes
	// them as well.
	addrs := rc.VIPs()
	for _, p := range rc.Excluded {
		if rc.AddrDev(p.Addr()) == rc.Interface {
			addrs = append(addrs, p.Addr())
		}
	}
	held, _ := d.addrs.Held(rc.Interface, addrs) // unreadable: as at start, Flush logs it
	return held
}

// ownerMissing returns the VIPs of the owner rc that its interface lacks,
// when the interface appeared after the host checks ran (which refuse such
// an owner) and so they could not see it. Called with d.mu held.
func (d *Daemon) ownerMissing(rc config.Router) []netip.Addr {
	p, ok := d.pending[rc.Name]
	if !ok || !p.appeared || !rc.Owner() || !d.linkState(rc.Interface).Primary.IsValid() {
		return nil // not appeared, not an owner, or no-address first
	}
	held, _ := d.addrs.Held(rc.Interface, rc.VIPs())
	var missing []netip.Addr
	for _, v := range rc.VIPs() {
		if !slices.ContainsFunc(held, func(p netip.Prefix) bool { return p.Addr() == v }) {
			missing = append(missing, v)
		}
	}
	return missing
}

// park makes rc wait in Fault for its interface; from is the state it was
// in (Initialize when it never ran). The log line and the event come once
// per reason, not at every link event that finds the interface still
// unusable. Called with d.mu held.
func (d *Daemon) park(rc config.Router, reason string, from fsm.State, err error) {
	p, ok := d.pending[rc.Name]
	p.cfg = rc
	p.appeared = p.appeared || reason == faultMissing
	if ok && p.reason == reason {
		d.pending[rc.Name] = p
		return
	}
	p.reason, p.from = reason, from
	if !ok {
		p.since = time.Now()
	}
	if g := d.groups[rc.Name]; g != nil {
		// A member that cannot run is a fault of its own for its group.
		d.work.submit([]effect{{kind: effGroup, group: g, report: groupReport{name: rc.Name, state: fsm.Fault, fault: true, why: reason}}})
	}
	if !ok && from == fsm.Initialize {
		// As a running router's entering Fault would (one that ran has
		// told its hooks already: link-down).
		if p.hooks = d.newHooks(&rc, d.log.With("router", rc.Name)); p.hooks != nil {
			if done := d.hooksDone[rc.Name]; done != nil {
				p.hooks.After(done) // an earlier runner's first (tryStartAfter)
			}
			p.hooks.Notify(notify.Event{Router: rc.Name, From: from.String(), To: fsm.Fault.String(), Reason: reason,
				Interface: rc.Interface, VRID: rc.VRID, Family: rc.Family.String(), Priority: rc.Priority})
		}
	}
	d.pending[rc.Name] = p
	level, msg := slog.LevelWarn, "interface missing; the router waits in Fault until it appears"
	switch reason {
	case faultNoAddress:
		msg = "interface has no address to send from; the router waits in Fault until it has one"
	case faultHostAddress:
		level, msg = slog.LevelError, "a virtual address is the host's own address of the interface that appeared; the router would delete it, so it waits in Fault: write another virtual address, or remove the address from the interface, then govrrp reload"
	case faultOwnerAddress:
		level, msg = slog.LevelError, "the router owns (priority 255) an address the interface that appeared does not have, so it waits in Fault: add the address to the interface, or write priority 1..254, then govrrp reload"
	case faultMTU:
		level, msg = slog.LevelError, "the router's advert does not fit the MTU of its interface, so it waits in Fault until it does: raise the MTU (ip link set DEV mtu N), or split the addresses over several virtual routers"
	case faultSource:
		level, msg = slog.LevelError, "the router's configured source address is not on its interface, so it waits in Fault until it is: add the address to the interface, or write another and govrrp reload"
	}
	args := []any{"router", rc.Name, "interface", rc.Interface}
	if err != nil {
		args = append(args, "err", err)
	}
	d.log.Log(context.Background(), level, msg, args...)
	d.events.publish(api.Event{Time: time.Now(), Router: rc.Name, Type: "transition", From: from.String(), To: fsm.Fault.String(), Reason: reason, Priority: rc.Priority})
}

// unpark forgets a waiting router that is removed, waiting for its hooks
// (wait) or not. Called with d.mu held.
func (d *Daemon) unpark(name string, wait bool) {
	p, ok := d.pending[name]
	if !ok {
		return
	}
	delete(d.pending, name)
	if g := d.groups[name]; g != nil {
		// No longer waiting, so no longer holding its group in Fault: it
		// is removed, or starts and reports for itself. Not a shutdown:
		// the group's other members run on.
		d.work.submit([]effect{{kind: effGroup, group: g, report: groupReport{name: name, state: fsm.Initialize}}})
	}
	// It leaves Fault as a running router does on shutdown, so its hooks
	// hear it stop too (keepalived runs notify_stop for every instance).
	if p.hooks == nil {
		if p.hooks = d.newHooks(&p.cfg, d.log.With("router", name)); p.hooks != nil {
			if done := d.hooksDone[name]; done != nil {
				p.hooks.After(done)
			}
		}
	}
	rc := &p.cfg
	p.hooks.Notify(notify.Event{Router: name, From: fsm.Fault.String(), To: fsm.Initialize.String(), Reason: fsm.ReasonShutdown.String(),
		Interface: rc.Interface, VRID: rc.VRID, Family: rc.Family.String(), Priority: rc.Priority})
	switch {
	case p.hooks == nil:
	case wait:
		closeHooks(p.hooks, d.hookTimeout)
	default:
		go closeHooks(p.hooks, d.hookTimeout)
	}
}

// Stop shuts every router down as the protocol says (masters send
// priority 0 and withdraw their addresses), kills the scripts and removes
// what the daemon created.
func (d *Daemon) Stop() {
	d.stopping.Store(true) // no router starts or parks from now on (relink)
	// A reload or relink under way finishes first: what it starts is
	// stopped below.
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.mu.Lock()
	loops := make([]*loop, 0, len(d.loops))
	for _, l := range d.loops {
		loops = append(loops, l)
	}
	d.mu.Unlock()
	// First of all, every loop sends its priority-0 adverts, in parallel:
	// the Backups take over one Skew_Time after they arrive.
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(l.stop)
	}
	wg.Wait()
	d.mu.Lock()
	d.stopBFD()
	w := d.watcher
	d.watcher = nil
	d.mu.Unlock()
	if w != nil {
		w.Close() // outside d.mu: its consumer may be waiting for d.mu
	}
	d.work.close() // the withdrawals and hooks the shutdowns caused
	closed := map[*syncGroup]bool{}
	for _, g := range d.groups {
		if g.hooks != nil && !closed[g] {
			closed[g] = true
			closeHooks(g.hooks, d.hookTimeout)
		}
	}
	d.mu.Lock()
	if d.accept != nil {
		_ = d.accept.Close() // after the withdrawals; in one commit
	}
	for _, r := range d.routers {
		r.close()
	}
	for name := range d.pending {
		d.unpark(name, true)
	}
	waitScripts := d.stopScripts(nil)
	_ = d.routes.RemoveAll() // before the addresses they may use as a source
	d.stopFiles()
	_ = d.addrs.RemoveAll()
	d.rec.close() // the addresses are gone: so is the record
	_ = d.vmacs.RemoveAll()
	if d.arpGuard != nil {
		_ = d.arpGuard.Close()
	}
	d.announcer.Close()
	d.mu.Unlock()
	waitScripts()
	d.events.closeAll()
}

// numWorkers is the size of the pool running slow effects.
const numWorkers = 4

// openLoop returns the loop of key, starting it with a new socket when
// there is none. Called with d.mu held.
func (d *Daemon) openLoop(key ifaceKey) (*loop, error) {
	if l := d.loops[key]; l != nil {
		return l, nil
	}
	index := d.linkState(key.name).Index
	sock, p, err := d.listen(key)
	if err != nil {
		return nil, err
	}
	l := newLoop(key, sock, p, d.clock, d.work.submit)
	l.index = index
	d.loops[key] = l
	go l.run()
	return l, nil
}

// listenLinux opens the raw socket of key and a poller watching it.
func (d *Daemon) listenLinux(key ifaceKey) (socket, poller, error) {
	conn, err := linux.Listen(linux.ConnConfig{Interface: key.name, Family: key.fam, Exclude: d.isVIP, Netlink: d.nl})
	if err != nil {
		return nil, nil, err // says which interface and family; wraps linux.ErrNoSource
	}
	p, err := linux.NewPoller()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("poller of %s (%v): %w", key.name, key.fam, err)
	}
	if err := conn.WatchWith(p); err != nil {
		p.Close()
		conn.Close()
		return nil, nil, fmt.Errorf("poller of %s (%v): %w", key.name, key.fam, err)
	}
	return conn, p, nil
}

// releaseLoop drops a router's reference to its loop, and stops the loop
// when no router is left on it. Called with d.mu held.
func (d *Daemon) releaseLoop(l *loop) {
	d.loopRefs[l]--
	d.releaseLoopIfIdle(l)
}

// releaseLoopIfIdle stops l if no router holds it. Called with d.mu held.
func (d *Daemon) releaseLoopIfIdle(l *loop) {
	if d.loopRefs[l] > 0 {
		return
	}
	delete(d.loopRefs, l)
	if d.loops[l.key] == l {
		delete(d.loops, l.key)
	}
	l.stop()
}

// stopRouter takes r off its loop like a Shutdown event (a Master sends
// priority 0 and withdraws its addresses), waits for the effects that
// caused, and releases what it holds. Called without d.mu.
func (d *Daemon) stopRouter(r *vr) {
	r.l.do(func() { r.l.remove(r) })
	d.work.barrier(r.slot)
}

// watch (re)starts the link watcher over every interface a router runs on
// or tracks, and those of the BFD sessions. Called with d.mu held; the previous watcher is closed in the
// background, because its consumer may be waiting for d.mu.
func (d *Daemon) watch(cfg *config.Config) error {
	var names []string
	for _, b := range cfg.BFD {
		names = append(names, b.Interface)
	}
	for _, r := range cfg.Routers {
		names = append(names, r.Interface)
		for _, t := range r.Track.Interfaces {
			names = append(names, t.Name)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if old := d.watcher; old != nil {
		d.watcher = nil
		go old.Close()
	}
	w, err := linux.WatchLinks(linux.WatchConfig{Interfaces: names, Exclude: d.isVIP, Netlink: d.nl})
	if err != nil {
		return fmt.Errorf("watch links: %w", err)
	}
	d.watcher = w
	go func() {
		for st := range w.Events() {
			d.linkChanged(st)
		}
	}()
	return nil
}

// linkChanged dispatches a link snapshot to the routers it concerns, and
// hands an interface that appeared, went away or was re-created (a new
// index) to relink, for routers and BFD sessions.
func (d *Daemon) linkChanged(st linux.LinkState) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	again := false
	for _, r := range d.routers {
		// r.cfg belongs to the router's loop (a reload repoints it
		// there): decided here from what a reload cannot change.
		switch {
		case r.iface != st.Name:
		case st.Exists && r.l.index != st.Index:
			again = true // re-created: its socket is on the old device, relink restarts it
		case st.Exists && !r.advertFits(st.MTU):
			again = true // its MTU lowered below its advert: relink parks it
		default:
			// A configured source may have gone with an address change:
			// relink reads the addresses and parks the router then.
			again = again || r.l.index != st.Index || (st.Exists && r.source.IsValid())
			r.l.post(func() { r.setLink(st) })
			d.updateSource(r, st)
		}
		r.l.post(func() { r.trackLink(st) })
	}
	for _, p := range d.pending {
		again = again || (p.cfg.Interface == st.Name && (st.Exists || p.reason != faultMissing))
	}
	if again || d.bfdRelinks(st) {
		d.queueRelink(st.Name)
	}
}

// queueRelink runs relink for interface name in the background (it takes
// the reload lock, and a reload may be waiting for this watcher to close),
// unless one is queued already: that one reads the link when it runs, so
// it sees this change too.
func (d *Daemon) queueRelink(name string) {
	d.relinkMu.Lock()
	defer d.relinkMu.Unlock()
	if d.relinks[name] {
		return
	}
	if d.relinks == nil {
		d.relinks = map[string]bool{}
	}
	d.relinks[name] = true
	go d.relink(name)
}

// relink brings the routers of interface name in line with what it is now,
// read again here (snapshots may be stale by the time this runs, or come in
// any order): while it is missing its routers wait in Fault holding nothing
// (their socket, loop, VMAC and addresses went with it); when it exists they
// run on its current index, routers on a deleted one being restarted.
func (d *Daemon) relink(name string) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	// Dequeued before the link is read: a change from now on queues another.
	d.relinkMu.Lock()
	delete(d.relinks, name)
	d.relinkMu.Unlock()
	if d.stopping.Load() {
		return
	}
	st := d.linkState(name)
	d.mu.Lock()
	var stale []*vr
	for _, r := range d.routers {
		if r.cfg.Interface == name && (!st.Exists || r.l.index != st.Index || mtuFault(r.cfg, st) != nil || d.sourceFault(r.cfg) != nil) {
			stale = append(stale, r)
		}
	}
	d.mu.Unlock()
	for _, r := range stale {
		if st.Exists && r.l.index != st.Index {
			d.stopRouter(r)
			continue
		}
		// Gone, its adverts no longer fit the MTU, or its source is gone:
		// nothing can be sent there. The router goes to Fault like a link down (if the
		// watcher's snapshot has not done it yet), without the Shutdown's
		// transition out of it.
		r.l.do(func() {
			r.setLink(linux.LinkState{Name: name})
			r.l.detach(r)
		})
		d.work.barrier(r.slot)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var restart []config.Router
	// The stale routers' hooks (of their Fault, link down) may still run:
	// what comes next for the router follows them, nothing here waits.
	hooks := map[string]*notify.Runner{}
	for _, r := range stale {
		if r.hooks != nil {
			hooks[r.name], r.hooks = r.hooks, nil // off its loop: no effect reads it now
		}
		r.close()
		restart = append(restart, *r.cfg)
	}
	d.relinkBFD(name, st)
	if !st.Exists {
		for _, rc := range restart {
			d.park(rc, faultMissing, fsm.Fault, nil)
			if h := hooks[rc.Name]; h != nil {
				p := d.pending[rc.Name]
				p.hooks = h // handed to the router's next start (tryStartAfter)
				d.pending[rc.Name] = p
			}
		}
		for _, p := range d.pending {
			if p.cfg.Interface == name {
				d.park(p.cfg, faultMissing, fsm.Fault, nil) // had no address
			}
		}
		return
	}
	// Those whose adverts no longer fit, or lost their source, wait from
	// Fault, as for a missing interface; the pending ones below bring them
	// to tryStartAfter, which hands them their hooks and keeps them
	// waiting.
	fits := restart[:0]
	for _, rc := range restart {
		if err := mtuFault(&rc, st); err != nil {
			d.park(rc, faultMTU, fsm.Fault, err)
			continue
		}
		if err := d.sourceFault(&rc); err != nil {
			d.park(rc, faultSource, fsm.Fault, err)
			continue
		}
		fits = append(fits, rc)
	}
	restart = fits
	appeared := len(restart) > 0
	for _, p := range d.pending {
		if p.cfg.Interface == name {
			restart = append(restart, p.cfg)
			appeared = appeared || p.reason == faultMissing
		}
	}
	if appeared {
		d.log.Info("interface appeared; starting its routers", "interface", name, "index", st.Index)
	}
	d.tryStartAfter(restart, nil, hooks)
}

// updateSource follows a change of the interface's primary address (spec
// §2): adverts are sent from it and the tie-break compares it. Called with
// d.mu held for reading.
func (d *Daemon) updateSource(r *vr, st linux.LinkState) {
	src := st.Primary
	if r.fam == vrrp.IPv6 {
		src = st.LinkLocal
	}
	if r.guarded && src.IsValid() {
		if err := d.arpGuard.SetSource(r.iface, src); err != nil {
			r.logger().Warn("ARP guard: the parent's new address", "err", err)
		}
	}
	if r.fam == vrrp.IPv6 && r.vmac != nil {
		return // adverts are sent from the VMAC's own link-local
	}
	if !src.IsValid() || r.source.IsValid() {
		return // none, or the configured one: it does not follow the interface
	}
	r.l.post(func() {
		if src == r.send.Source() && src == r.vrrpCfg.Local {
			return
		}
		if r.send != r.l.sock {
			// The shared socket's source is the interface's; set it once
			// for all the routers on it.
			r.l.sock.SetSource(src)
		}
		r.setSource(src)
		r.l.emit(effect{kind: effEvent, r: r, msg: "advert source changed", ev: api.Event{Time: time.Now(), Router: r.cfg.Name, Type: "source", Detail: src.String()}})
	})
}

// startScripts starts the tracking scripts of cfg that are not running.
// Called with d.mu held.
func (d *Daemon) startScripts(cfg *config.Config) {
	for name, sc := range cfg.Scripts {
		if old := d.scripts[name]; old != nil && reflect.DeepEqual(old.cfg, sc) {
			continue
		}
		// The old run is cancelled; its last callback may still come,
		// harmlessly, before the new run reports.
		d.stopScripts([]string{name})
		ctx, cancel := context.WithCancel(context.Background())
		run := &scriptRun{cfg: sc, cancel: cancel, done: make(chan struct{})}
		run.failed.Store(!sc.InitUnknown)
		run.unknown.Store(sc.InitUnknown)
		d.scripts[name] = run
		s := &track.Script{Name: name, Argv: sc.Exec, Interval: sc.Interval, Timeout: sc.Timeout, Rise: sc.Rise, Fall: sc.Fall, Log: d.log, InitUnknown: sc.InitUnknown, Cred: sc.Cred()}
		go func() {
			defer close(run.done)
			s.Run(ctx, func(failed bool) {
				run.failed.Store(failed)
				run.unknown.Store(false)
				d.scriptChanged(name, failed)
			})
		}()
	}
}

// stopScripts stops the named scripts, or all when names is nil (their
// processes are killed), and returns a function that waits for them. Called
// with d.mu held; wait after releasing it, since a script's callback takes
// d.mu to find its routers.
func (d *Daemon) stopScripts(names []string) (wait func()) {
	var done []chan struct{}
	for name, run := range d.scripts {
		if names != nil && !slices.Contains(names, name) {
			continue
		}
		run.cancel()
		done = append(done, run.done)
		delete(d.scripts, name)
	}
	return func() {
		for _, c := range done {
			<-c
		}
	}
}

// scriptChanged runs on the script's goroutine. Which routers track the
// script is decided on each router's loop: r.cfg belongs to the loop, and a
// reload may be repointing it right now.
func (d *Daemon) scriptChanged(name string, failed bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.routers {
		r.l.post(func() {
			if slices.ContainsFunc(r.cfg.Track.Scripts, func(t config.TrackItem) bool { return t.Name == name }) {
				r.setTracked("script:"+name, failed)
			}
		})
	}
}

// Daemon implements api.Backend and the metrics source of the daemon-wide
// counters.
func (d *Daemon) Daemon() api.DaemonStatus {
	open, cut := d.events.streams()
	return api.DaemonStatus{EventStreams: open, EventStreamsDropped: cut}
}

// Subscribe implements api.Backend.
func (d *Daemon) Subscribe(ctx context.Context, history int) ([]api.Event, <-chan api.Event) {
	return d.events.subscribe(ctx, history)
}
