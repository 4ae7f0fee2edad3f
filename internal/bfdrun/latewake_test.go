package bfdrun

import (
	"testing"
	"time"

	"govrrp/bfd"
)

// A loop woken late (descheduled after its timer fired, a busy machine)
// reads what arrived before judging the detection time: a packet that
// came within it keeps the session Up, though the timer is long due when
// the loop runs and the poller saw nothing readable [5880-6.8.4]. The
// VRRP loops do the same (daemon:TestLoopLateReadKeepsBackup).
func TestRunnerLateWakeReadsFirst(t *testing.T) {
	u := newUpRunner(t, Options{})
	last := u.clk.now
	// The next packet arrives 20 ms later, within the detection time; the
	// loop runs 45 ms after the last one.
	u.recv(last+20*time.Millisecond, last+45*time.Millisecond)
	if st := u.s.fsm.State(); st != bfd.Up {
		t.Fatalf("state %v after a late wake-up, want Up: the packet that arrived in time was not read first", st)
	}
}

// The machine both peers run on stalls for 70 ms (a hypervisor, or a host
// that ran neither): nothing arrives in the detection time because the
// peer did not run either, and it sends the moment it runs again. The
// loop, waking 70 ms after its deadline, moves the detection timer by the
// stall before judging it: the session stays Up, the stall is counted and
// reported, and the peer's next packet keeps it Up (bfd/session
// TestHostStallIsNoFailure has the rule).
func TestRunnerStallIsNoFailure(t *testing.T) {
	var stalls []Stall
	u := newUpRunner(t, Options{Stalled: func(s Stall) { stalls = append(stalls, s) }})
	last := u.clk.now
	due, _ := u.s.fsm.NextDeadline()
	u.clk.now = due + 70*time.Millisecond
	u.r.step()
	if st := u.s.fsm.Status(); st.State != bfd.Up || st.Stalls != 1 {
		t.Fatalf("after a 70 ms stall with the peer stalled too: %+v, want Up, 1 stall", st)
	}
	if len(stalls) != 1 || stalls[0].Length != 70*time.Millisecond || stalls[0].Sessions != 1 {
		t.Fatalf("stalls reported: %+v", stalls)
	}
	u.recv(u.clk.now+100*time.Microsecond, u.clk.now+100*time.Microsecond)
	if st := u.s.fsm.Status(); st.State != bfd.Up || st.Failures != 0 {
		t.Fatalf("after the peer's packet: %+v", st)
	}
	// Silent from here: Down a detection time after the last packet.
	now := u.clk.now
	for u.s.fsm.State() == bfd.Up && u.clk.now < now+time.Second {
		u.clk.now += time.Millisecond
		u.r.step()
	}
	if d := u.clk.now - now; d != 30*time.Millisecond {
		t.Fatalf("Down %v after the last packet, want 30ms (last before the stall %v)", d, last)
	}
}

// The host stalls the loop within a step, between its read of the sockets
// and its timers (not while it sleeps): the stall moves the detection
// timer all the same.
func TestRunnerStallWithinAStep(t *testing.T) {
	u := newUpRunner(t, Options{})
	due, _ := u.s.fsm.NextDeadline()
	u.clk.now = due
	u.fl.read = func() { u.clk.now += 70 * time.Millisecond }
	u.r.step()
	u.fl.read = nil
	if st := u.s.fsm.Status(); st.State != bfd.Up || st.Stalls != 1 {
		t.Fatalf("after a 70 ms stall within a step: %+v, want Up, 1 stall", st)
	}
}

// The stall moves the detection timer also when that timer is the loop's
// first deadline (the peer asks for our packets every 50 ms but sends
// every 10: our detection time ends before our next packet is due).
func TestRunnerStallDetectionFirst(t *testing.T) {
	u := newUpRunner(t, Options{})
	u.pkt.RequiredMinRx = 50000
	for range 3 {
		u.recv(u.clk.now+10*time.Millisecond, u.clk.now+10*time.Millisecond)
	}
	due, _ := u.s.fsm.NextDeadline()
	if st := u.s.fsm.Status(); st.TxInterval != 50*time.Millisecond || due != u.clk.now+30*time.Millisecond {
		t.Fatalf("want detection (30ms) first, transmit at 50ms: %+v, next deadline %v after the last packet", st, due-u.clk.now)
	}
	u.clk.now = due + 70*time.Millisecond
	u.r.step()
	if st := u.s.fsm.Status(); st.State != bfd.Up || st.Stalls != 1 {
		t.Fatalf("after a 70 ms stall from the detection deadline: %+v, want Up, 1 stall", st)
	}
}

// A failure's Change says how long after the detection deadline the loop
// acted: 5 ms here (the loop woke late), so an operator can tell a busy
// host from a late failure.
func TestRunnerChangeLate(t *testing.T) {
	var changes []Change
	u := newUpRunner(t, Options{Notify: func(c Change) { changes = append(changes, c) }})
	for u.s.fsm.State() == bfd.Up {
		due, _ := u.s.fsm.NextDeadline()
		u.clk.now = due + 5*time.Millisecond
		u.r.step()
	}
	c := changes[len(changes)-1]
	if !c.Failure || c.Late != 5*time.Millisecond {
		t.Fatalf("change %+v, want a failure handled 5ms late", c)
	}
	if want := u.r.wall(u.s.rxAt); c.LastReceived.IsZero() || !c.LastReceived.Equal(want) {
		t.Fatalf("change's last packet %v, want %v", c.LastReceived, want)
	}
}
