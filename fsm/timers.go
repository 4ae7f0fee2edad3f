package fsm

import (
	"math"
	"net/netip"
	"time"
)

// Timer names one of a Router's timers.
type Timer uint8

const (
	// AdverTimer runs in Master only: send an advert when it fires [5798-6.2-a].
	AdverTimer Timer = iota
	// MasterDownTimer runs in Backup only: the Master is gone when it fires
	// [5798-6.2-a].
	MasterDownTimer
	// PreemptDelayTimer ends the preempt hold in Backup (extension:
	// keepalived's preempt_delay; see preemptHeld).
	PreemptDelayTimer
	numTimers
)

func (t Timer) String() string {
	switch t {
	case AdverTimer:
		return "Adver_Timer"
	case MasterDownTimer:
		return "Master_Down_Timer"
	case PreemptDelayTimer:
		return "Preempt_Delay_Timer"
	}
	return "Timer(?)"
}

// SkewTime is Skew_Time for a router of this priority, in exact nanoseconds,
// never truncated to centiseconds [IMPL-5]:
//
//	v3: (256 − Priority) × Master_Adver_Interval / 256  [5798-6.1-d]
//	v2: (256 − Priority) / 256 s, whatever the interval  [3768-6.1-a]
//
// The product is split so it cannot overflow for any interval; the only
// rounding is the final floor to a whole nanosecond.
func SkewTime(version, priority uint8, interval time.Duration) time.Duration {
	if version == 2 {
		interval = time.Second
	}
	if interval <= 0 {
		return 0
	}
	f := time.Duration(256 - int(priority))
	q, rem := interval/256, interval%256
	return f*q + f*rem/256
}

// MasterDownInterval is Master_Down_Interval: 3 × interval + Skew_Time
// [5798-6.1-e] [3768-6.1-b], where interval is Master_Adver_Interval (v3) or
// the router's own Advertisement_Interval (v2). It saturates instead of
// overflowing.
func MasterDownInterval(version, priority uint8, interval time.Duration) time.Duration {
	if interval <= 0 {
		return SkewTime(version, priority, interval)
	}
	skew := SkewTime(version, priority, interval)
	if interval > (math.MaxInt64-skew)/3 {
		return math.MaxInt64
	}
	return 3*interval + skew
}

// timer is one deadline and the token it was armed with. A firing whose token
// is not the current one is stale: the timer was reset or stopped since.
type timer struct {
	at    time.Duration
	token uint64
	armed bool
}

// Deadline reports when timer t fires and the token to hand back in
// Expired; ok is false when it is not running.
func (r *Router) Deadline(t Timer) (at time.Duration, token uint64, ok bool) {
	if t >= numTimers {
		return 0, 0, false
	}
	tm := r.timers[t]
	return tm.at, tm.token, tm.armed
}

// NextDeadline reports the earliest running timer.
func (r *Router) NextDeadline() (t Timer, at time.Duration, token uint64, ok bool) {
	for i := range r.timers {
		tm := r.timers[i]
		if tm.armed && (!ok || tm.at < at) {
			t, at, token, ok = Timer(i), tm.at, tm.token, true
		}
	}
	return t, at, token, ok
}

// arm (re)starts timer t to fire after d, invalidating earlier tokens.
func (r *Router) arm(t Timer, d time.Duration) {
	r.tokens++
	at := r.now + d
	if d > 0 && at < r.now { // saturate: a timer that never fires
		at = math.MaxInt64
	}
	r.timers[t] = timer{at: at, token: r.tokens, armed: true}
}

func (r *Router) stop(t Timer) { r.timers[t].armed = false }

func (r *Router) stopAll() {
	for i := range r.timers {
		r.timers[i].armed = false
	}
}

// fired consumes a firing: true when token is the live one for t.
func (r *Router) fired(t Timer, token uint64) bool {
	if t >= numTimers || !r.timers[t].armed || r.timers[t].token != token {
		r.counters.StaleTimerFirings++
		return false
	}
	r.timers[t].armed = false
	return true
}

// timerExpired dispatches a firing to the hook of its protocol event;
// stale firings stop here.
func (r *Router) timerExpired(t Timer, token uint64) {
	if !r.fired(t, token) {
		return
	}
	switch t {
	case AdverTimer:
		r.adverTimerExpired()
	case MasterDownTimer:
		r.masterDownTimerExpired()
	case PreemptDelayTimer:
		r.preemptDelayExpired()
	}
}

