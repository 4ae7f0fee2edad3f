package daemon

import (
	"context"
	"log/slog"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
)

// The top-level BFD sessions (config.BFDSession) run on one bfdrun.Runner:
// its own event loop, started with the first session and shut down with
// the daemon (AdminDown to every peer). State changes leave the runner's
// loop through a bounded queue; logging them is this file's worker's job.
// Routers tracking a session by name, and a Backup's session to its Master,
// plug in here (issue 16, phase 2).

// bfdQueue bounds the state changes waiting to be logged; beyond it they
// are counted and dropped, never blocking the runner's loop.
const bfdQueue = 256

type bfdSessions struct {
	run     *bfdrun.Runner
	cfg     map[string]config.BFDSession
	changes chan bfdrun.Change
	stalls  chan bfdrun.Stall
	done    chan struct{}
}

func bfdSessionConfig(c config.BFDSession) bfdrun.SessionConfig {
	return bfdrun.SessionConfig{Name: c.Name, Interface: c.Interface, Peer: c.Peer, Local: c.Local, Config: bfdParams(c)}
}

func bfdParams(c config.BFDSession) session.Config {
	return session.Config{DesiredMinTx: c.MinTx, RequiredMinRx: c.MinRx, DetectMult: c.Multiplier, Passive: c.Passive}
}

// startBFD starts the runner and the sessions of cfg, if any. A session
// that cannot start (its interface is missing) is logged; the others run.
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
	b := &bfdSessions{cfg: map[string]config.BFDSession{}, changes: make(chan bfdrun.Change, bfdQueue),
		stalls: make(chan bfdrun.Stall, bfdQueue), done: make(chan struct{})}
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

func (d *Daemon) addBFD(c config.BFDSession) {
	d.bfdRestarted(c.Name)
	if err := d.bfd.run.Add(bfdSessionConfig(c)); err != nil {
		d.log.Error("bfd session not started", "session", c.Name, "err", err)
		return
	}
	d.bfd.cfg[c.Name] = c
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
		if err := d.bfd.run.Remove(name); err != nil {
			d.log.Error("bfd session not removed", "session", name, "err", err)
		}
		delete(d.bfd.cfg, name)
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
	for changes != nil || stalls != nil {
		var c bfdrun.Change
		select {
		case s, ok := <-stalls:
			if !ok {
				stalls = nil
				continue
			}
			d.log.Warn("bfd: this host did not run govrrpd's BFD loop; the detection timers were moved by the stall, not failed",
				"stall_ms", float64(s.Length.Microseconds())/1000, "sessions", s.Sessions)
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
			attrs = append(attrs, "failure", true)
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
