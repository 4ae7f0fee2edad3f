// Package bfdrun runs BFD sessions (bfd/session) on real sockets
// (internal/linux): one event loop for all of a daemon's sessions, on one
// goroutine, with one deadline heap (timers.go) and one Poller, as the
// daemon's VRRP loops do:
//
//	listener → ReadBatch (GTSM) → bfd.Decode → select session → session.Handle → Send
//
// A listener per interface and family receives on UDP 3784 and is shared by
// the sessions there; each session sends from its own socket with its own
// fixed source port. Sessions are selected by Your Discriminator, or by
// interface and source address while the peer does not know ours yet
// (RFC 5880 §6.3); a packet from the right discriminator but another
// interface or address is not the session's. Whatever is dropped is counted
// by check.
//
// Users name sessions: a tracked object follows a session by name, and a
// VRRP Backup opens one to the Master it learnt with Add and closes it with
// Remove. State changes are reported to Options.Notify on the loop's
// goroutine; it must not block.
package bfdrun

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/fsm"
	"govrrp/internal/deadline"
	"govrrp/internal/linux"
)

// SessionConfig is one session.
type SessionConfig struct {
	Name      string
	Interface string
	Peer      netip.Addr // the neighbour, on-link (single hop)
	Local     netip.Addr // source address; zero: the kernel picks
	session.Config
}

// Stall is a time the host did not run the loop, long enough to move
// the detection timers of Sessions sessions by Length: it ended At.
type Stall struct {
	At       time.Time
	Length   time.Duration
	Sessions int
}

// Change is a session's state change.
type Change struct {
	Name     string
	At       time.Time
	From, To bfd.State
	Diag     bfd.Diag
	// PeerAdminDown and Failure as in session.Action: only a Failure is a
	// lost path; a peer's AdminDown is not (RFC 5882 §3.2).
	PeerAdminDown, Failure bool
	// Peer is the session's neighbour; Detection its detection time when
	// the change happened (0 before the peer was heard).
	Peer      netip.Addr
	Detection time.Duration
	// Late is how long after the event that caused the change (a
	// deadline, a packet's arrival) the loop handled it.
	Late time.Duration
	// LastReceived is the arrival of the last packet the session took up
	// to the change (zero: none).
	LastReceived time.Time
}

// Status is one session's state for snapshots.
type Status struct {
	SessionConfig
	session.Status
	SourcePort       int
	Sent, SendErrors uint64
	Received         uint64
	LastChange       time.Time // zero: never changed
	// LastReceived is the arrival of the last packet the session took.
	LastReceived time.Time
}

// Listener receives on one interface and family: *linux.BFDListener.
type Listener interface {
	Fd() int
	ReadBatch(pkts []linux.BFDPacket) (n int, more bool, err error)
	Stats() linux.BFDListenerStats
	Close() error
}

// Sender sends one session's packets: *linux.BFDSender.
type Sender interface {
	Send(b []byte) error
	SourcePort() int
	Close() error
}

// Sockets opens the runner's sockets; called on the loop's goroutine.
type Sockets interface {
	Listen(ifname string, v6 bool) (Listener, error)
	Dial(ifname string, local, peer netip.Addr) (Sender, error)
}

// Poller is where the loop sleeps: *linux.Poller.
type Poller interface {
	Add(fd int) error
	Remove(fd int) error
	Wait(timeout time.Duration) error
	Wake()
	Close() error
}

// Clock is the loop's time: *fsm.RealClock.
type Clock interface {
	fsm.Clock
	Arrived(t time.Time) time.Duration
}

// Options configure a Runner; zero values take the production parts.
type Options struct {
	// Sockets opens sockets; nil: internal/linux, opened through Enter.
	Sockets Sockets
	// Enter runs fn where the sockets belong (a test's namespace); nil:
	// on the loop's goroutine, in the process's namespace.
	Enter  func(fn func() error) error
	Poller Poller
	Clock  Clock
	Notify func(Change)
	// Stalled, when set, hears of each host stall that moved detection
	// timers (timers.go), on the loop's goroutine: it must not block.
	Stalled func(Stall)
	// Intn is the jitter's random source (§6.8.7), [0, n).
	Intn func(n int64) int64
}