// adverTimerExpired [5798-6.4.3-h]. It runs only in Master: the timer is
// stopped on every way out.
func (r *Router) adverTimerExpired() {
	due := r.timers[AdverTimer].at
	r.sendAdvert(r.prio)
	r.startAdverTimer()
	// A late firing counts the next interval from the deadline that fired,
	// not from when it was handled: a real timer wakes up late, and
	// restarting from "now" would add that lateness to every interval
	// (about 7% fewer adverts than configured at 10 ms). Only when the
	// firing is more than an interval late does the next one count from
	// now.
	//
	// An early firing (a caller that sends the adverts of many routers
	// together fires some a little before their deadline; the daemon
	// allows 1% of the interval) counts from now: the routers sent
	// together stay together, so after one early firing their adverts
	// fall due at the same instant from then on, and the caller wakes
	// once for all of them instead of once each.
	if next := due + r.cfg.AdvertInterval; r.now >= due && next > r.now {
		r.timers[AdverTimer].at = next
	}
}

// masterDownTimerExpired [5798-6.4.2-g]. Backup only.
func (r *Router) masterDownTimerExpired() {
	if r.cfg.GroupHold && !r.cfg.Owner() {
		// Held by the sync group until every member wants to be Master
		// (EventGroupMaster). The timer runs on, as keepalived re-arms
		// it, so a Backup still counts Master_Down_Interval.
		r.wantMaster = true
		// The Master fell silent: none is known any more, so none is
		// reported (status, metrics, MIB) while the group holds this one.
		r.follow(netip.Addr{}, 0)
		r.startMasterDownTimer()
		return
	}
	r.becomeMaster(r.downReason)
}

// masterDownDetected: the BFD session to peer failed (EventMasterDown),
// with detection time detect. Only a Backup following peer acts, and only
// as its successor: Master_Down_Timer expires now (SuccessorNow) or within
// Skew_Time computed on detect instead of Master_Adver_Interval
// (SuccessorSkew): (256 − Priority) × detect / 256, so among several
// Backups the highest priority takes over first and the others hear it
// and follow it [5798-6.4.2-i], as after a priority-0 advert
// [5798-6.4.2-h]. A timer already due sooner is kept. Otherwise the RFC's
// timers run on: an advert from the Master restarts Master_Down_Timer
// [5798-6.4.2-i], and a session to a Master no longer followed is stale.
func (r *Router) masterDownDetected(peer netip.Addr, detect time.Duration) {
	if r.state != Backup || r.cfg.Successor == SuccessorNone || !peer.IsValid() || peer != r.masterAddr {
		return
	}
	d := time.Duration(0)
	if r.cfg.Successor == SuccessorSkew {
		d = SkewTime(3, r.prio, detect)
	}
	if at, _, ok := r.Deadline(MasterDownTimer); ok && at <= r.now+d {
		return
	}
	r.bfdPeer = peer
	r.downReason = ReasonBFDMasterDown
	if d > 0 {
		r.arm(MasterDownTimer, d)
		return
	}
	r.stop(MasterDownTimer)
	r.masterDownTimerExpired()
}

// bfdFalseDown: a Master that took over because BFD said its Master
// failed hears that Master again: BFD failed, not the Master. Counted and
// reported once; the RFC's rules settle the two Masters (the lower
// priority goes Backup on the other's next advert [5798-6.4.3-j], which
// RFC 9568 sends at once on hearing ours [9568-6.4.3-b]).
func (r *Router) bfdFalseDown(ev Event) {
	if !r.bfdSuspect || ev.Src != r.bfdPeer || ev.Priority == 0 {
		return
	}
	if r.now-r.masterSince > r.quietGap(ev.Interval) {
		r.bfdSuspect = false // a Master back later restarted: no false Down
		return
	}
	r.bfdSuspect = false
	r.counters.BFDFalseDowns++
	r.emit(Action{Kind: BFDFalseDown, Addr: ev.Src, Priority: ev.Priority})
}

// preemptDelayExpired: the lower-priority Master has had its delay; its
// adverts are discarded from now on [5798-6.4.2-j].
func (r *Router) preemptDelayExpired() {
	r.preemptHold, r.preemptDue = false, true
}

// startAdverTimer: Adver_Timer := Advertisement_Interval. The router's own
// interval, never the learnt one [5798-6.4.1-a] [5798-6.4.2-g] [5798-6.4.3-h].
func (r *Router) startAdverTimer() {
	r.stop(MasterDownTimer) // Master runs only Adver_Timer [5798-6.2-a]
	r.arm(AdverTimer, r.cfg.AdvertInterval)
}

