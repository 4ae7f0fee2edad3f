// Package daemon wires govrrpd together: configuration in, one goroutine per
// virtual router owning its state machine (package fsm), the Linux data
// plane (package linux) for sockets, addresses, announcements and VMACs,
// tracking, notify hooks, and the snapshots the control API and metrics read.
//
// A packet's path: the interface's raw socket (linux.Conn) → linux.Demux,
// which runs vrrp.Validate with the real TTL and routes by VRID → the
// router: handled inline when its goroutine is idle, else through its
// channel → fsm.Router.Handle → actions executed on the router's goroutine
// (send an advert on the router's socket, install addresses with netlink,
// GARP/NA). See docs/ARCHITECTURE.md.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/internal/track"
	"govrrp/vrrp"
)

// Options tune a Daemon.
type Options struct {
	Log *slog.Logger
	// ConfigFile is re-read by Reload from the API.
	ConfigFile string
	// HookTimeout bounds each notify hook run (default 30s).
	HookTimeout time.Duration
	// Netlink is the handle for the daemon's namespace (nil: the process's).
	Netlink *netlink.Handle
}

// Daemon runs the virtual routers of one configuration.
type Daemon struct {
	log         *slog.Logger
	nl          *netlink.Handle
	clock       *fsm.RealClock
	hookTimeout time.Duration
	file        string

	addrs    *linux.Addresses
	vmacs    *linux.VMACs
	arpGuard *linux.ARPGuard // created with the first IPv4 VMAC router
	events   *eventLog

	mu      sync.RWMutex
	cfg     *config.Config
	routers map[string]*vr
	ifaces  map[ifaceKey]*iface
	vips    atomic.Pointer[map[netip.Addr]bool]
	scripts map[string]*scriptRun
	watcher *linux.LinkWatcher
	// pending holds routers that could not start (their interface is
	// missing); they start when the interface appears.
	pending map[string]config.Router
	// ifIndex remembers each interface's index: a new one means it was
	// deleted and re-created, and its routers must reopen their sockets.
	ifIndex map[string]int

	rateLog     *rateLimiter
	unknownVRID atomic.Uint64
	reloadMu    sync.Mutex
}

type scriptRun struct {
	cfg    config.Script
	cancel context.CancelFunc
	done   chan struct{}
	failed atomic.Bool
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
		log: opts.Log, nl: opts.Netlink, clock: fsm.NewRealClock(), hookTimeout: opts.HookTimeout, file: opts.ConfigFile,
		addrs: linux.NewAddresses(opts.Netlink), vmacs: linux.NewVMACs(opts.Netlink), events: newEventLog(),
		cfg: cfg, routers: map[string]*vr{}, ifaces: map[ifaceKey]*iface{}, scripts: map[string]*scriptRun{},
		pending: map[string]config.Router{}, ifIndex: map[string]int{},
		rateLog: newRateLimiter(10 * time.Second),
	}
	d.setVIPs(cfg)
	return d
}

func (d *Daemon) setVIPs(cfg *config.Config) {
	m := map[netip.Addr]bool{}
	for _, r := range cfg.Routers {
		for _, a := range r.Addresses {
			m[a.Addr()] = true
		}
	}
	d.vips.Store(&m)
}

// isVIP keeps virtual addresses from being picked as advert sources or
// reported as primary addresses.
func (d *Daemon) isVIP(a netip.Addr) bool { return (*d.vips.Load())[a] }

// Start opens everything and starts every router. A router that cannot
// start (its interface is missing, say) is logged and the others run.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, rc := range d.cfg.Routers {
		d.tryStart(rc, &errs)
	}
	d.startScripts(d.cfg)
	if err := d.watch(d.cfg); err != nil {
		errs = append(errs, err)
	}
	if len(d.routers) == 0 && len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// tryStart starts rc, or parks it until its interface appears. Called with
// d.mu held.
func (d *Daemon) tryStart(rc config.Router, errs *[]error) {
	if _, err := d.startRouter(rc); err != nil {
		if !linux.ReadLinkState(d.nl, rc.Interface, d.isVIP).Exists || errors.Is(err, linux.ErrNoSource) {
			d.pending[rc.Name] = rc
			d.log.Warn("interface missing or without an address; the router starts when it is usable", "router", rc.Name, "interface", rc.Interface, "err", err)
			return
		}
		if errs != nil {
			*errs = append(*errs, err)
		}
		d.log.Error("router not started", "router", rc.Name, "err", err)
	}
}