// Runner is the event loop of a daemon's BFD sessions.
type Runner struct {
	opts  Options
	poll  Poller
	clock Clock
	epoch time.Time // wall time at clock 0, for Change.At

	// Owned by the loop goroutine.
	sessions  map[string]*sess
	byDiscr   map[uint32]*sess
	listeners map[lkey]*listener
	timers    deadline.Heap[*sess]
	order     deadline.Order
	pkts      []linux.BFDPacket
	pkt       bfd.Packet
	wire      [bfd.HeaderLen]byte

	// due is when the loop meant to wake as it last went to sleep (dueOK:
	// it had a deadline): waking well after it means the host stalled.
	due   time.Duration
	dueOK bool
	// cause is the time of the event being handled (a deadline, a
	// packet's arrival), for Change.Late.
	cause time.Duration

	mu    sync.Mutex
	inbox []func()
	quit  bool
	done  chan struct{}
}

type lkey struct {
	ifname string
	v6     bool
}

type listener struct {
	key    lkey
	l      Listener
	byPeer map[netip.Addr]*sess
	drops  [bfd.NumChecks]uint64
	// accept, when set, lets unknown peers open passive sessions here
	// (Accept); accepted counts those running.
	accept   *AcceptConfig
	accepted int
}

type sess struct {
	cfg   SessionConfig
	fsm   *session.Session
	li    *listener
	tx    Sender
	wake  deadline.Slot
	rx    uint64
	rxAt  time.Duration
	sent  uint64
	errs  uint64
	since time.Time
	// accepted: opened by a peer (Accept); dropped when it goes Down.
	accepted bool
}

const (
	batchSize  = 16
	maxBatches = 8
)

// New returns a runner with no session; Run runs it.
func New(opts Options) (*Runner, error) {
	r := &Runner{opts: opts, poll: opts.Poller, clock: opts.Clock, sessions: map[string]*sess{}, byDiscr: map[uint32]*sess{},
		listeners: map[lkey]*listener{}, pkts: make([]linux.BFDPacket, batchSize), done: make(chan struct{})}
	if r.opts.Sockets == nil {
		enter := opts.Enter
		if enter == nil {
			enter = func(fn func() error) error { return fn() }
		}
		r.opts.Sockets = linuxSockets{enter}
	}
	if r.clock == nil {
		r.clock = fsm.NewRealClock()
	}
	if r.opts.Intn == nil {
		r.opts.Intn = rand.Int64N
	}
	if r.poll == nil {
		p, err := linux.NewPoller()
		if err != nil {
			return nil, fmt.Errorf("bfd: poller: %w", err)
		}
		r.poll = p
	}
	r.epoch = time.Now().Add(-r.clock.Now())
	return r, nil
}

type linuxSockets struct{ enter func(func() error) error }

func (ls linuxSockets) Listen(ifname string, v6 bool) (l Listener, err error) {
	err = ls.enter(func() (e error) { l, e = linux.ListenBFD(ifname, v6); return e })
	return l, err
}

func (ls linuxSockets) Dial(ifname string, local, peer netip.Addr) (s Sender, err error) {
	err = ls.enter(func() (e error) { s, e = linux.DialBFD(ifname, local, peer); return e })
	return s, err
}

// Run runs the loop until Close.
func (r *Runner) Run() {
	defer close(r.done)
	for r.step() {
		_ = r.poll.Wait(r.timers.Timeout(r.clock.Now()))
	}
	for _, s := range r.sessions {
		r.drop(s)
	}
	r.poll.Close()
}

// Close stops the loop and closes every socket without a word to the peers
// (they see a failure: see Shutdown); it waits for Run to end.
func (r *Runner) Close() {
	r.mu.Lock()
	r.quit = true
	r.mu.Unlock()
	r.poll.Wake()
	<-r.done
}

// do runs fn on the loop and waits for it.
func (r *Runner) do(fn func()) error {
	ch := make(chan struct{})
	r.mu.Lock()
	if r.quit {
		r.mu.Unlock()
		return errors.New("bfd: runner stopped")
	}
	r.inbox = append(r.inbox, func() { fn(); close(ch) })
	r.mu.Unlock()
	r.poll.Wake()
	select {
	case <-ch:
		return nil
	case <-r.done:
		return errors.New("bfd: runner stopped")
	}
}

func (r *Runner) runInbox() bool {
	r.mu.Lock()
	in, quit := r.inbox, r.quit
	r.inbox = nil
	r.mu.Unlock()
	for _, fn := range in {
		fn()
	}
	return !quit
}

// Add starts a session. Names are unique; so is a peer on an interface.
func (r *Runner) Add(cfg SessionConfig) error {
	cfg.Peer = cfg.Peer.WithZone("").Unmap()
	cfg.Local = cfg.Local.WithZone("").Unmap()
	var err error
	if e := r.do(func() { err = r.add(cfg) }); e != nil {
		return e
	}
	return err
}

