// Package session is one BFD session's state machine (RFC 5880 §6.2,
// §6.8), asynchronous mode, with no I/O: events in (a received packet, a
// timer, admin down/up, new parameters, a stall of the host), actions out
// (send this packet now, the state changed). Time comes with each event,
// on the same monotonic scale as fsm.Clock; all timer logic is in
// timers.go.
//
// Not implemented: echo mode, demand mode (we never ask for it; a peer's is
// honoured by not sending, §6.8.7) and authentication (refused by the
// codec).
package session

import (
	"math/rand/v2"
	"time"

	"govrrp/bfd"
)

// SlowTx is the least DesiredMinTx while the session is not Up (RFC 5880
// §6.8.3).
const SlowTx = time.Second

// Config is what a session is configured with.
type Config struct {
	// DesiredMinTx and RequiredMinRx are used once Up; before, DesiredMinTx
	// is at least SlowTx.
	DesiredMinTx  time.Duration
	RequiredMinRx time.Duration
	DetectMult    uint8
	// Passive: send nothing until the peer's first packet (§6.1), and again
	// after its discriminator is forgotten (detection time without packets).
	Passive bool
}

// EventKind says what happened.
type EventKind uint8

const (
	EventPacket    EventKind = iota + 1 // Packet received, passed the codec's checks, selected for this session
	EventTimer                          // the deadline of NextDeadline came: every timer due by At fires
	EventAdminDown                      // the operator disables the session (§6.8.16)
	EventAdminUp                        // and enables it again
	EventConfig                         // Config replaces the configuration (§6.8.3: Poll when Up)
	// EventStall: the caller's loop did not run for Stall, up to At (the
	// host did not schedule it): see timers.go.
	EventStall
)

// Event is one input, with when it happened.
type Event struct {
	Kind   EventKind
	At     time.Duration
	Packet bfd.Packet // EventPacket
	Config Config     // EventConfig
	Stall  time.Duration
}

// ActionKind says what to do.
type ActionKind uint8

const (
	ActionSend  ActionKind = iota + 1 // put Packet on the wire now
	ActionState                       // the state changed
)

// Action is one output.
type Action struct {
	Kind   ActionKind
	Packet bfd.Packet // ActionSend

	// ActionState: From → To, with the diagnostic we now send.
	From, To bfd.State
	Diag     bfd.Diag
	// PeerAdminDown: we went Down because the peer said AdminDown. RFC 5882
	// §3.2: that is no path failure and users must not act on it as one.
	PeerAdminDown bool
	// Failure: an Up session was lost to the path or to the peer's
	// protocol (detection time expired, or the peer said Down). Never set
	// for AdminDown on either side.
	Failure bool
}

// Status is a session's state for snapshots.
type Status struct {
	State, RemoteState bfd.State
	Diag, RemoteDiag   bfd.Diag
	LocalDiscr         uint32
	RemoteDiscr        uint32
	// TxInterval is the transmit interval in use before jitter; Detection
	// the detection time in use (0 before a packet).
	TxInterval, Detection time.Duration
	// RemoteMinRx, RemoteMinTx and RemoteMult as last received.
	RemoteMinRx, RemoteMinTx time.Duration
	RemoteMult               uint8
	Polling                  bool
	// Ups and Failures count transitions to Up and failures (see Action).
	Ups, Failures uint64
	// Stalls counts the host stalls that moved the detection timer
	// (timers.go).
	Stalls uint64
}

// Session is one session. It is not safe for concurrent use.
type Session struct {
	cfg        Config
	localDiscr uint32
	state      bfd.State
	diag       bfd.Diag

	remoteDiscr  uint32
	remoteState  bfd.State
	remoteDiag   bfd.Diag
	remoteDemand bool
	remoteMinRx  time.Duration // bfd.RemoteMinRxInterval
	remoteMinTx  time.Duration // the peer's last Desired Min TX
	remoteMult   uint8

	// advTx, advRx are bfd.DesiredMinTxInterval and
	// bfd.RequiredMinRxInterval: what our packets say. opTx, opRx are
	// what we act on: they differ during a Poll Sequence (§6.8.3).
	advTx, advRx time.Duration
	opTx, opRx   time.Duration
	polling      bool
	// repoll: the configuration changed again during our Poll Sequence;
	// a new one starts after its Final (§6.5: never two at once).
	repoll bool

	timers
	ups, failures, stalls uint64
	acts                  []Action
}

