package daemon

import (
	"cmp"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/notify"
	"govrrp/internal/track"
	"govrrp/vrrp"
)

// Reload implements api.Backend: re-read the configuration file and apply
// it. A file that fails validation is refused and the running
// configuration stays; one log line gives the count and the first errors.
// One reload at a time, checked against what the one before it left.
func (d *Daemon) Reload() api.ReloadResult {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	// The addresses this daemon installed are not the host's; those it
	// has not are, even when configured (config.Installed).
	cfg, warns, err := config.LoadAndCheck(d.file, config.Installed(config.System{}, d.rec.recorded))
	if err != nil {
		sum := config.Summary(err)
		d.log.Error("reload refused; the running configuration stays", "file", d.file, "err", sum)
		d.events.publish(api.Event{Time: time.Now(), Type: "reload", Detail: "refused: " + sum})
		res := api.ReloadResult{OK: false, Error: err.Error()}
		// The refused file's tree and errors are garbage now: give the
		// memory back, as after a reload that succeeds.
		releaseMemory()
		return res
	}
	for _, w := range warns {
		d.log.Warn("configuration", "warning", w.Error())
	}
	return d.applyLocked(cfg)
}

// skippedKeys lists the keys of cfg that differ from what govrrpd started
// with (old: startOnly) and take effect only at its next start, with where
// they are in cfg's file (the file alone for a key removed) and why. Each
// reload reports them again until a restart applies them.
func skippedKeys(old, cfg *config.Config) []api.SkippedKey {
	var out []api.SkippedKey
	at := func(key string) string {
		if p, ok := cfg.KeyPos[key]; ok {
			return p.String()
		}
		return cfg.File
	}
	for _, k := range []struct {
		key, why string
		changed  bool
	}{
		{"control_socket", "the control socket is opened once, at start", old.ControlSocket != cfg.ControlSocket},
		{"control_group", "the control socket's group is set when it is opened, at start", old.ControlGroup != cfg.ControlGroup},
		{"metrics_listen", "the metrics listener is opened once, at start", old.MetricsListen != cfg.MetricsListen},
		{"snmp_agentx", "the SNMP subagent starts once, at start", old.SNMPAgentX != cfg.SNMPAgentX},
		{"notify_timeout", "the hook runners take it when they start", old.NotifyTimeout != cfg.NotifyTimeout},
		{"notify_user", "the hook runners take it when they start", old.NotifyAs.User != cfg.NotifyAs.User},
		{"notify_group", "the hook runners take it when they start", old.NotifyAs.Group != cfg.NotifyAs.Group},
		{"log.format", "the log handler is made once, at start (log.level applies now)", old.Log.Format != cfg.Log.Format},
		// Their tracked objects, which config gives every member, apply now.
		{"sync_groups", "membership and notify hooks of sync groups are set at start (their tracked objects apply now)", !sameGroups(old.SyncGroups, cfg.SyncGroups)},
	} {
		if k.changed {
			key, _, _ := strings.Cut(k.key, ".")
			out = append(out, api.SkippedKey{Key: k.key, Pos: at(key), Why: k.why})
		}
	}
	return out
}

// startOnly keeps of cfg what only a start applies (skippedKeys), not its
// routers: at thousands of routers they are most of its memory.
func startOnly(cfg *config.Config) *config.Config {
	return &config.Config{File: cfg.File, ControlSocket: cfg.ControlSocket, ControlGroup: cfg.ControlGroup, MetricsListen: cfg.MetricsListen,
		SNMPAgentX: cfg.SNMPAgentX, NotifyTimeout: cfg.NotifyTimeout, NotifyAs: cfg.NotifyAs, Log: cfg.Log, SyncGroups: cfg.SyncGroups}
}

// sameGroups compares what a reload does not change of sync groups: their
// members and hooks (their tracked objects are the members' own by then).
func sameGroups(a, b []config.SyncGroup) bool {
	return slices.EqualFunc(a, b, func(x, y config.SyncGroup) bool {
		return x.Name == y.Name && slices.Equal(x.Routers, y.Routers) && reflect.DeepEqual(x.Notify, y.Notify) && reflect.DeepEqual(x.Hooks, y.Hooks)
	})
}

// comparable drops what does not change behaviour (positions in the file).
func comparable(c config.Router) config.Router {
	c.Pos, c.KeyPos = config.Pos{}, nil
	return c
}

