package daemon

import (
	"net/netip"
	"sync"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/deadline"
	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// ifaceKey names one loop: an interface and a family. One raw socket per
// key is shared by every virtual router there, demultiplexed by VRID
// [IMPL-16].
type ifaceKey struct {
	name string
	fam  vrrp.Family
}

// sender is what a router needs to put adverts on the wire: the loop's
// socket, or a send-only socket of its own (VMAC, unicast).
type sender interface {
	// Queue encodes m into the socket's batch; Flush writes the batch with
	// one system call. Neither blocks.
	Queue(m *vrrp.Message, form vrrp.ChecksumForm) error
	Flush() error
	Source() netip.Addr
	SetSource(netip.Addr)
	Close() error
}

// socket is a loop's VRRP socket: *linux.Conn, or a fake in tests.
type socket interface {
	sender
	// ReadBatch reads what is waiting without blocking; more reports that
	// the socket may hold more.
	ReadBatch(pkts []linux.Packet) (n int, more bool, err error)
	// SetFilter tells the kernel which adverts the loop wants.
	SetFilter(*linux.FilterSpec) error
}

// poller is where a loop sleeps: *linux.Poller (epoll on the socket, a
// timerfd for the deadline, an eventfd for Wake), or a fake in tests.
type poller interface {
	// Wait blocks until the socket may be readable, Wake is called, or
	// timeout passes (negative: no timeout).
	Wait(timeout time.Duration) error
	// WaitQuiet is Wait without re-arming the socket once it has
	// reported readable: only the timeout or Wake end it.
	WaitQuiet(timeout time.Duration) error
	Wake()
	Close() error
}

// clock is a loop's time: the state machines' Clock, plus the mapping of a
// kernel receive timestamp onto it.
type clock interface {
	fsm.Clock
	// Arrived returns when a packet stamped t (wall clock; zero when the
	// kernel gave none) arrived, on Now's scale.
	Arrived(t time.Time) time.Duration
}

// realClock is the production clock (fsm.RealClock maps kernel arrival
// times).
type realClock struct{ *fsm.RealClock }

const (
	// batchSize is how many datagrams one ReadBatch takes.
	batchSize = 64
	// maxBatches bounds the reads of one step, so timers and control
	// messages are served between batches even under a flood.
	maxBatches = 8
)

// loop is the event loop of one interface and family: it owns the socket,
// the state machines of the virtual routers on it and one heap of their
// deadlines, and handles everything in the order it happened, on one
// goroutine, with no lock on the way of an advert:
//
//	socket → ReadBatch → receive checks → fsm.Router.Handle → Queue → Flush
//
// Anything else that must touch a router (the API, reloads, tracking, link
// events) is a function posted to the loop's inbox. Slow effects of the
// state machines' actions (netlink, GARP/NA, hooks, log lines) are handed to
// the workers after the batch's adverts are on the wire.
type loop struct {
	key   ifaceKey
	index int // the interface's when the socket was opened: another means re-created (relink)
	sock  socket
	poll  poller
	clock clock
	// sink takes the slow effects of a step, in order, and returns how
	// many it dropped (log lines and events, when the workers are far
	// behind). It must not block.
	sink func([]effect) int

	routers [256]*vr // by VRID
	n       int      // routers on the loop
	timers  deadline.Heap[*vr]
	order   deadline.Order // event times never go back

	msg      vrrp.Message // the advert being validated, reused
	lookup   vrrp.Lookup  // bound once, so validating does not allocate a closure
	pkts     []linux.Packet
	dirty    []sender // sockets with queued adverts
	queued   []*vr    // routers with adverts in those batches, for send errors
	effects  []effect
	effSpare []effect

	// Counted here, read through the inbox. Adverts for a VRID nobody
	// configured are charged to the interface, the latest remembered so
	// that an operator sees which VRID a peer uses, and where from.
	unknownVRID uint64
	lastUnknown struct {
		vrid uint8
		src  netip.Addr
		at   time.Duration // on the loop's clock
	}
	drops      [vrrp.NumChecks]uint64 // dropped with no router to charge
	dropLog    [vrrp.NumChecks]throttle
	readErrors uint64
	effDropped uint64 // effects the sink dropped
	got        int    // datagrams the last step read

	mu    sync.Mutex
	inbox []func()
	spare []func()
	quit  bool
	ended bool
	done  chan struct{}
}

func newLoop(key ifaceKey, sock socket, poll poller, clk clock, sink func([]effect) int) *loop {
	l := &loop{key: key, sock: sock, poll: poll, clock: clk, sink: sink, pkts: make([]linux.Packet, batchSize), done: make(chan struct{})}
	l.msg.Addresses = make([]netip.Addr, 0, 16)
	l.lookup = l.find
	return l
}

func (l *loop) find(vrid uint8) *vrrp.Config {
	if r := l.routers[vrid]; r != nil {
		return r.vrrpCfg
	}
	return nil
}

// rxCoalesce is how long the loop lets datagrams queue up after waking for
// one: adverts come in bursts (the Masters of a peer send together, one
// sendmmsg), and reading the rest of a burst in one batch instead of one
// wake-up each is most of a Backup's cost. It delays no protocol decision's
// clock: every datagram is handled at its kernel arrival time, so a
// Backup's Master_Down_Timer still counts from the advert, and a timer due
// meanwhile still fires on time (the quiet wait ends at it). What it
// delays by up to this much is an answer: a Master stepping down for a
// higher priority, or answering a priority-0 advert.
const rxCoalesce = 500 * time.Microsecond

// run is the loop's goroutine.
func (l *loop) run() {
	defer close(l.done)
	quiet := false
	for l.step() {
		t := l.timeout(l.clock.Now())
		if l.got > 0 && !quiet {
			// Woken by a datagram: let the rest of its burst arrive.
			quiet = true
			if t < 0 || t > rxCoalesce {
				t = rxCoalesce
			}
			_ = l.poll.WaitQuiet(t)
			continue
		}
		quiet = false
		_ = l.poll.Wait(t)
	}
	l.poll.Close()
	l.sock.Close()
}

// step does one round: control messages, the datagrams waiting, the timers
// due, then the batch of adverts goes out and the slow effects to the
// workers. It reports false when the loop has stopped.
func (l *loop) step() bool {
	if !l.runInbox() {
		return false
	}
	drained := false
	l.got = 0
	for range maxBatches {
		n, more, err := l.sock.ReadBatch(l.pkts)
		l.got += n
		if err != nil {
			// A pending socket error (an ICMP report about a unicast
			// peer): counted, and the socket stays usable.
			l.readErrors++
		}
		for i := range n {
			l.packet(&l.pkts[i])
		}
		if !more {
			drained = true
			break
		}
	}
	if drained {
		// Only once the socket is empty: a datagram still waiting may
		// have arrived before a deadline that has passed since, and must
		// reach its state machine first.
		l.expire(l.eventTime(l.clock.Now()))
	}
	l.flush()
	return true
}

// eventTime keeps event times monotonic: a packet stamped before the last
// event handled is taken as simultaneous with it.
func (l *loop) eventTime(t time.Duration) time.Duration { return l.order.At(t) }

// packet handles one datagram: the timers that fell due before it arrived
// fire first, then it is checked and, if it passes, handed to its router.
func (l *loop) packet(p *linux.Packet) {
	at := l.eventTime(l.clock.Arrived(p.Arrival))
	l.expire(at)
	res, err := vrrp.Validate(&l.msg, p.Payload, p.IP, l.lookup)
	if err != nil {
		var vrid uint8
		if len(p.Payload) > 1 {
			vrid = p.Payload[1]
		}
		quiet := false
		if r := l.routers[vrid]; r != nil && err == vrrp.ErrVersion {
			// Decoded before the version comparison: l.msg holds it
			// when the version is one a router could run.
			if v, ok := r.otherVersion(p.Payload); ok {
				quiet = r.wrongVersion(v, l.msg.Interval, p.IP.Src, at)
			}
		}
		l.dropped(vrid, p.IP.Src, err, at, quiet)
		return
	}
	l.routers[l.msg.VRID].received(&l.msg, res, p.IP.Src, at)
}

// dropped counts a datagram that failed a receive check: on its router when
// the VRID is configured here, else on the interface [5798-7.1-e].
// quiet: counted but not logged (the version guard reports it).
func (l *loop) dropped(vrid uint8, src netip.Addr, err error, at time.Duration, quiet bool) {
	c := vrrp.CheckOf(err)
	if r := l.routers[vrid]; r != nil {
		r.discard(c, err, src, at, quiet)
		return
	}
	if c == vrrp.CheckVRID {
		l.unknownVRID++
		l.lastUnknown.vrid, l.lastUnknown.src, l.lastUnknown.at = vrid, src, at
	}
	l.drops[c]++
	if n, ok := l.dropLog[c].hit(at, logPeriod); ok {
		l.emit(effect{kind: effLog, loop: l, check: c, err: err, count: n, vrid: vrid, src: src})
	}
}

// queue puts r's advert into its socket's batch.
func (l *loop) queue(r *vr, s sender, m *vrrp.Message, form vrrp.ChecksumForm) {
	if err := s.Queue(m, form); err != nil {
		r.sendFailed(err)
		return
	}
	l.queued = append(l.queued, r)
	for _, d := range l.dirty {
		if d == s {
			return
		}
	}
	l.dirty = append(l.dirty, s)
}

// flush writes the queued adverts (one sendmmsg per socket), then hands the
// step's slow effects to the workers: a new Master's first advert leaves
// before its addresses are installed or anything is logged.
func (l *loop) flush() {
	for _, s := range l.dirty {
		if err := s.Flush(); err != nil {
			for _, r := range l.queued {
				if r.send == s {
					r.sendFailed(err)
				}
			}
		}
	}
	clear(l.dirty)
	l.dirty = l.dirty[:0]
	clear(l.queued)
	l.queued = l.queued[:0]
	if len(l.effects) > 0 {
		effs := l.effects
		l.effects = l.effSpare[:0]
		l.effDropped += uint64(l.sink(effs))
		clear(effs)
		l.effSpare = effs[:0]
	}
}

func (l *loop) emit(e effect) { l.effects = append(l.effects, e) }

// add puts a started router on the loop and runs its startup at time at.
// On the loop.
func (l *loop) add(r *vr, at time.Duration) {
	r.l = l
	l.routers[r.cfg.VRID] = r
	l.n++
	l.refilter()
	r.start(at)
	l.rearm(r)
	l.flush()
}

// remove shuts r down like the protocol's Shutdown event (a Master sends
// priority 0 and withdraws its addresses) and takes it off the loop; the
// priority-0 advert is on the wire when it returns. On the loop.
func (l *loop) remove(r *vr) {
	if l.routers[r.cfg.VRID] != r {
		return
	}
	r.handle(fsm.Event{Kind: fsm.EventShutdown})
	l.detach(r)
}

// detach takes r off the loop as it is, once its effects are flushed (a
// router whose interface went away: nothing to send, nothing to shut
// down). On the loop.
func (l *loop) detach(r *vr) {
	if l.routers[r.cfg.VRID] != r {
		return
	}
	l.unschedule(r)
	if r.group != nil {
		// Gone as it was: a fault of its own for its group.
		r.detached = true
		r.groupSync(nil)
	}
	l.flush()
	l.routers[r.cfg.VRID] = nil
	l.n--
	l.refilter()
}

// refilter tells the kernel which VRIDs this socket serves, so that a flood
// of anything else never reaches the loop (or its socket buffer).
func (l *loop) refilter() {
	var f linux.FilterSpec
	for vrid, r := range l.routers {
		if r != nil {
			f.VRIDs[vrid] = true
			f.AnyTTL[vrid] = len(r.cfg.UnicastPeers) > 0 // spec §2.1
		}
	}
	if err := l.sock.SetFilter(&f); err != nil {
		l.emit(effect{kind: effLog, loop: l, err: err, count: 1})
	}
}

// runInbox runs the posted functions; false when the loop must stop, after
// shutting every router down.
func (l *loop) runInbox() bool {
	l.mu.Lock()
	fs, quit := l.inbox, l.quit
	l.inbox = l.spare[:0]
	l.mu.Unlock()
	for i, f := range fs {
		f()
		fs[i] = nil
	}
	l.spare = fs[:0]
	if quit {
		// Every Master's priority-0 advert in one batch, before anything
		// else: at hundreds of routers, removing them one by one (a
		// flush and a new kernel filter each) held the last ones' back
		// by tens of milliseconds.
		for i, r := range l.routers {
			if r != nil {
				r.handle(fsm.Event{Kind: fsm.EventShutdown})
				l.unschedule(r)
				l.routers[i] = nil
			}
		}
		l.n = 0
		l.flush()
		l.mu.Lock()
		l.ended = true
		l.mu.Unlock()
		return false
	}
	return true
}

// post runs f on the loop without waiting; false when the loop has ended.
func (l *loop) post(f func()) bool {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return false
	}
	l.inbox = append(l.inbox, f)
	l.mu.Unlock()
	l.poll.Wake()
	return true
}

