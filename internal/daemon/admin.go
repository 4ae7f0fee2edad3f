package daemon

import (
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
)

// The operator's controls: disable and enable a router (govrrp disable,
// FRR's `shutdown`) and the log level.
//
// Which routers are disabled is the daemon's, by name (d.disabled), so that
// a router a reload restarts, or one waiting for its interface, starts
// disabled; the running state machine holds its own copy (fsm.EventDisable).
// A reload keeps it for every router the new file still names, whatever
// else changed; a router the reload removes is forgotten. A restart of
// govrrpd forgets them all: the configuration file is what starts.

// SetDisabled implements api.Backend: the event goes to the router's loop
// like any other, and the answer waits until its effects (the priority-0
// advert, the withdrawn addresses, the hooks queued) have run.
func (d *Daemon) SetDisabled(name string, off bool) (api.AdminResult, bool) {
	d.adminMu.Lock()
	defer d.adminMu.Unlock()
	d.mu.Lock()
	r := d.routers[name]
	_, waiting := d.pending[name]
	if r == nil && !waiting {
		d.mu.Unlock()
		return api.AdminResult{}, false
	}
	was := d.disabled[name]
	if off {
		d.disabled[name] = true
	} else {
		delete(d.disabled, name)
	}
	// A router a reload or relink starts from now on reads d.disabled;
	// one running now gets the event.
	d.mu.Unlock()
	if r != nil {
		ev := fsm.Event{Kind: fsm.EventEnable}
		if off {
			ev.Kind = fsm.EventDisable
		}
		r.l.do(func() {
			if r.l.routers[r.cfg.VRID] != r {
				return // stopped meanwhile: its successor read d.disabled
			}
			r.handle(ev)
			r.l.rearm(r)
			r.l.flush() // the priority-0 advert leaves now
		})
		d.work.barrier(r.slot)
	}
	res := api.AdminResult{Router: name, Disabled: off, Changed: was != off}
	if det, ok := d.Router(name); ok {
		res.State = det.State
	}
	if res.Changed {
		what := "enabled"
		if off {
			what = "disabled"
		}
		d.log.Info("router "+what+" by the operator", "router", name, "state", res.State)
		d.events.publish(api.Event{Time: time.Now(), Router: name, Type: "admin", Detail: what})
	}
	return res, true
}

// isDisabled reports whether the operator disabled the router name. Called
// with d.mu held.
func (d *Daemon) isDisabled(name string) bool { return d.disabled[name] }

// LogLevel implements api.Backend.
func (d *Daemon) LogLevel() string { return api.LevelName(d.level.Level()) }

// SetLogLevel implements api.Backend: the level of every line from now on,
// the daemon's and its routers' (they share one handler). A reload keeps
// it unless the file's log.level changed (logLevelReload).
func (d *Daemon) SetLogLevel(s string) error {
	l, err := api.ParseLogLevel(s)
	if err != nil {
		return err
	}
	old := d.level.Level()
	if l == old {
		return nil
	}
	// Said at the more verbose of the two levels: before the change when
	// it quietens, after when it opens up.
	if l > old {
		d.log.Info("log level changed", "from", api.LevelName(old), "to", api.LevelName(l))
	}
	d.level.Set(l)
	if l < old {
		d.log.Info("log level changed", "from", api.LevelName(old), "to", api.LevelName(l))
	}
	return nil
}