// needsRestart reports whether going from a to b cannot be done in place:
// what identifies the router or its sockets changed, it gains or loses
// ownership of its addresses, or an address changes how it is installed.
func needsRestart(a, b config.Router) bool {
	return a.Interface != b.Interface || a.VRID != b.VRID || a.Version != b.Version || a.Family != b.Family ||
		a.VMAC != b.VMAC || !slices.Equal(a.UnicastPeers, b.UnicastPeers) || a.UnicastSource != b.UnicastSource || a.MulticastSource != b.MulticastSource || a.Owner() != b.Owner() ||
		placeChanged(a, b)
}

// placeChanged reports whether a VIP of both a and b changes its device,
// label or scope, or an address moves between the VIPs and the excluded
// addresses: the plain VIPs and the others are installed by different
// paths (prefixes, setExtras), and neither would take the address over
// from the other in place.
func placeChanged(a, b config.Router) bool {
	inA, exA := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, p := range a.Addresses {
		inA[p.Addr()] = true
	}
	for _, p := range a.Excluded {
		exA[p.Addr()] = true
	}
	for _, p := range b.Addresses {
		if exA[p.Addr()] || inA[p.Addr()] && a.AddrOpts[p.Addr()] != b.AddrOpts[p.Addr()] {
			return true
		}
	}
	for _, p := range b.Excluded {
		if inA[p.Addr()] {
			return true
		}
	}
	return false
}

// Apply diffs cfg against the running configuration: unchanged routers keep
// running untouched (no transition, no advert gap), changed ones are updated
// in place where the protocol allows and restarted otherwise, removed ones
// shut down like a Shutdown event, new ones start.
func (d *Daemon) Apply(cfg *config.Config) api.ReloadResult {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	return d.applyLocked(cfg)
}

