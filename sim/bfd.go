package sim

import (
	"math/rand/v2"
	"time"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/fsm"
)

// Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p), simulated with the
// real session state machine (bfd/session) and the real codec under the
// LAN's virtual clock: a router with SetBFD runs, as Backup, a session to
// the Master it follows (found by the advert source, its primary address),
// and answers the sessions Backups open to it, passively. Packets travel
// with the adverts' delay, loss and partitions; a crashed router or a
// pulled cable sends and hears nothing. A Backup's session that fails Up →
// Down (not a peer's AdminDown) is fsm.MasterDown to its state machine,
// which decides what it means (Config.Successor).

// BFDChange is a state change of one end of a session.
type BFDChange struct {
	At       time.Duration
	Router   int // the end's router
	Peer     int // the other end's
	Backup   bool
	From, To bfd.State
	Diag     bfd.Diag
	Failure  bool
	// Detection is the session's detection time at the change.
	Detection time.Duration
}

// bfdEnd is one end of a session: nil s when closed (or, at the Master,
// not opened yet: the Backup's first packet opens it).
type bfdEnd struct {
	node  int
	s     *session.Session
	sched time.Duration // the deadline queued, to queue each once
}

type bfdPair struct {
	id   int
	ends [2]bfdEnd // 0: the Backup's (active), 1: the Master's (passive)
}

// SetBFD gives router i Master–Backup BFD with c (nil: none), from now on.
func (l *LAN) SetBFD(i int, c *session.Config) {
	n := l.nodes[i]
	if c != nil {
		cc := *c
		c = &cc
	}
	n.bfd = c
	l.bfdFollow(n)
}

// bfdFollow opens, moves or closes router n's session to its Master.
func (l *LAN) bfdFollow(n *Node) {
	want := -1
	if n.bfd != nil && !n.Crashed {
		if st := n.Router.Status(); st.State == fsm.Backup && st.Master().IsValid() {
			for _, m := range l.nodes {
				if m != n && m.Config.Primary == st.Master() {
					want = m.ID
					break
				}
			}
		}
	}
	p := n.bfdPair
	if p != nil && p.ends[1].node == want {
		return
	}
	if p != nil {
		n.bfdPair = nil
		if !n.Crashed {
			// Removed: AdminDown to the peer, no failure (RFC 5880
			// §6.8.16), then the end is closed.
			l.bfdHandle(p, 0, session.Event{Kind: session.EventAdminDown, At: l.clock.now})
		}
		p.ends[0].s = nil
	}
	if want < 0 {
		return
	}
	l.bfdPairs++
	p = &bfdPair{id: l.bfdPairs, ends: [2]bfdEnd{{node: n.ID, sched: -1}, {node: want, sched: -1}}}
	n.bfdPair = p
	p.ends[0].s = session.New(*n.bfd, uint32(2*p.id+1), l.bfdIntn, l.clock.now)
	l.bfdRearm(p, 0)
}

// bfdIntn is the sessions' jitter, from the LAN's own deterministic
// source (not the loss draws').
func (l *LAN) bfdIntn(n int64) int64 {
	if l.bfdRng == nil {
		l.bfdRng = rand.New(rand.NewPCG(0xbfd, 0xbfd))
	}
	return l.bfdRng.Int64N(n)
}

func (l *LAN) bfdRearm(p *bfdPair, side int) {
	e := &p.ends[side]
	if e.s == nil {
		return
	}
	if at, ok := e.s.NextDeadline(); ok && at != e.sched {
		e.sched = at
		l.q.push(item{at: at, kind: evBFDTimer, node: e.node, bfd: p, side: side})
	}
}

// bfdHandle gives one end an event and carries out its actions.
func (l *LAN) bfdHandle(p *bfdPair, side int, ev session.Event) {
	e := &p.ends[side]
	if e.s == nil {
		return
	}
	n := l.nodes[e.node]
	peer := p.ends[1-side].node
	masterDown := false
	var detect time.Duration
	for _, a := range e.s.Handle(ev) {
		switch a.Kind {
		case session.ActionSend:
			l.bfdSend(p, side, &a.Packet)
		case session.ActionState:
			c := BFDChange{At: l.clock.now, Router: e.node, Peer: peer, Backup: side == 0, From: a.From, To: a.To, Diag: a.Diag,
				Failure: a.Failure, Detection: e.s.Status().Detection}
			l.BFDChanges = append(l.BFDChanges, c)
			if l.OnBFD != nil {
				l.OnBFD(c)
			}
			if side == 0 && a.From == bfd.Up && a.To == bfd.Down && a.Failure {
				masterDown, detect = true, c.Detection
			}
		}
	}
	if side == 1 && e.s.State() == bfd.Down {
		e.s = nil // an accepted session ends when it goes Down
	}
	l.bfdRearm(p, side)
	if masterDown && n.bfdPair == p {
		l.handle(n, fsm.MasterDown(l.nodes[peer].Config.Primary, detect))
	}
}

func (l *LAN) bfdSend(p *bfdPair, side int, pkt *bfd.Packet) {
	from, to := l.nodes[p.ends[side].node], l.nodes[p.ends[1-side].node]
	if from.LinkDown || from.Crashed || l.group[from.ID] != l.group[to.ID] {
		return
	}
	if l.loss > 0 && l.rng.Float64() < l.loss {
		return
	}
	d, ok := l.linkDelay[[2]int{from.ID, to.ID}]
	if !ok {
		d = l.delay
	}
	b := make([]byte, bfd.HeaderLen)
	pkt.Encode(b)
	l.q.push(item{at: l.clock.now + d, kind: evBFDPacket, node: to.ID, payload: b, bfd: p, side: 1 - side, epoch: to.epoch})
}

// bfdDeliver hands a packet to its end; the Master's end opens on the
// Backup's first packet if the Master runs BFD.
func (l *LAN) bfdDeliver(it *item) {
	n := l.nodes[it.node]
	if n.Crashed || n.LinkDown || n.epoch != it.epoch {
		return
	}
	var pkt bfd.Packet
	if pkt.Decode(it.payload) != nil {
		return
	}
	p, side := it.bfd, it.side
	e := &p.ends[side]
	if e.s == nil {
		if side == 0 || n.bfd == nil || pkt.YourDiscr != 0 {
			return
		}
		c := *n.bfd
		c.Passive = true
		e.s, e.sched = session.New(c, uint32(2*p.id+2), l.bfdIntn, l.clock.now), -1
	}
	l.bfdHandle(p, side, session.Event{Kind: session.EventPacket, At: l.clock.now, Packet: pkt})
}

// bfdTimer fires an end's deadline.
func (l *LAN) bfdTimer(it *item) {
	p, side := it.bfd, it.side
	e := &p.ends[side]
	n := l.nodes[it.node]
	if e.s == nil || n.Crashed || e.sched != it.at {
		return
	}
	e.sched = -1
	if at, ok := e.s.NextDeadline(); !ok || at > l.clock.now {
		l.bfdRearm(p, side)
		return
	}
	l.bfdHandle(p, side, session.Event{Kind: session.EventTimer, At: l.clock.now})
}

// bfdCrash: the router's sessions die with it, without a word.
func (l *LAN) bfdCrash(n *Node) {
	if n.bfdPair != nil {
		n.bfdPair.ends[0].s = nil
		n.bfdPair = nil
	}
	for _, o := range l.nodes {
		if p := o.bfdPair; p != nil && p.ends[1].node == n.ID {
			p.ends[1].s = nil
		}
	}
}