func (r *Runner) add(cfg SessionConfig) error {
	if _, dup := r.sessions[cfg.Name]; dup {
		return fmt.Errorf("bfd session %s: already running", cfg.Name)
	}
	key := lkey{cfg.Interface, cfg.Peer.Is6()}
	li := r.listeners[key]
	if li != nil && li.byPeer[cfg.Peer] != nil {
		return fmt.Errorf("bfd session %s: session %s already runs to %s on %s", cfg.Name, li.byPeer[cfg.Peer].cfg.Name, cfg.Peer, cfg.Interface)
	}
	if li == nil {
		var err error
		if li, err = r.listen(key); err != nil {
			return fmt.Errorf("bfd session %s: %w", cfg.Name, err)
		}
	}
	if _, err := r.open(li, cfg); err != nil {
		r.release(li)
		return fmt.Errorf("bfd session %s: %w", cfg.Name, err)
	}
	return nil
}

// listen opens the listener of an interface and family.
func (r *Runner) listen(key lkey) (*listener, error) {
	l, err := r.opts.Sockets.Listen(key.ifname, key.v6)
	if err != nil {
		return nil, err
	}
	if err := r.poll.Add(l.Fd()); err != nil {
		l.Close()
		return nil, fmt.Errorf("poller: %w", err)
	}
	li := &listener{key: key, l: l, byPeer: map[netip.Addr]*sess{}}
	r.listeners[key] = li
	return li, nil
}

// open starts a session on li.
func (r *Runner) open(li *listener, cfg SessionConfig) (*sess, error) {
	tx, err := r.opts.Sockets.Dial(cfg.Interface, cfg.Local, cfg.Peer)
	if err != nil {
		return nil, err
	}
	discr := r.newDiscr()
	now := r.eventTime(r.clock.Now())
	s := &sess{cfg: cfg, li: li, tx: tx, fsm: session.New(cfg.Config, discr, r.opts.Intn, now)}
	r.sessions[cfg.Name] = s
	r.byDiscr[discr] = s
	li.byPeer[cfg.Peer] = s
	r.rearm(s)
	return s, nil
}

// newDiscr is a random discriminator, nonzero and unique here (§6.8.1).
func (r *Runner) newDiscr() uint32 {
	for {
		d := rand.Uint32() // not the jitter's source: a test's fixed one would repeat
		if d != 0 && r.byDiscr[d] == nil {
			return d
		}
	}
}

// Remove stops a session, saying AdminDown to the peer first so that it
// does not take the end for a failure (RFC 5880 §6.8.16).
func (r *Runner) Remove(name string) error {
	return r.withSession(name, func(s *sess) {
		r.handleNow(s, session.Event{Kind: session.EventAdminDown})
		r.drop(s)
	})
}

// withSession runs fn on the loop with the session called name.
func (r *Runner) withSession(name string, fn func(s *sess)) error {
	var err error
	if e := r.do(func() {
		s := r.sessions[name]
		if s == nil {
			err = fmt.Errorf("bfd session %s: not running", name)
			return
		}
		fn(s)
	}); e != nil {
		return e
	}
	return err
}

// handleNow gives s an event from the operator now, and sends at once
// what it makes due (an AdminDown packet, a Poll).
func (r *Runner) handleNow(s *sess, ev session.Event) {
	ev.At = r.eventTime(r.clock.Now())
	r.cause = ev.At
	r.apply(s, s.fsm.Handle(ev))
	if at, ok := s.fsm.NextDeadline(); ok && at <= r.order.Last() {
		r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventTimer, At: r.order.Last()}))
	}
	r.rearm(s)
}

func (r *Runner) drop(s *sess) {
	r.timers.Remove(s)
	delete(r.sessions, s.cfg.Name)
	delete(r.byDiscr, s.fsm.LocalDiscr())
	delete(s.li.byPeer, s.cfg.Peer)
	if s.accepted {
		s.li.accepted--
	}
	s.tx.Close()
	r.release(s.li)
}

func (r *Runner) release(li *listener) {
	if len(li.byPeer) > 0 || li.accept != nil {
		return
	}
	_ = r.poll.Remove(li.l.Fd())
	li.l.Close()
	delete(r.listeners, li.key)
}

