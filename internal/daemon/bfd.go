package daemon

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
	"govrrp/internal/linux"
)

// The top-level BFD sessions (config.BFDSession) run on one bfdrun.Runner:
// its own event loop, started with the first session and shut down with
// the daemon (AdminDown to every peer). State changes leave the runner's
// loop through a bounded queue; logging them is this file's worker's job.
// Routers tracking a session by name, and a Backup's session to its Master,
// plug in here (issue 16, phase 2).

// bfdQueue bounds the state changes and stalls waiting to be logged;
// beyond it they are dropped from the log (the sessions' counters keep
// them), never blocking the runner's loop.
const bfdQueue = 256

// The maps are written with d.mu held (start, reload, relink).
type bfdSessions struct {
	run *bfdrun.Runner
	cfg map[string]config.BFDSession // running
	// index is the interface index a running session's sockets are on: a
	// re-created interface (a new index) restarts the session (relinkBFD).
	index map[string]int
	// waiting are the sessions whose interface or local address is
	// missing: they start when it appears (relinkBFD) or at a reload that
	// finds it.
	waiting map[string]bfdWaiting
	changes chan bfdrun.Change
	stalls  chan bfdrun.Stall
	done    chan struct{}
}

// bfdWaiting is a session that waits, and for what: "interface-missing",
// "local-address-missing", "no-route-to-peer" (the interface has no
// address in the peer's subnet yet) or "start-failed" (the log says why)
// (api.BFDSession.Waiting). Each change of the interface tries again.
type bfdWaiting struct {
	cfg    config.BFDSession
	reason string
}

func bfdSessionConfig(c config.BFDSession) bfdrun.SessionConfig {
	return bfdrun.SessionConfig{Name: c.Name, Interface: c.Interface, Peer: c.Peer, Local: c.Local, Config: bfdParams(c)}
}

func bfdParams(c config.BFDSession) session.Config {
	return session.Config{DesiredMinTx: c.MinTx, RequiredMinRx: c.MinRx, DetectMult: c.Multiplier, Passive: c.Passive}
}

// startBFD starts the runner and the sessions of cfg, if any. A session
// whose interface is missing waits for it (relinkBFD); one that cannot
// start otherwise is logged; the others run.
func (d *Daemon) startBFD(sessions []config.BFDSession) {
	if len(sessions) == 0 || !d.ensureBFD() {
		return
	}
	for _, c := range sessions {
		d.addBFD(c)
	}
}

// ensureBFD starts the runner if it is not running; false if it cannot.
func (d *Daemon) ensureBFD() bool {
	if d.bfd != nil {
		return true
	}
	b := &bfdSessions{cfg: map[string]config.BFDSession{}, index: map[string]int{}, waiting: map[string]bfdWaiting{},
		changes: make(chan bfdrun.Change, bfdQueue),
		stalls:  make(chan bfdrun.Stall, bfdQueue), done: make(chan struct{})}
	run, err := bfdrun.New(bfdrun.Options{Notify: func(c bfdrun.Change) {
		mb := d.mbNotify(c)
		select {
		case b.changes <- c:
		default:
		}
		if !mb {
			// The tracking routers' (bfdtrack.go): top-level sessions
			// only, so the sessions peers open keep no state there.
			d.bfdChanged(c)
		}
	}, Stalled: func(s bfdrun.Stall) {
		select {
		case b.stalls <- s:
		default: // the sessions' host_stalls counters keep the count
		}
	}})
	if err != nil {
		d.log.Error("bfd: no session runs", "err", err)
		return false
	}
	b.run = run
	go run.Run()
	go d.logBFD(b)
	d.bfd = b
	return true
}

