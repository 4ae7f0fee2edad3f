package daemon

import (
	"net"
	"net/netip"
	"strings"
	"sync"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/fsm"
	"govrrp/internal/bfdrun"
	"govrrp/internal/config"
	"govrrp/vrrp"
)

// Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p; routers[].bfd_master;
// docs/CONFORMANCE.md). A Backup runs a session, named mbSession+router, to
// the Master its state machine follows (fsm.Status().Master()): the loop
// records what it wants in bfdMaster.want when that changes (mbFollow,
// never blocking), and one goroutine brings the runner's sessions to it
// (Add, Remove: they wait for the BFD loop, so never on a VRRP loop). Every
// interface and family with such a router accepts the sessions the Backups
// open (bfdrun.Accept: passive, on-link, at most mbMaxPeers). A session to
// the Master followed that fails Up → Down (not a peer's AdminDown) becomes
// fsm.MasterDown on the router's loop, posted from the runner's Notify
// without waiting (mbNotify); the state machine decides what it means
// (fsm/timers.go, masterDownDetected).

const (
	mbSession  = "vrrp/"      // a Backup's session to its Master: vrrp/ROUTER
	mbAccepted = "vrrp-peer/" // one the Master accepted: vrrp-peer/IFNAME/ADDRESS
	mbMaxPeers = 64           // sessions accepted per interface and family
)

type mbKey struct {
	ifname string
	v6     bool
}

// mbWant is what one router wants: to accept sessions where it runs and,
// as Backup, a session to peer (invalid: none).
type mbWant struct {
	r      *vr
	l      *loop
	key    mbKey
	peer   netip.Addr
	local  netip.Addr // the router's primary address: both ends' source
	params session.Config
}

type bfdMaster struct {
	mu      sync.Mutex
	want    map[string]mbWant // by router name
	started bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	// The reconciler's own: sessions opened (name → peer, parameters) and
	// interfaces accepting.
	have      map[string]mbWant
	accepting map[mbKey]bool
}