// AcceptConfig lets peers on one interface and family open sessions with
// us: the passive end of the Master–Backup sessions a VRRP Backup opens to
// its Master (draft-ietf-rtgwg-vrrp-bfd-p2p). A peer's first packet (Your
// Discriminator 0, TTL 255 as every packet here) from an on-link source
// creates a passive session, named Name + the peer's address, while fewer
// than Max run; it is removed when it goes Down, so a peer that stops or
// moves on leaves nothing behind. Anything else is dropped as no_session.
type AcceptConfig struct {
	Name      string
	Interface string
	V6        bool
	// OnLink reports whether a source may open a session: an address of one
	// of the interface's own prefixes, or IPv6 link-local.
	OnLink func(netip.Addr) bool
	Max    int
	// Local is the source of the accepted sessions' packets, the address
	// the peers open them to (a VRRP Master's primary address, the source
	// of its adverts): left to the kernel, an IPv6 session could leave
	// from a virtual link-local address, which the peer would not take
	// for its session's (RFC 5880 §6.3, selected by source).
	Local netip.Addr
	session.Config
}

// Accept starts (or changes) accepting sessions as c says.
func (r *Runner) Accept(c AcceptConfig) error {
	c.Passive = true
	c.Local = c.Local.WithZone("").Unmap()
	var err error
	if e := r.do(func() {
		key := lkey{c.Interface, c.V6}
		li := r.listeners[key]
		if li == nil {
			if li, err = r.listen(key); err != nil {
				err = fmt.Errorf("bfd: accepting on %s: %w", c.Interface, err)
				return
			}
		}
		li.accept = &c
	}); e != nil {
		return e
	}
	return err
}

// StopAccepting ends Accept on an interface and family; the sessions
// accepted there end with AdminDown.
func (r *Runner) StopAccepting(ifname string, v6 bool) error {
	return r.do(func() {
		li := r.listeners[lkey{ifname, v6}]
		if li == nil || li.accept == nil {
			return
		}
		li.accept = nil
		for _, s := range li.byPeer {
			if s.accepted {
				r.handleNow(s, session.Event{Kind: session.EventAdminDown})
				r.drop(s)
			}
		}
		r.release(li)
	})
}

// acceptPeer opens a passive session for src's first packet, if li
// accepts it (AcceptConfig).
func (r *Runner) acceptPeer(li *listener, src netip.Addr) *sess {
	a := li.accept
	if a == nil || li.accepted >= a.Max || a.OnLink == nil || !a.OnLink(src) {
		return nil
	}
	name := a.Name + src.String()
	if r.sessions[name] != nil {
		return nil
	}
	s, err := r.open(li, SessionConfig{Name: name, Interface: a.Interface, Peer: src, Local: a.Local, Config: a.Config})
	if err != nil {
		return nil
	}
	s.accepted = true
	li.accepted++
	return s
}

// settle rearms s after an event, or removes an accepted session that
// went Down.
func (r *Runner) settle(s *sess) {
	if s.accepted && s.fsm.Status().State == bfd.Down {
		r.drop(s)
		return
	}
	r.rearm(s)
}

// Reconfigure gives a running session new intervals, multiplier or
// passive role; while Up the change goes through a Poll Sequence (RFC 5880
// §6.8.3). Its peer, interface and local address are its identity: to
// change them, Remove and Add.
func (r *Runner) Reconfigure(name string, c session.Config) error {
	return r.withSession(name, func(s *sess) {
		s.cfg.Config = c
		r.handleNow(s, session.Event{Kind: session.EventConfig, Config: c})
	})
}

// Shutdown takes every session AdminDown, telling the peers that what
// follows is no failure (RFC 5880 §6.8.16), then closes the runner.
func (r *Runner) Shutdown() {
	_ = r.do(func() {
		for _, s := range r.sessions {
			r.handleNow(s, session.Event{Kind: session.EventAdminDown})
		}
	})
	r.Close()
}

// SetAdminDown takes a session administratively down, or back.
func (r *Runner) SetAdminDown(name string, down bool) error {
	return r.withSession(name, func(s *sess) {
		k := session.EventAdminUp
		if down {
			k = session.EventAdminDown
		}
		r.handleNow(s, session.Event{Kind: k})
	})
}