// addBFD starts session c, or leaves it waiting for its interface, its
// local address or a route to the peer (logged once per reason).
func (d *Daemon) addBFD(c config.BFDSession) {
	was, waited := d.bfd.waiting[c.Name]
	if !waited {
		d.bfdRestarted(c.Name)
	}
	reason := ""
	st := d.linkState(c.Interface)
	switch {
	case !st.Exists:
		reason = "interface-missing"
	case c.Local.IsValid():
		if held, err := d.addrs.Held(c.Interface, []netip.Addr{c.Local}); err == nil && len(held) == 0 {
			reason = "local-address-missing"
		}
	}
	var err error
	if reason == "" {
		if err = d.bfd.run.Add(bfdSessionConfig(c)); err != nil {
			// An interface that has just appeared may have no address
			// or route yet: the next change of it tries again.
			reason = "start-failed"
			if linux.Unreachable(err) {
				reason = "no-route-to-peer"
			}
		}
	}
	if reason != "" {
		d.bfd.waiting[c.Name] = bfdWaiting{cfg: c, reason: reason}
		if !waited || was.reason != reason {
			attrs := []any{"session", c.Name, "interface", c.Interface, "local_address", addrString(c.Local)}
			if err != nil {
				attrs = append(attrs, "err", err)
			}
			d.log.Warn("bfd session waits: "+strings.ReplaceAll(reason, "-", " "), attrs...)
		}
		return
	}
	delete(d.bfd.waiting, c.Name)
	if waited {
		d.log.Info("bfd session started", "session", c.Name, "interface", c.Interface)
	}
	d.bfd.cfg[c.Name], d.bfd.index[c.Name] = c, st.Index
}

// removeBFD ends a running session (AdminDown to the peer).
func (d *Daemon) removeBFD(name string) {
	if err := d.bfd.run.Remove(name); err != nil {
		d.log.Error("bfd session not removed", "session", name, "err", err)
	}
	delete(d.bfd.cfg, name)
	delete(d.bfd.index, name)
}