func newBFDMaster() *bfdMaster {
	return &bfdMaster{want: map[string]mbWant{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		have: map[string]mbWant{}, accepting: map[mbKey]bool{}}
}

func (m *bfdMaster) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func mbParams(c *config.BFDMaster) session.Config {
	return session.Config{DesiredMinTx: c.MinTx, RequiredMinRx: c.MinRx, DetectMult: c.Multiplier}
}

// mbFollow records, after an event, the session r wants. On r's loop; it
// takes only the bfdMaster's lock, and only when something changed.
func (r *vr) mbFollow() {
	if r.cfg.BFDMaster == nil && !r.mbOn || r.d == nil || r.d.mb == nil {
		return
	}
	m := r.d.mb
	var peer netip.Addr
	if c := r.cfg.BFDMaster; c != nil && c.Active() {
		if st := r.fsm.Status(); st.State == fsm.Backup {
			peer = st.Master()
		}
	}
	on := r.cfg.BFDMaster != nil
	var params session.Config
	if on {
		params = mbParams(r.cfg.BFDMaster)
	}
	var local netip.Addr
	if r.vrrpCfg != nil {
		local = r.vrrpCfg.Local
	}
	if on == r.mbOn && peer == r.mbPeer && params == r.mbParams && local == r.mbLocal {
		return
	}
	r.mbOn, r.mbPeer, r.mbParams, r.mbLocal = on, peer, params, local
	m.mu.Lock()
	if on {
		m.want[r.name] = mbWant{r: r, l: r.l, key: mbKey{r.cfg.Interface, r.cfg.Family == vrrp.IPv6}, peer: peer, local: local, params: params}
	} else {
		delete(m.want, r.name)
	}
	m.mu.Unlock()
	m.poke()
}

// mbForget drops a closed router's wants.
func (d *Daemon) mbForget(r *vr) {
	if d.mb == nil {
		return
	}
	d.mb.mu.Lock()
	_, had := d.mb.want[r.name]
	delete(d.mb.want, r.name)
	d.mb.mu.Unlock()
	if had {
		d.mb.poke()
	}
}

// mbNotify turns a failed session to a Master into fsm.MasterDown on its
// router's loop, and reports whether c is a Master–Backup session's (a
// Backup's or one a Master accepted; top-level names have no '/'). On the
// runner's goroutine: it never blocks.
func (d *Daemon) mbNotify(c bfdrun.Change) bool {
	if !strings.HasPrefix(c.Name, mbSession) {
		return strings.HasPrefix(c.Name, mbAccepted)
	}
	m := d.mb
	if m == nil || c.From != bfd.Up || c.To != bfd.Down || !c.Failure {
		return true
	}
	m.mu.Lock()
	w, ok := m.want[strings.TrimPrefix(c.Name, mbSession)]
	m.mu.Unlock()
	if !ok || w.peer != c.Peer {
		return true // the router moved on to another Master meanwhile
	}
	w.l.post(func() {
		r := w.r
		if r.mbPeer != c.Peer {
			return
		}
		r.handle(fsm.MasterDown(c.Peer, c.Detection))
		r.l.rearm(r)
	})
	return true
}

// startBFDMaster starts the reconciler once a router has bfd_master; the
// runner starts with it if no top-level session did. Called with d.mu.
func (d *Daemon) startBFDMaster(routers []config.Router) {
	m := d.mb
	if m.started {
		return
	}
	any := false
	for i := range routers {
		any = any || routers[i].BFDMaster != nil
	}
	if !any {
		return
	}
	if !d.ensureBFD() {
		return // logged: no runner
	}
	m.started = true
	m.poke()
	go m.reconcile(d, d.bfd.run)
}

// stopBFDMaster ends the reconciler; the runner's Shutdown then says
// AdminDown on every session. Called with d.mu.
func (d *Daemon) stopBFDMaster() {
	m := d.mb
	if m == nil || !m.started {
		return
	}
	close(m.stop)
	<-m.done
	m.started = false
}

// reconcile brings the runner's Master–Backup sessions and accepting
// interfaces to what the routers want, whenever one changes.
func (m *bfdMaster) reconcile(d *Daemon, run *bfdrun.Runner) {
	defer close(m.done)
	for {
		select {
		case <-m.stop:
			return
		case <-m.wake:
		}
		m.mu.Lock()
		want := make(map[string]mbWant, len(m.want))
		for k, v := range m.want {
			want[k] = v
		}
		m.mu.Unlock()

		for name, h := range m.have {
			w, ok := want[name]
			if ok && w.peer == h.peer && w.local == h.local && w.params == h.params && w.key == h.key {
				continue
			}
			if err := run.Remove(mbSession + name); err != nil {
				d.log.Debug("bfd session to the master not removed", "router", name, "err", err)
			}
			delete(m.have, name)
		}
		acc := map[mbKey]mbWant{}
		for name, w := range want {
			if _, ok := acc[w.key]; !ok {
				acc[w.key] = w
			}
			if _, ok := m.have[name]; ok || !w.peer.IsValid() {
				continue
			}
			err := run.Add(bfdrun.SessionConfig{Name: mbSession + name, Interface: w.key.ifname, Peer: w.peer, Local: w.local, Config: w.params})
			if err != nil {
				d.log.Error("bfd session to the master not started", "router", name, "master", w.peer, "err", err)
				continue
			}
			d.log.Info("bfd session to the master", "router", name, "master", w.peer)
			m.have[name] = w
		}
		for k := range m.accepting {
			if _, ok := acc[k]; !ok {
				_ = run.StopAccepting(k.ifname, k.v6)
				delete(m.accepting, k)
			}
		}
		for k, w := range acc {
			if m.accepting[k] {
				continue
			}
			err := run.Accept(bfdrun.AcceptConfig{Name: mbAccepted + k.ifname + "/", Interface: k.ifname, V6: k.v6,
				OnLink: onLink(k.ifname), Max: mbMaxPeers, Local: w.local, Config: w.params})
			if err != nil {
				d.log.Error("bfd sessions from backups not accepted", "interface", k.ifname, "err", err)
				continue
			}
			m.accepting[k] = true
		}
	}
}

// onLink reports whether an address may open a session on ifname: an
// IPv6 link-local address, or one in a prefix of the interface's own
// addresses (read once, when accepting starts).
func onLink(ifname string) func(netip.Addr) bool {
	var prefixes []netip.Prefix
	if ifi, err := net.InterfaceByName(ifname); err == nil {
		addrs, _ := ifi.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ip, _ := netip.AddrFromSlice(n.IP)
				ones, _ := n.Mask.Size()
				if p, err := ip.Unmap().Prefix(ones); err == nil {
					prefixes = append(prefixes, p)
				}
			}
		}
	}
	return func(a netip.Addr) bool {
		if a.Is6() && a.IsLinkLocalUnicast() {
			return true
		}
		for _, p := range prefixes {
			if p.Contains(a) && a != p.Addr() {
				return true
			}
		}
		return false
	}
}