// Status returns every session's state, sorted by name.
func (r *Runner) Status() []Status {
	var out []Status
	_ = r.do(func() {
		for _, s := range r.sessions {
			out = append(out, Status{SessionConfig: s.cfg, Status: s.fsm.Status(), SourcePort: s.tx.SourcePort(),
				Sent: s.sent, SendErrors: s.errs, Received: s.rx, LastChange: s.since, LastReceived: r.wall(s.rxAt)})
		}
	})
	slices.SortFunc(out, func(a, b Status) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Drops returns, per interface and family ("eth0/ipv4"), what the
// listener dropped by check (bfd.Check names), the GTSM drops among them.
func (r *Runner) Drops() map[string]map[string]uint64 {
	out := map[string]map[string]uint64{}
	_ = r.do(func() {
		for k, li := range r.listeners {
			m := map[string]uint64{}
			for c, n := range li.drops {
				if n > 0 {
					m[bfd.Check(c).String()] = n
				}
			}
			if n := li.l.Stats().TTLDrops; n > 0 {
				m[bfd.CheckTTL.String()] = n
			}
			fam := "ipv4"
			if k.v6 {
				fam = "ipv6"
			}
			out[k.ifname+"/"+fam] = m
		}
	})
	return out
}

// step handles the inbox, every listener's packets and the timers due.
func (r *Runner) step() bool {
	r.woke(r.clock.Now())
	if !r.runInbox() {
		return false
	}
	r.due = r.clock.Now() // the inbox's work (Add, Status) is the loop's own, no stall
	// Every listener is read, whatever the poller saw: a loop woken by a
	// timer and then held up (a busy machine) finds packets that arrived
	// since, maybe before a deadline now past. The timers due by now fire
	// only once every socket is empty, as in the VRRP loops; a read that
	// finds nothing costs one system call.
	drained := true
	for _, li := range r.listeners {
		empty := false
		for range maxBatches {
			n, more, _ := li.l.ReadBatch(r.pkts)
			for i := range n {
				r.packet(li, &r.pkts[i])
			}
			if !more {
				empty = true
				break
			}
		}
		drained = drained && empty
	}
	if drained {
		// A stall while the sockets were read (the host took the
		// loop's thread away between two instructions) counts as one
		// too, before the timers fire.
		now := r.clock.Now()
		r.woke(now)
		r.expire(r.eventTime(now))
	}
	r.slept(r.clock.Now())
	return true
}

// eventTime keeps event times monotonic.
func (r *Runner) eventTime(t time.Duration) time.Duration { return r.order.At(t) }

// packet handles one datagram at its arrival time: the timers due before
// it fire first.
func (r *Runner) packet(li *listener, p *linux.BFDPacket) {
	at := r.eventTime(r.clock.Arrived(p.Arrival))
	r.expire(at)
	if err := r.pkt.Decode(p.Payload); err != nil {
		li.drops[bfd.CheckOf(err)]++
		return
	}
	var s *sess
	if r.pkt.YourDiscr != 0 {
		s = r.byDiscr[r.pkt.YourDiscr]
		if s != nil && (s.li != li || s.cfg.Peer != p.Src) {
			s = nil
		}
	} else {
		s = li.byPeer[p.Src]
	}
	if s == nil && r.pkt.YourDiscr == 0 {
		s = r.acceptPeer(li, p.Src)
	}
	if s == nil {
		li.drops[bfd.CheckNoSession]++
		return
	}
	s.rx++
	s.rxAt, r.cause = at, at
	r.apply(s, s.fsm.Handle(session.Event{Kind: session.EventPacket, At: at, Packet: r.pkt}))
	r.settle(s)
}

// wall converts a loop time to wall-clock time.
func (r *Runner) wall(at time.Duration) time.Time {
	if at == 0 {
		return time.Time{}
	}
	return r.epoch.Add(at)
}

// apply carries out a session's actions.
func (r *Runner) apply(s *sess, acts []session.Action) {
	for i := range acts {
		a := &acts[i]
		switch a.Kind {
		case session.ActionSend:
			n := a.Packet.Encode(r.wire[:])
			if err := s.tx.Send(r.wire[:n]); err != nil {
				s.errs++
			} else {
				s.sent++
			}
		case session.ActionState:
			s.since = r.wall(r.order.Last())
			if r.opts.Notify != nil {
				r.opts.Notify(Change{Name: s.cfg.Name, At: s.since, From: a.From, To: a.To, Diag: a.Diag,
					PeerAdminDown: a.PeerAdminDown, Failure: a.Failure, Peer: s.cfg.Peer, Detection: s.fsm.Status().Detection,
					Late: max(0, r.clock.Now()-r.cause), LastReceived: r.wall(s.rxAt)})
			}
		}
	}
}