// relinkBFD follows interface name as it is now (st): the sessions waiting
// for it (or for an address on it) try again, and those whose sockets are
// on an earlier device of that name (deleted and made again) restart on the
// new one. While it is missing, a running session's detection time fails
// it, as any lost path. Called with d.mu held.
func (d *Daemon) relinkBFD(name string, st linux.LinkState) {
	if d.bfd == nil {
		return
	}
	if !st.Exists {
		for n, w := range d.bfd.waiting {
			if w.cfg.Interface == name {
				w.reason = "interface-missing" // was: its address
				d.bfd.waiting[n] = w
			}
		}
		return
	}
	var start []config.BFDSession
	for _, w := range d.bfd.waiting {
		if w.cfg.Interface == name {
			start = append(start, w.cfg)
		}
	}
	for n, c := range d.bfd.cfg {
		if c.Interface == name && d.bfd.index[n] != st.Index {
			d.log.Info("interface re-created; restarting its bfd session", "session", n, "interface", name)
			d.removeBFD(n)
			start = append(start, c)
		}
	}
	slices.SortFunc(start, func(a, b config.BFDSession) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range start {
		d.addBFD(c)
	}
}

// bfdRelinks says whether interface st concerns a BFD session: one waits
// for it or an address on it, or runs on an earlier device of that name.
// Called with d.mu held for reading.
func (d *Daemon) bfdRelinks(st linux.LinkState) bool {
	if d.bfd == nil || !st.Exists {
		return false
	}
	for _, w := range d.bfd.waiting {
		if w.cfg.Interface == st.Name {
			return true
		}
	}
	for n, c := range d.bfd.cfg {
		if c.Interface == st.Name && d.bfd.index[n] != st.Index {
			return true
		}
	}
	return false
}

// reloadBFD brings the running sessions to cfg: removed ones end with
// AdminDown, new ones start, changed intervals apply through a Poll, and a
// changed peer, interface or local address restarts the session.
func (d *Daemon) reloadBFD(sessions []config.BFDSession) {
	if d.bfd == nil {
		d.startBFD(sessions)
		return
	}
	want := map[string]config.BFDSession{}
	for _, c := range sessions {
		want[c.Name] = c
	}
	for name, old := range d.bfd.cfg {
		c, ok := want[name]
		if ok && c.Peer == old.Peer && c.Interface == old.Interface && c.Local == old.Local {
			continue
		}
		d.removeBFD(name)
	}
	// The waiting ones are looked at afresh: started below if what they
	// wait for is there now, or waiting again (not logged again).
	for name, w := range d.bfd.waiting {
		c, ok := want[name]
		c.Pos = w.cfg.Pos // where it is written is no change
		if !ok || w.cfg != c {
			delete(d.bfd.waiting, name)
		}
	}
	for _, c := range sessions {
		old, running := d.bfd.cfg[c.Name]
		switch {
		case !running:
			d.addBFD(c)
		case bfdParams(old) != bfdParams(c):
			if err := d.bfd.run.Reconfigure(c.Name, bfdParams(c)); err != nil {
				d.log.Error("bfd session not reconfigured", "session", c.Name, "err", err)
				continue
			}
			d.bfd.cfg[c.Name] = c
		}
	}
}

// stopBFD says AdminDown to every peer and stops the runner.
func (d *Daemon) stopBFD() {
	d.stopBFDMaster()
	if d.bfd == nil {
		return
	}
	d.bfd.run.Shutdown()
	close(d.bfd.changes)
	close(d.bfd.stalls)
	<-d.bfd.done
	d.bfd = nil
}

// logBFD logs the state changes: a failure as a warning, the rest as
// information (a peer's AdminDown is not a failure, RFC 5882 §3.2); and
// the host stalls that moved detection timers, as warnings: sessions this
// fast are at the mercy of the host's scheduling.
func (d *Daemon) logBFD(b *bfdSessions) {
	defer close(b.done)
	changes, stalls := b.changes, b.stalls
	var quiet stallLog
	for changes != nil || stalls != nil {
		var c bfdrun.Change
		select {
		case s, ok := <-stalls:
			if !ok {
				stalls = nil
				continue
			}
			quiet.stall(d.log, s)
			continue
		case ch, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			c = ch
		}
		level := slog.LevelInfo
		if c.Failure {
			level = slog.LevelWarn
		}
		attrs := []any{"session", c.Name, "from", c.From.String(), "to", c.To.String(), "diag", c.Diag.String()}
		if c.PeerAdminDown {
			attrs = append(attrs, "peer_admin_down", true)
		}
		if c.Failure {
			// How long after its deadline (or the packet that said
			// Down) the loop acted: a large figure means this host was
			// busy, not that the path failed late.
			attrs = append(attrs, "failure", true, "late_ms", float64(c.Late.Microseconds())/1000)
		}
		d.log.Log(context.Background(), level, "bfd session "+stateWord(c.To), attrs...)
	}
}

func stateWord(s bfd.State) string {
	switch s {
	case bfd.Up:
		return "up"
	case bfd.Init:
		return "init"
	case bfd.AdminDown:
		return "admin down"
	}
	return "down"
}

// stallEvery is the least time between two log lines about host stalls:
// a host that stalls often would otherwise log several lines a second.
const stallEvery = 10 * time.Second

// stallLog logs host stalls (bfdrun.Stall), at most one line per
// stallEvery; the line says how many came since the last one and the
// longest of them. The sessions' host_stalls counters keep every one.
type stallLog struct {
	last    time.Time
	since   int
	longest time.Duration
}

func (q *stallLog) stall(log *slog.Logger, s bfdrun.Stall) {
	q.since++
	q.longest = max(q.longest, s.Length)
	if !q.last.IsZero() && s.At.Sub(q.last) < stallEvery {
		return
	}
	log.Warn("bfd: this host did not run govrrpd's BFD loop; the detection timers were moved by the stall, not failed",
		"stall_ms", float64(s.Length.Microseconds())/1000, "sessions", s.Sessions,
		"stalls", q.since, "longest_ms", float64(q.longest.Microseconds())/1000)
	q.last, q.since, q.longest = s.At, 0, 0
}