// applyLocked is Apply, called with d.reloadMu held.
func (d *Daemon) applyLocked(cfg *config.Config) api.ReloadResult {
	forgetPositions(cfg)
	var res api.ReloadResult
	res.OK = true

	d.mu.Lock()
	old := d.cfg
	res.Skipped = skippedKeys(d.boot, cfg)
	for _, k := range res.Skipped {
		d.log.Warn("changed key not applied: it takes effect at the next start of govrrpd", "key", k.Key, "pos", k.Pos, "why", k.Why)
	}
	if old.Log.Level != cfg.Log.Level {
		// The file's level changed: the operator's edit wins over a
		// level set at run time (govrrp log-level), which a reload
		// otherwise keeps.
		if l, err := api.ParseLogLevel(cmp.Or(cfg.Log.Level, "info")); err == nil {
			d.level.Set(l)
		}
	}
	// During the change both old and new VIPs stay excluded from sources.
	union := &config.Config{Routers: append(slices.Clone(d.cfg.Routers), cfg.Routers...)}
	d.setVIPs(union)
	wanted := map[string]bool{}
	var stopping []*vr
	var restart []config.Router
	// Unchanged routers are pointed at the new configuration's entry (the
	// same but for positions in the file), so the old one can be freed.
	type repoint struct {
		r *vr
		c *config.Router
	}
	var same []repoint
	var update []struct {
		r *vr
		c config.Router
	}
	for i, rc := range cfg.Routers {
		wanted[rc.Name] = true
		r := d.routers[rc.Name]
		p, waiting := d.pending[rc.Name]
		switch {
		case waiting && reflect.DeepEqual(comparable(p.cfg), comparable(rc)):
			// Still waits for its interface; relink starts it.
			p.cfg = rc
			d.pending[rc.Name] = p
			res.Unchanged = append(res.Unchanged, rc.Name)
			if p.reason == faultHostAddress || p.reason == faultOwnerAddress {
				// Looked at again: the reload is how the operator says
				// the address is gone, or there (a VIP changes no link
				// snapshot).
				restart = append(restart, rc)
			}
		case waiting:
			restart = append(restart, rc)
			res.Restarted = append(res.Restarted, rc.Name)
		case r == nil:
			restart = append(restart, rc)
			res.Added = append(res.Added, rc.Name)
		case reflect.DeepEqual(comparable(*r.cfg), comparable(rc)):
			same = append(same, repoint{r, &cfg.Routers[i]})
			res.Unchanged = append(res.Unchanged, rc.Name)
		case needsRestart(*r.cfg, rc):
			stopping = append(stopping, r)
			restart = append(restart, rc)
			res.Restarted = append(res.Restarted, rc.Name)
		default:
			update = append(update, struct {
				r *vr
				c config.Router
			}{r, rc})
		}
	}
	for name, r := range d.routers {
		if !wanted[name] {
			stopping = append(stopping, r)
			res.Removed = append(res.Removed, name)
		}
	}
	for name := range d.pending {
		if !wanted[name] {
			d.unpark(name, false)
			res.Removed = append(res.Removed, name)
		}
	}
	for name := range d.disabled {
		if !wanted[name] {
			delete(d.disabled, name) // removed: a router of that name added later starts enabled
		}
	}
	d.startScripts(cfg)
	d.startFiles(cfg)
	d.reloadBFD(cfg.BFD)
	d.startBFDMaster(cfg.Routers)
	d.mu.Unlock()

	// On their loops, which read r.cfg: one message per loop.
	byLoop := map[*loop][]repoint{}
	for _, p := range same {
		byLoop[p.r.l] = append(byLoop[p.r.l], p)
	}
	for l, ps := range byLoop {
		if l == nil || !l.do(func() {
			for _, p := range ps {
				p.r.setCfg(p.c)
			}
		}) {
			continue // its loop stopped: the router is going
		}
	}

	for _, u := range update {
		if u.r.reconfigure(u.c) {
			res.Updated = append(res.Updated, u.c.Name)
			continue
		}
		stopping = append(stopping, u.r)
		restart = append(restart, u.c)
		res.Restarted = append(res.Restarted, u.c.Name)
	}
	for _, r := range stopping {
		d.stopRouter(r)
	}

	d.mu.Lock()
	if d.accept != nil {
		// The stopped routers' addresses are gone: release their drops
		// in one commit rather than one (of ~15 ms) each.
		var names []string
		for _, r := range stopping {
			if r.dropping != nil {
				names = append(names, r.name)
			}
		}
		if err := d.accept.Forget(names...); err != nil {
			d.log.Error("accept: release the drops of stopped routers", "err", err)
		}
	}
	for _, r := range stopping {
		r.close()
	}
	d.cfg = cfg
	var errs []error
	d.tryStart(restart, &errs)
	if len(errs) > 0 {
		res.OK, res.Error = false, errors.Join(errs...).Error()
	}
	var gone []string
	for name := range d.scripts {
		if _, ok := cfg.Scripts[name]; !ok {
			gone = append(gone, name)
		}
	}
	waitScripts := func() {}
	if len(gone) > 0 { // stopScripts(nil) would stop them all
		waitScripts = d.stopScripts(gone)
	}
	if d.watchLinks {
		if err := d.watch(cfg); err != nil {
			d.log.Error("link watcher", "err", err)
		}
	}
	d.setVIPs(cfg)
	d.mu.Unlock()
	waitScripts()

	releaseMemory()
	d.log.Info("configuration reloaded", "unchanged", res.Unchanged, "updated", res.Updated, "restarted", res.Restarted, "added", res.Added, "removed", res.Removed, "skipped", len(res.Skipped))
	detail := "applied"
	if len(res.Skipped) > 0 {
		keys := make([]string, len(res.Skipped))
		for i, k := range res.Skipped {
			keys[i] = k.Key
		}
		detail += "; waiting for a restart: " + strings.Join(keys, ", ")
	}
	d.events.publish(api.Event{Time: time.Now(), Type: "reload", Detail: detail})
	return res
}