// do runs f on the loop and waits for it; false when the loop ended first.
func (l *loop) do(f func()) bool {
	done := make(chan struct{})
	if !l.post(func() { f(); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-l.done:
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// stop shuts every router on the loop down, as remove does, ends the loop
// and closes its socket. It waits for all that.
func (l *loop) stop() {
	l.mu.Lock()
	l.quit = true
	l.mu.Unlock()
	l.poll.Wake()
	<-l.done
}

// status is the interface's own view: what it dropped with no router to
// charge, and its socket's counters. On the loop.
func (l *loop) status() api.InterfaceStatus {
	st := api.InterfaceStatus{Interface: l.key.name, Family: l.key.fam.String(), Routers: l.n,
		UnknownVRID: l.unknownVRID, Discards: map[string]uint64{}, Counters: map[string]uint64{api.IfCounterReadErrors: l.readErrors, api.IfCounterEffectsDropped: l.effDropped}}
	if l.unknownVRID > 0 {
		u := &l.lastUnknown
		st.LastUnknownVRID, st.LastUnknownFrom = u.vrid, addrString(u.src)
		st.LastUnknownAt = time.Now().Add(u.at - l.clock.Now())
	}
	for c, n := range l.drops {
		if n > 0 {
			st.Discards[vrrp.Check(c).String()] = n
		}
	}
	if s, ok := l.sock.(interface{ Stats() linux.ConnStats }); ok {
		cs := s.Stats()
		for k, v := range map[string]uint64{api.IfCounterReceived: cs.Received, api.IfCounterRejected: cs.Rejected, api.IfCounterTruncated: cs.Truncated,
			api.IfCounterOverflow: cs.Overflow, api.IfCounterRejectOverflow: cs.RejectOverflow, api.IfCounterNotPeer: cs.NotPeer} {
			st.Counters[k] = v
		}
	}
	return st
}

// throttle lets a repeating condition through at most once per period and
// counts the occurrences in between, so a flood of bad packets never
// becomes a flood of log lines [9568-7.1-a]. Owned by one loop: no lock,
// no allocation.
type throttle struct {
	next time.Duration
	n    uint64
}

// logPeriod is the shortest gap between two log lines of one kind.
const logPeriod = 10 * time.Second

// hit records one occurrence at now and reports whether to log it, with the
// number of occurrences since the last line.
func (t *throttle) hit(now, period time.Duration) (uint64, bool) {
	t.n++
	if t.next != 0 && now < t.next {
		return 0, false
	}
	n := t.n
	t.n, t.next = 0, now+period
	if t.next == 0 {
		t.next = 1
	}
	return n, true
}