// New returns a session in state Down. discr is its local discriminator,
// nonzero and unique on the host (the caller's job, §6.8.1); intn is the
// random source of the transmit jitter (nil: math/rand/v2), returning a
// value in [0, n). Unless passive, the first packet is due at now.
func New(cfg Config, discr uint32, intn func(n int64) int64, now time.Duration) *Session {
	if intn == nil {
		intn = rand.Int64N
	}
	s := &Session{cfg: cfg, localDiscr: discr, state: bfd.Down, remoteMinRx: time.Microsecond, acts: make([]Action, 0, 4)}
	s.intn = intn
	s.advTx, s.advRx = s.wantIntervals()
	s.opTx, s.opRx = s.advTx, s.advRx
	s.startTx(now)
	return s
}

// State returns the session state.
func (s *Session) State() bfd.State { return s.state }

// LocalDiscr returns the session's discriminator.
func (s *Session) LocalDiscr() uint32 { return s.localDiscr }

// Status returns the session's state for snapshots.
func (s *Session) Status() Status {
	st := Status{State: s.state, RemoteState: s.remoteState, Diag: s.diag, RemoteDiag: s.remoteDiag,
		LocalDiscr: s.localDiscr, RemoteDiscr: s.remoteDiscr, TxInterval: s.txInterval(),
		RemoteMinRx: s.remoteMinRx, RemoteMinTx: s.remoteMinTx, RemoteMult: s.remoteMult,
		Polling: s.polling, Ups: s.ups, Failures: s.failures, Stalls: s.stalls}
	if s.remoteMult != 0 {
		st.Detection = s.detectTime()
	}
	return st
}

// Handle applies ev and returns what to do, in order. The slice is the
// session's and valid until the next call.
func (s *Session) Handle(ev Event) []Action {
	s.acts = s.acts[:0]
	switch ev.Kind {
	case EventPacket:
		s.receive(&ev.Packet, ev.At)
	case EventTimer:
		s.expire(ev.At)
	case EventAdminDown:
		if s.state != bfd.AdminDown {
			s.setState(bfd.AdminDown, bfd.DiagAdminDown, false, ev.At)
			s.stopDetect()
			// Tell the peer now rather than a second later (§6.8.16).
			s.txAt = ev.At
		}
	case EventAdminUp:
		if s.state == bfd.AdminDown {
			s.setState(bfd.Down, bfd.DiagNone, false, ev.At)
		}
	case EventConfig:
		s.cfg = ev.Config
		s.paramsChanged(ev.At)
		s.startTx(ev.At)
	case EventStall:
		s.stalled(ev.At, ev.Stall)
	}
	return s.acts
}

// receive is RFC 5880 §6.8.6 from "the session is selected" on.
func (s *Session) receive(p *bfd.Packet, at time.Duration) {
	s.remoteDiscr = p.MyDiscr
	s.remoteState = p.State
	s.remoteDiag = p.Diag
	s.remoteDemand = p.Demand
	s.remoteMinRx = bfd.Duration(p.RequiredMinRx)
	s.remoteMinTx = bfd.Duration(p.DesiredMinTx)
	s.remoteMult = p.DetectMult
	if s.polling && p.Final {
		s.pollDone(at)
	}
	s.resetDetect(at)
	if s.state == bfd.AdminDown {
		return
	}
	if p.State == bfd.AdminDown {
		if s.state != bfd.Down {
			s.setState(bfd.Down, bfd.DiagNeighborDown, true, at)
		}
	} else {
		switch s.state {
		case bfd.Down:
			switch p.State {
			case bfd.Down:
				s.setState(bfd.Init, bfd.DiagNone, false, at)
			case bfd.Init:
				s.setState(bfd.Up, bfd.DiagNone, false, at)
			}
		case bfd.Init:
			if p.State == bfd.Init || p.State == bfd.Up {
				s.setState(bfd.Up, bfd.DiagNone, false, at)
			}
		case bfd.Up:
			if p.State == bfd.Down {
				s.setState(bfd.Down, bfd.DiagNeighborDown, false, at)
			}
		}
	}
	s.startTx(at)
	if p.Poll {
		// §6.5: answer with Final at once, whatever the transmit timer;
		// the next periodic packet counts from this one, at the interval
		// the Poll may just have changed (FRR lowers its RequiredMinRx by
		// a Poll after Up and expects the new pace at once).
		s.send(true)
		s.restartTx(at)
	}
}