// reconfigure applies c in place on the router's loop; false means the
// state machine wants a restart instead.
func (r *vr) reconfigure(c config.Router) bool {
	ok := false
	var refused error
	var oldHooks *notify.Runner
	// The scripts' runs, which need d.mu; their states are read on the
	// loop (retrack): a result that comes meanwhile finds the old r.cfg
	// there, which does not track the script, and is read then.
	runs := map[string]*scriptRun{}
	r.d.mu.RLock()
	for _, t := range c.Track.Scripts {
		runs[t.Name] = r.d.scripts[t.Name]
	}
	r.d.mu.RUnlock()
	// Netlink is read here, not on the loop.
	usable := map[string]bool{}
	for _, t := range c.Track.Interfaces {
		usable[t.Name] = r.d.linkState(t.Name).Usable()
	}
	// The ARP guard follows changed addresses: the new ones are guarded
	// before the loop can install them, the old ones released once it has
	// applied the change (or the new ones again if it refused). r.cfg is
	// written only by this function, on the loop, so reading it here is
	// safe. Netlink work, hence off the loop.
	oldVIPs := r.cfg.VIPs()
	reguard := r.guarded && !slices.Equal(oldVIPs, c.VIPs())
	if reguard {
		if err := r.d.arpGuard.Guard(c.Interface, c.VIPs()); err != nil {
			r.logger().Warn("guarding the new addresses", "err", err)
		}
	}
	r.l.do(func() {
		acts, err := r.fsm.Reconfigure(r.fsmConfig(&c, r.fsm.Status().Primary))
		if errors.Is(err, fsm.ErrRestartNeeded) || err != nil {
			refused = err
			return
		}
		ok = true
		old := r.cfg
		r.setCfg(&c)
		r.prevAddrs = old.Addresses
		r.setMessage(&c)
		vc := r.vrrpCfg // only this loop reads it: changed in place
		vc.Priority, vc.Interval, vc.Addresses, vc.AuthType, vc.AuthData = c.Priority, c.AdvertInterval, c.VIPs(), r.msg.AuthType, r.msg.AuthData
		vc.Checksum, vc.Strict, vc.V2Compat = c.Checksum, c.Strict, c.V2Compat
		if !reflect.DeepEqual(old.Notify, c.Notify) || !reflect.DeepEqual(old.Hooks, c.Hooks) {
			oldHooks = r.hooks
			r.hooks = r.d.newHooks(&c, r.logger())
		}
		r.retrack(c, usable, runs)
		r.exec(acts)
		if r.fsm.State() == fsm.Master {
			// Other addresses, routes and rules changed in place,
			// after the addresses the reload added: the old ones out,
			// the new ones in.
			r.setExtras(r.extras())
			r.setRoutes(c.Routes, c.Rules)
		}
		r.syncAccept()
		if old.Accept && !c.Accept && c.Family == vrrp.IPv6 && r.fsm.State() == fsm.Master && !r.cfg.Owner() {
			// Accept turned off: the IPv6 VIPs in place must stop being
			// picked as sources (AddNoSource replaces them).
			r.l.emit(effect{kind: effAddAddresses, r: r, dev: r.addrDevice(), prefixes: c.Addresses, noSource: true})
		}
		r.applyTracking()
		r.releaseHeld()
		r.l.rearm(r)
	})
	if reguard {
		release := oldVIPs
		if !ok {
			release = c.VIPs()
		}
		if err := r.d.arpGuard.Release(c.Interface, release); err != nil {
			r.logger().Warn("releasing the old addresses' guard", "err", err)
		}
	}
	if oldHooks != nil {
		go closeHooks(oldHooks, r.d.hookTimeout)
	}
	if refused != nil {
		r.logger().Info("change needs a restart", "err", refused)
	}
	return ok
}

// retrack rebuilds the tracked objects, keeping the state of those that
// stay; usable gives the link state of newly tracked interfaces, runs the
// runs of newly tracked scripts, whose state is read now (object). A
// script of weight 0 still unknown changes nothing here: a running router
// is not held, as keepalived holds none at a reload.
func (r *vr) retrack(c config.Router, usable map[string]bool, runs map[string]*scriptRun) {
	prev, unknown := map[string]bool{}, map[string]bool{}
	for _, o := range r.tracked {
		prev[o.Name], unknown[o.Name] = o.Failed, o.Unknown
	}
	r.tracked = r.tracked[:0]
	for _, t := range c.Track.Interfaces {
		name := "interface:" + t.Name
		failed, ok := prev[name]
		if !ok {
			failed = !usable[t.Name]
		}
		r.tracked = append(r.tracked, track.Object{Name: name, Weight: t.Weight, Failed: failed})
	}
	for _, t := range c.Track.Scripts {
		name := "script:" + t.Name
		o := runs[t.Name].object(t)
		if failed, kept := prev[name]; kept {
			o.Failed, o.Unknown = failed, unknown[name]
		}
		r.tracked = append(r.tracked, o)
	}
	r.tracked = append(r.tracked, r.d.fileObjects(&c)...)
	// A session's state is read afresh: reverse may have changed, and a
	// session the reload restarted counts as down.
	for _, t := range c.Track.BFD {
		r.tracked = append(r.tracked, track.Object{Name: bfdObjectName(t.Name), Weight: t.Weight, Failed: r.d.bfdFailed(t)})
	}
}