// startMasterDownTimer: Master_Down_Timer := Master_Down_Interval.
func (r *Router) startMasterDownTimer() {
	r.stop(AdverTimer) // Backup runs only Master_Down_Timer [5798-6.2-a]
	r.arm(MasterDownTimer, r.masterDown)
}

// startSkewTimer: Master_Down_Timer := Skew_Time, after a priority-0 advert
// [5798-6.4.2-h].
func (r *Router) startSkewTimer() {
	r.stop(AdverTimer)
	r.arm(MasterDownTimer, r.skew)
}

// preemptHeld applies the preempt delay to a Backup's advert of priority
// prio (not 0) and reports whether it is held: accepted as if Preempt_Mode
// were off. As keepalived 2.2.7 (vrrp_state_backup): the first
// lower-priority advert starts the delay, one of higher or equal priority
// ends it (so does resetPreemptDelay when leaving Backup), and once it has
// run out lower priority is preempted until a higher or equal one is heard
// again. A lower-priority Master appearing at any time gets the full delay.
func (r *Router) preemptHeld(prio uint8) bool {
	switch {
	case r.cfg.PreemptDelay == 0 || !r.cfg.Preempt || r.cfg.Owner():
		return false
	case prio >= r.prio:
		r.resetPreemptDelay()
	case !r.preemptHold && !r.preemptDue:
		r.preemptHold = true
		r.arm(PreemptDelayTimer, r.cfg.PreemptDelay)
	}
	return r.preemptHold
}

// resetPreemptDelay: no lower-priority Master heard since.
func (r *Router) resetPreemptDelay() {
	r.preemptHold, r.preemptDue = false, false
	r.stop(PreemptDelayTimer)
}

// learnInterval sets Master_Adver_Interval from an accepted advert (v3 only)
// and recomputes Skew_Time [9568-6.4.2-a] and Master_Down_Interval
// [5798-6.4.2-i]. VRRPv2 has no Master_Adver_Interval: it keeps its own
// [3768-6.4.2-a]. A non-positive interval (never from a validated advert)
// is ignored so it cannot make the timer fire at once forever.
func (r *Router) learnInterval(adv time.Duration) {
	if r.cfg.Version == 3 && adv > 0 {
		r.masterAdverInterval = adv
	}
	r.recompute()
}

// recompute derives Skew_Time and Master_Down_Interval from the current
// priority and Master_Adver_Interval [5798-6.1-d] [5798-6.1-e].
func (r *Router) recompute() {
	iv := r.masterAdverInterval
	if r.cfg.Version == 2 {
		iv = r.cfg.AdvertInterval
	}
	r.skew = SkewTime(r.cfg.Version, r.prio, iv)
	r.masterDown = MasterDownInterval(r.cfg.Version, r.prio, iv)
}

// reconfigureTimers applies a Reconfigure from prev to r.cfg to the running
// timers and the derived intervals; see Reconfigure for the rules.
func (r *Router) reconfigureTimers(prev *Config) {
	rearmDown := false
	if iv := r.cfg.AdvertInterval; iv != prev.AdvertInterval {
		switch r.state {
		case Master:
			// [5798-6.4.3-h] with the new interval, but never later than the
			// advert already due: no gap above the old interval, none below
			// the new one.
			if at, _, ok := r.Deadline(AdverTimer); ok && r.now+iv < at {
				r.arm(AdverTimer, iv)
			}
		case Backup:
			if r.cfg.Version == 3 && !r.masterAddr.IsValid() {
				// Still the startup value [5798-6.4.1-b]: nothing learnt.
				r.masterAdverInterval = iv
				rearmDown = true
			}
			rearmDown = rearmDown || r.cfg.Version == 2 // [3768-6.1-b]
		default:
			// initialize sets Master_Adver_Interval from the new interval.
		}
	}
	r.recompute()
	if rearmDown && r.downReason != ReasonPriorityZero && r.downReason != ReasonBFDMasterDown {
		r.startMasterDownTimer()
	}

	if !r.cfg.Preempt || r.cfg.PreemptDelay == 0 {
		r.resetPreemptDelay()
	} else if r.preemptHold {
		at, _, _ := r.Deadline(PreemptDelayTimer)
		end := at - prev.PreemptDelay + r.cfg.PreemptDelay
		switch {
		case end <= r.now:
			r.stop(PreemptDelayTimer)
			r.preemptDelayExpired()
		case end != at:
			r.arm(PreemptDelayTimer, end-r.now)
		}
	}
}
