package daemon

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"govrrp/bfd"
	"govrrp/internal/api"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
)

// Routers tracking BFD sessions (config.TrackBFD). The runner reports state
// changes on its own loop, which must not block, and a reload holds d.mu
// while it waits on that loop (reloadBFD): so the report only records the
// session's tracked state here, under a mutex never held for long, and a
// goroutine started for the burst posts to the router loops, each of which
// reads the state again when the message runs. A change is never lost:
// the loops read the latest state, whichever report woke them.
//
// A session counts as up from its first Up until a failure: an Up session
// lost to the path or to the peer's Down. AdminDown, ours or the peer's,
// keeps what it had (RFC 5882 §3.2; keepalived's BFD sends no event to its
// VRRP process on a peer's AdminDown either). A session not yet Up since
// it was added counts as down (keepalived's tracked BFD starts down too).
type bfdTrack struct {
	mu       sync.Mutex
	sessions map[string]*bfdTracked
	dirty    []string
	flushing bool
}

type bfdTracked struct {
	up    bool
	state bfd.State
	// adminDowns counts entries into AdminDown, ours or the peer's: the
	// Downs that are no failure.
	adminDowns uint64
}

// entry returns name's state, made on first use. With t.mu held.
func (t *bfdTrack) entry(name string) *bfdTracked {
	if t.sessions == nil {
		t.sessions = map[string]*bfdTracked{}
	}
	s := t.sessions[name]
	if s == nil {
		s = &bfdTracked{state: bfd.Down}
		t.sessions[name] = s
	}
	return s
}

// up reports whether routers see session name as up.
func (t *bfdTrack) up(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sessions[name] != nil && t.sessions[name].up
}

// status returns name's state and AdminDown count.
func (t *bfdTrack) status(name string) (bfd.State, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions[name]; s != nil {
		return s.state, s.adminDowns
	}
	return bfd.Down, 0
}

// bfdChanged records a session's state change; on the runner's loop, so
// it must not block (bfdrun.Options.Notify).
func (d *Daemon) bfdChanged(c bfdrun.Change) {
	t := &d.bfdTrack
	t.mu.Lock()
	s := t.entry(c.Name)
	s.state = c.To
	if c.To == bfd.AdminDown || c.PeerAdminDown {
		s.adminDowns++
	}
	switch {
	case c.To == bfd.Up:
		s.up = true
	case c.Failure:
		s.up = false
	}
	d.bfdDirtyLocked(c.Name)
	t.mu.Unlock()
}

// bfdRestarted forgets what session name was: a session (re)added by start
// or a reload counts as down until it is Up.
func (d *Daemon) bfdRestarted(name string) {
	t := &d.bfdTrack
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.entry(name); s.up || s.state != bfd.Down {
		*s = bfdTracked{state: bfd.Down}
		d.bfdDirtyLocked(name)
	}
}

// bfdDirtyLocked marks name for the routers and starts the flush if none
// runs. With d.bfdTrack.mu held.
func (d *Daemon) bfdDirtyLocked(name string) {
	t := &d.bfdTrack
	if !slices.Contains(t.dirty, name) {
		t.dirty = append(t.dirty, name)
	}
	if !t.flushing {
		t.flushing = true
		go d.flushBFD()
	}
}