// setState moves to st, reporting it, and puts the intervals that go with
// the new state in force (§6.8.3).
func (s *Session) setState(st bfd.State, diag bfd.Diag, peerAdmin bool, at time.Duration) {
	from := s.state
	s.state, s.diag = st, diag
	failure := from == bfd.Up && st == bfd.Down && !peerAdmin
	if failure {
		s.failures++
	}
	if st == bfd.Up {
		s.ups++
	}
	if st != bfd.Up {
		s.polling, s.repoll = false, false
	}
	s.acts = append(s.acts, Action{Kind: ActionState, From: from, To: st, Diag: diag, PeerAdminDown: peerAdmin, Failure: failure})
	s.paramsChanged(at)
	// §6.8.7: a packet that differs from the last one goes out between
	// the periodic ones, so the peer learns the new state now, not at the
	// next one (a second away when we leave Up).
	if s.txOn {
		s.txAt = at
	}
}

// wantIntervals is what DesiredMinTx and RequiredMinRx should say now.
func (s *Session) wantIntervals() (tx, rx time.Duration) {
	tx = s.cfg.DesiredMinTx
	if s.state != bfd.Up {
		tx = max(tx, SlowTx)
	}
	return tx, s.cfg.RequiredMinRx
}

// paramsChanged brings the advertised intervals to what the state and
// configuration want. While Up a change starts a Poll Sequence (§6.8.3);
// a faster transmit interval or a longer detection time is safe at once and
// taken at once, the others wait for the Final (pollDone). While not Up
// everything applies at once.
func (s *Session) paramsChanged(at time.Duration) {
	tx, rx := s.wantIntervals()
	if tx == s.advTx && rx == s.advRx {
		return
	}
	if s.state != bfd.Up {
		s.advTx, s.advRx = tx, rx
		s.opTx, s.opRx = tx, rx
		s.polling, s.repoll = false, false
		s.restartTx(at)
		return
	}
	if s.polling {
		// The peer's Final must answer the values it saw: keep them
		// until it comes, then poll again (pollDone).
		s.repoll = true
		return
	}
	s.advTx, s.advRx = tx, rx
	s.polling = true
	s.opRx = max(s.opRx, rx)
	if tx < s.opTx {
		// Going Up from 1 s (or lowering the rate while Up): the peer
		// applies our new value as soon as it sees it, so the next packet
		// must not wait out the old interval.
		s.opTx = tx
		s.restartTx(at)
	}
}

// pollDone ends our Poll Sequence: the Final came, so the peer has seen the
// new values and all of them apply (§6.5, §6.8.3).
func (s *Session) pollDone(at time.Duration) {
	s.polling = false
	slower := s.advTx > s.opTx
	s.opTx, s.opRx = s.advTx, s.advRx
	if !slower {
		s.restartTx(at)
	}
	if s.repoll {
		s.repoll = false
		s.paramsChanged(at)
	}
}

// send queues a packet with the session's current values.
func (s *Session) send(final bool) {
	s.acts = append(s.acts, Action{Kind: ActionSend, Packet: bfd.Packet{
		Diag:          s.diag,
		State:         s.state,
		Poll:          s.polling && !final,
		Final:         final,
		DetectMult:    s.cfg.DetectMult,
		MyDiscr:       s.localDiscr,
		YourDiscr:     s.remoteDiscr,
		DesiredMinTx:  bfd.Micros(s.advTx),
		RequiredMinRx: bfd.Micros(s.advRx),
	}})
}