// Stop shuts every router down as the protocol says (masters send
// priority 0 and withdraw their addresses), kills the scripts and removes
// what the daemon created.
func (d *Daemon) Stop() {
	d.mu.Lock()
	w := d.watcher
	d.watcher = nil
	d.mu.Unlock()
	if w != nil {
		w.Close() // outside d.mu: its consumer may be waiting for d.mu
	}
	d.mu.Lock()
	routers := make([]*vr, 0, len(d.routers))
	for _, r := range d.routers {
		routers = append(routers, r)
	}
	d.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range routers {
		wg.Go(r.shutdown)
	}
	wg.Wait()
	d.mu.Lock()
	for _, r := range routers {
		r.close()
	}
	waitScripts := d.stopScripts(nil)
	_ = d.addrs.RemoveAll()
	_ = d.vmacs.RemoveAll()
	if d.arpGuard != nil {
		_ = d.arpGuard.Close()
	}
	d.mu.Unlock()
	waitScripts()
	d.events.closeAll()
}

// watch (re)starts the link watcher over every interface a router runs on
// or tracks. Called with d.mu held; the previous watcher is closed in the
// background, because its consumer may be waiting for d.mu.
func (d *Daemon) watch(cfg *config.Config) error {
	var names []string
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

// linkChanged dispatches a link snapshot to the routers it concerns.
func (d *Daemon) linkChanged(st linux.LinkState) {
	if st.Exists && d.recreated(st) {
		// In the background: reopen takes the reload lock, and a reload
		// may be waiting for this watcher to close.
		go d.reopen(st.Name)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.routers {
		if r.cfg.Interface == st.Name {
			r.post(func() { r.setLink(st) })
			d.updateSource(r, st)
		}
		for _, t := range r.cfg.Track.Interfaces {
			if t.Name == st.Name {
				r.post(func() { r.setTracked("interface:"+st.Name, !st.Usable()) })
			}
		}
	}
}

// recreated records the interface's index and reports whether it changed
// (deleted and re-created), or whether parked routers wait for it.
func (d *Daemon) recreated(st linux.LinkState) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.ifIndex[st.Name]
	d.ifIndex[st.Name] = st.Index
	if old != 0 && old != st.Index {
		return true
	}
	for _, rc := range d.pending {
		if rc.Interface == st.Name {
			return true
		}
	}
	return false
}

// reopen restarts the routers of an interface that came back (their
// sockets, VMACs and addresses died with it) and starts parked ones.
func (d *Daemon) reopen(name string) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	d.mu.Lock()
	var stale []*vr
	for _, r := range d.routers {
		if r.cfg.Interface == name {
			stale = append(stale, r)
		}
	}
	d.mu.Unlock()
	for _, r := range stale {
		r.shutdown()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var restart []config.Router
	for _, r := range stale {
		restart = append(restart, r.cfg)
		r.close()
	}
	for n, rc := range d.pending {
		if rc.Interface == name {
			restart = append(restart, rc)
			delete(d.pending, n)
		}
	}
	for _, rc := range restart {
		d.log.Info("interface is back; starting router", "router", rc.Name, "interface", name)
		d.tryStart(rc, nil)
	}
}

// updateSource follows a change of the interface's primary address (spec
// §2): adverts are sent from it and the tie-break compares it.
func (d *Daemon) updateSource(r *vr, st linux.LinkState) {
	src := st.Primary
	if r.cfg.Family == vrrp.IPv6 {
		if r.vmac != nil {
			return // sent from the VMAC's own link-local
		}
		src = st.LinkLocal
	}
	if !src.IsValid() || src == r.ifc.conn.Source() {
		return
	}
	r.ifc.conn.SetSource(src)
	if r.ownSend {
		r.send.SetSource(src)
	}
	r.log.Info("advert source changed", "source", src)
	r.post(func() {
		// The Demux may be validating with the old Config right now:
		// register a copy rather than writing to it.
		vc := *r.vrrpCfg
		vc.Local = src
		r.vrrpCfg = &vc
		r.ifc.demux.Register(r.cfg.VRID, r.vrrpCfg, r.deliver)
		r.handle(fsm.SetPrimary(src))
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
		run.failed.Store(true)
		d.scripts[name] = run
		s := &track.Script{Name: name, Argv: sc.Exec, Interval: sc.Interval, Timeout: sc.Timeout, Rise: sc.Rise, Fall: sc.Fall, Log: d.log}
		go func() {
			defer close(run.done)
			s.Run(ctx, func(failed bool) {
				run.failed.Store(failed)
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

func (d *Daemon) scriptChanged(name string, failed bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, r := range d.routers {
		for _, t := range r.cfg.Track.Scripts {
			if t.Name == name {
				r.post(func() { r.setTracked("script:"+name, failed) })
			}
		}
	}
}

// Subscribe implements api.Backend.
func (d *Daemon) Subscribe(ctx context.Context, history int) ([]api.Event, <-chan api.Event) {
	return d.events.subscribe(ctx, history)
}