// flushBFD posts the sessions marked dirty to every router loop until
// none is left. Which routers track a session is decided on each router's
// loop, as scriptChanged does: r.cfg belongs to the loop.
func (d *Daemon) flushBFD() {
	t := &d.bfdTrack
	for {
		t.mu.Lock()
		names := t.dirty
		t.dirty = nil
		if len(names) == 0 {
			t.flushing = false
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
		d.mu.RLock()
		for _, r := range d.routers {
			r.l.post(func() {
				for _, name := range names {
					r.setBFD(name)
				}
			})
		}
		d.mu.RUnlock()
	}
}

// bfdObjectName is a tracked session's name among a router's tracked
// objects.
func bfdObjectName(session string) string { return "bfd:" + session }

// bfdFailed is what a tracked session counts as for a router: down, or up
// when reversed.
func (d *Daemon) bfdFailed(t config.TrackBFD) bool {
	return d.bfdTrack.up(t.Name) == t.Reverse
}

// setBFD applies session name's state to the router, if it tracks it. On
// the loop.
func (r *vr) setBFD(name string) {
	for _, t := range r.cfg.Track.BFD {
		if t.Name == name {
			r.setTracked(bfdObjectName(name), r.d.bfdFailed(t))
			return
		}
	}
}

// BFD implements api.Backend: the sessions, by name, and what the
// listeners dropped, by interface and family.
func (d *Daemon) BFD() api.BFDStatus {
	out := api.BFDStatus{Sessions: []api.BFDSession{}, Listeners: []api.BFDListener{}}
	d.mu.RLock()
	b := d.bfd
	var waiting []bfdWaiting
	if b != nil {
		waiting = slices.Collect(maps.Values(b.waiting))
	}
	d.mu.RUnlock()
	if b == nil {
		return out
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, s := range b.run.Status() {
		_, adminDowns := d.bfdTrack.status(s.Name)
		var rx time.Duration
		if s.RemoteMult > 0 {
			rx = s.Detection / time.Duration(s.RemoteMult)
		}
		out.Sessions = append(out.Sessions, api.BFDSession{
			Name: s.Name, Interface: s.Interface, Peer: s.Peer.String(), Local: addrString(s.Local), SourcePort: s.SourcePort,
			State: s.State.String(), RemoteState: s.RemoteState.String(), Diag: s.Diag.String(), RemoteDiag: s.RemoteDiag.String(),
			LocalDiscr: s.LocalDiscr, RemoteDiscr: s.RemoteDiscr,
			TxIntervalMS: ms(s.TxInterval), RxIntervalMS: ms(rx), DetectionMS: ms(s.Detection), RemoteMinRxMS: ms(s.RemoteMinRx), RemoteMinTxMS: ms(s.RemoteMinTx),
			RemoteMult: s.RemoteMult, Since: s.LastChange, LastReceived: s.LastReceived,
			Counters: map[string]uint64{
				api.BFDCounterSent: s.Sent, api.BFDCounterReceived: s.Received, api.BFDCounterSendErrors: s.SendErrors,
				api.BFDCounterUps: s.Ups, api.BFDCounterFailures: s.Failures, api.BFDCounterAdminDowns: adminDowns,
				api.BFDCounterHostStalls: s.Stalls,
			},
		})
	}
	// Waiting for its interface or address: Down, with nothing negotiated.
	// (A relink may have started it since the copy: then it is listed
	// running.)
	for _, w := range waiting {
		c := w.cfg
		if slices.ContainsFunc(out.Sessions, func(s api.BFDSession) bool { return s.Name == c.Name }) {
			continue
		}
		_, adminDowns := d.bfdTrack.status(c.Name)
		counters := map[string]uint64{}
		for _, k := range api.BFDCounters {
			counters[k] = 0
		}
		counters[api.BFDCounterAdminDowns] = adminDowns
		out.Sessions = append(out.Sessions, api.BFDSession{Name: c.Name, Interface: c.Interface, Peer: c.Peer.String(), Local: addrString(c.Local),
			State: bfd.Down.String(), RemoteState: bfd.Down.String(), Diag: bfd.DiagNone.String(), RemoteDiag: bfd.DiagNone.String(),
			Waiting: w.reason, Counters: counters})
	}
	slices.SortFunc(out.Sessions, func(a, b api.BFDSession) int { return strings.Compare(a.Name, b.Name) })
	drops := b.run.Drops()
	for _, k := range slices.Sorted(maps.Keys(drops)) {
		ifname, fam, _ := strings.Cut(k, "/")
		out.Listeners = append(out.Listeners, api.BFDListener{Interface: ifname, Family: fam, Drops: drops[k]})
	}
	return out
}
