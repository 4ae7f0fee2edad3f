package session

import (
	"time"

	"govrrp/bfd"
)

// All of a session's timer logic is in this file: the transmit timer
// (periodic control packets, RFC 5880 §6.8.7) and the detection timer
// (§6.8.4). Each is a deadline on the events' clock; NextDeadline gives the
// earliest, and an EventTimer at or after it fires every timer due.

type timers struct {
	txOn, detectOn bool
	txAt, detectAt time.Duration
	// moved is what host stalls added to detectAt since the last packet.
	moved time.Duration
	intn  func(n int64) int64
}

// NextDeadline returns when the session must next get an EventTimer, or
// false when no timer runs.
func (s *Session) NextDeadline() (time.Duration, bool) {
	switch {
	case s.txOn && s.detectOn:
		return min(s.txAt, s.detectAt), true
	case s.txOn:
		return s.txAt, true
	case s.detectOn:
		return s.detectAt, true
	}
	return 0, false
}

// txInterval is the transmit interval before jitter: the larger of our
// DesiredMinTx in force and the peer's RequiredMinRx (§6.8.2, §6.8.7).
func (s *Session) txInterval() time.Duration { return max(s.opTx, s.remoteMinRx) }

// jittered is the next transmit interval: txInterval less 0–25%, or less
// 10–25% when our DetectMult is 1 (§6.8.7), so packets of many sessions do
// not lock step and one late packet cannot alone expire the peer's timer.
func (s *Session) jittered() time.Duration {
	iv := s.txInterval()
	if s.cfg.DetectMult == 1 {
		return iv - iv/10 - time.Duration(s.intn(int64(iv*15/100)+1))
	}
	return iv - time.Duration(s.intn(int64(iv/4)+1))
}

// detectTime is the detection time in asynchronous mode: the peer's
// DetectMult times the larger of our RequiredMinRx in force and the peer's
// DesiredMinTx (§6.8.4).
func (s *Session) detectTime() time.Duration {
	return time.Duration(s.remoteMult) * max(s.opRx, s.remoteMinTx)
}

// mayTransmit says whether periodic packets go out (§6.8.7): not to a peer
// asking for none (RequiredMinRx 0), not while passive and not knowing the
// peer, not while the peer is in Demand mode with both Up unless we are
// polling.
func (s *Session) mayTransmit() bool {
	switch {
	case s.remoteMinRx == 0:
		return false
	case s.cfg.Passive && s.remoteDiscr == 0:
		return false
	case s.remoteDemand && s.state == bfd.Up && s.remoteState == bfd.Up && !s.polling:
		return false
	}
	return true
}

// startTx starts or stops the transmit timer as mayTransmit says; a timer
// that starts fires at once.
func (s *Session) startTx(at time.Duration) {
	switch ok := s.mayTransmit(); {
	case ok && !s.txOn:
		s.txOn, s.txAt = true, at
	case !ok:
		s.txOn = false
	}
}

// restartTx counts the next periodic packet from at.
func (s *Session) restartTx(at time.Duration) {
	if s.txOn {
		s.txAt = at + s.jittered()
	}
}

// resetDetect restarts the detection timer on a received packet.
func (s *Session) resetDetect(at time.Duration) {
	s.detectOn, s.detectAt, s.moved = true, at+s.detectTime(), 0
}

func (s *Session) stopDetect() { s.detectOn = false }

// stalled moves the detection timer by d, the time up to at that the
// host did not run the caller's loop, when d is at least one of the peer's
// transmit intervals. RFC 5880 §6.8.4 times the peer's silence; a receiver
// that was not running cannot tell silence from its own absence. When the
// peer stalled with it (two routers on one hypervisor, or the whole
// machine), the peer sends again the moment both resume, but the detection
// time ran out meanwhile: without this both sides declare a failure that
// no failover can help. Packets that arrived while only this host stalled
// are read before the timer fires (the caller's job), so the move only
// costs detection time when the peer dies during a stall. A shorter stall
// cannot have taken a packet's place.
//
// The timer lands at least one of the peer's intervals after at (the peer
// resumes when we do and needs that long to send), and the moves between
// two received packets add up to at most one detection time: a host that
// stalls without end still finds a dead peer, in at most twice the
// detection time and an interval.
func (s *Session) stalled(at, d time.Duration) {
	if !s.detectOn || s.remoteMult == 0 {
		return
	}
	det := s.detectTime()
	iv := det / time.Duration(s.remoteMult)
	if d < iv || s.detectAt < at-d || s.moved >= det {
		return
	}
	move := min(d, det-s.moved)
	s.moved += move
	s.detectAt = max(s.detectAt+move, at+iv)
	s.stalls++
}

// expire fires the timers due by at. Detection first: a session whose
// peer fell silent goes Down before it sends again.
func (s *Session) expire(at time.Duration) {
	if s.detectOn && s.detectAt <= at {
		s.detectOn = false
		// §6.8.1: the peer's discriminator is forgotten after a
		// detection time without packets; a passive session goes quiet.
		s.remoteDiscr = 0
		s.remoteState = bfd.Down
		s.remoteDemand = false
		if s.state == bfd.Init || s.state == bfd.Up {
			s.setState(bfd.Down, bfd.DiagDetectExpired, false, at)
		}
		s.startTx(at)
	}
	if s.txOn && s.txAt <= at {
		s.send(false)
		s.txAt = at + s.jittered()
	}
}
