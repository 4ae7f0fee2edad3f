package sim

import (
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/fsm"
	"govrrp/vrrp"
)

var bfd10 = &session.Config{DesiredMinTx: 10 * ms, RequiredMinRx: 10 * ms, DetectMult: 3}

// bfdLAN: r0 priority 200 (the Master), r1 100 and r2 50, 1 s adverts;
// r0 and r1 run Master–Backup BFD at 10 ms × 3 with successors as given.
func bfdLAN(succ1, succ2 fsm.Successor, bfd2 bool) *LAN {
	l := New(1)
	for i, p := range []uint8{200, 100, 50} {
		c := cfg(3, vrrp.IPv4, ip4(i), p, time.Second)
		c.Successor = []fsm.Successor{fsm.SuccessorNone, succ1, succ2}[i]
		l.MustAdd(c)
	}
	l.SetBFD(0, bfd10)
	l.SetBFD(1, bfd10)
	if bfd2 {
		l.SetBFD(2, bfd10)
	}
	for i := range 3 {
		l.Start(i)
	}
	return l
}

func becameMaster(l *LAN, i int) (Transition, bool) {
	for _, tr := range l.Transitions {
		if tr.Router == i && tr.To == fsm.Master {
			return tr, true
		}
	}
	return Transition{}, false
}

// draft-ietf-rtgwg-vrrp-bfd-p2p: the Master crashes; the successor's
// session to it goes Down within the detection time (30 ms) and it takes
// over at once, at 1 s adverts, instead of after Master_Down_Interval
// (3.6 s); the other Backup, not a successor, hears the new Master and
// follows it [5798-6.4.2-i].
func TestBFDSuccessorTakesOver(t *testing.T) {
	l := bfdLAN(fsm.SuccessorNow, fsm.SuccessorNone, true)
	l.Run(5 * time.Second)
	if m := l.Masters(); len(m) != 1 || m[0] != 0 {
		t.Fatalf("Masters %v before the crash", m)
	}
	ups := 0
	for _, c := range l.BFDChanges {
		if c.To == bfd.Up {
			ups++
		}
	}
	if ups != 4 { // r1 and r2 to r0, both ends
		t.Fatalf("sessions Up: %d, want 4: %v", ups, l.BFDChanges)
	}
	crash := 5 * time.Second
	l.At(crash, func() { l.Crash(0) })
	l.Run(10 * time.Second)
	tr, ok := becameMaster(l, 1)
	if !ok || tr.Reason != fsm.ReasonBFDMasterDown {
		t.Fatalf("r1: %+v", l.Transitions)
	}
	if took := tr.At - crash; took < 20*ms || took > 31*ms {
		t.Fatalf("takeover %v after the crash, want the detection time (20..30 ms after the last packet)", took)
	}
	if _, ok := becameMaster(l, 2); ok {
		t.Fatalf("r2, not a successor, became Master: %v", l.Transitions)
	}
	if m := l.Masters(); len(m) != 1 || m[0] != 1 {
		t.Fatalf("Masters %v", m)
	}
}

// Without BFD, or as a Backup that is not the successor, the RFC's timers
// alone: Master_Down_Interval after the last advert [5798-6.4.2-g].
func TestBFDNonSuccessorKeepsRFCTimers(t *testing.T) {
	l := bfdLAN(fsm.SuccessorNone, fsm.SuccessorNone, false)
	l.Run(5 * time.Second)
	l.At(5*time.Second, func() { l.Crash(0) })
	l.Run(15 * time.Second)
	tr, ok := becameMaster(l, 1)
	if !ok || tr.Reason != fsm.ReasonMasterNoResponse || tr.At < 5*time.Second+2*time.Second {
		t.Fatalf("r1: %+v", tr)
	}
}

// Skew successors (auto): among several Backups the highest priority goes
// first, the others hear it and follow [5798-6.4.2-h].
func TestBFDSkewSuccessors(t *testing.T) {
	l := bfdLAN(fsm.SuccessorSkew, fsm.SuccessorSkew, true)
	l.Run(5 * time.Second)
	l.At(5*time.Second, func() { l.Crash(0) })
	l.Run(10 * time.Second)
	tr, ok := becameMaster(l, 1)
	if !ok || tr.Reason != fsm.ReasonBFDMasterDown || tr.At-5*time.Second > 60*ms {
		t.Fatalf("r1: %+v %v", tr, l.Transitions)
	}
	if _, ok := becameMaster(l, 2); ok {
		t.Fatalf("r2 became Master too: %v", l.Transitions)
	}
}
