package session

import (
	"testing"
	"time"

	"govrrp/bfd"
)

// [5880-6.2] [5880-6.8.6] Two sessions come Up through Down → Init → Up
// and then send at the configured 10 ms, not the 1 s of the bring-up
// [5880-6.8.3].
func TestComesUp(t *testing.T) {
	p := newPair(t, fast, fast, 1)
	p.run(3 * time.Second)
	for i := range 2 {
		if st := p.s[i].State(); st != bfd.Up {
			t.Fatalf("session %d is %v", i, st)
		}
		s := p.s[i].Status()
		if s.TxInterval != 10*time.Millisecond || s.Detection != 30*time.Millisecond || s.Polling {
			t.Fatalf("session %d: %+v", i, s)
		}
	}
	// The last second: ~100 packets each, not 1.
	n := 0
	for _, x := range p.sent[0] {
		if x.at > 2*time.Second {
			n++
		}
	}
	if n < 100 || n > 134 {
		t.Fatalf("%d packets in the last second at 10 ms with 0-25%% jitter", n)
	}
}

// [5880-6.8.3] While not Up, DesiredMinTx is at least 1 s and packets go
// out at that pace.
func TestSlowWhileNotUp(t *testing.T) {
	p := newPair(t, fast, fast, 2)
	p.cut[1] = true // 0 never hears from 1: stays Down
	p.run(5 * time.Second)
	if p.s[0].State() != bfd.Down {
		t.Fatalf("state %v", p.s[0].State())
	}
	if n := len(p.sent[0]); n < 5 || n > 7 {
		t.Fatalf("%d packets in 5 s while Down", n)
	}
	for _, x := range p.sent[0] {
		if bfd.Duration(x.p.DesiredMinTx) < time.Second {
			t.Fatalf("DesiredMinTx %v while Down", bfd.Duration(x.p.DesiredMinTx))
		}
	}
	for k := 1; k < len(p.sent[0]); k++ {
		if gap := p.sent[0][k].at - p.sent[0][k-1].at; gap < 750*time.Millisecond || gap > time.Second {
			t.Fatalf("[5880-6.8.7] gap %v outside 75-100%% of 1 s", gap)
		}
	}
}

// [5880-6.8.4] Once Up, a silent peer brings the session Down with diag
// Control Detection Time Expired within the detection time of its last
// packet, and that is a failure.
func TestDetectionExpires(t *testing.T) {
	p := newPair(t, fast, fast, 3)
	p.run(3 * time.Second)
	p.dead[1] = true
	last := p.sent[1][len(p.sent[1])-1].at
	p.run(4 * time.Second)
	c := p.lastChange(0)
	if c.To != bfd.Down || c.Diag != bfd.DiagDetectExpired || !c.Failure || c.PeerAdminDown {
		t.Fatalf("change %+v", c)
	}
	down := p.changeAt[0]
	if d := down - last - p.delay; d != 30*time.Millisecond {
		t.Fatalf("down %v after the last packet arrived, want the detection time 30ms", d)
	}
	if p.s[0].Status().Failures != 1 {
		t.Fatal("failure not counted")
	}
}

// A stall of the machine both peers run on (the hypervisor, or a host
// that did not schedule either for 70 ms): the peers are silent for longer
// than the detection time only because neither ran. Told of the stall, a
// session moves its detection timer by it and both stay Up; not told
// (plain RFC 5880 §6.8.4 timing), both declare a failure. A stall shorter
// than the peer's interval moves nothing [5880-6.8.4].
func TestHostStallIsNoFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stall time.Duration
		tell  bool
		up    bool
		moved uint64
	}{
		{"70ms, not told: both Down", 70 * time.Millisecond, false, false, 0},
		{"70ms, told: both Up", 70 * time.Millisecond, true, true, 1},
		{"25ms, told: both Up", 25 * time.Millisecond, true, true, 1},
		{"9ms, told: nothing moves", 9 * time.Millisecond, true, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, fast, fast, 5)
			p.run(3 * time.Second)
			// Just after a packet left each side: the whole stall
			// counts against the detection time.
			p.run(p.sent[1][len(p.sent[1])-1].at + time.Millisecond)
			p.stall(tc.stall, tc.tell)
			p.run(p.now + time.Second)
			for i, s := range p.s {
				if got := s.State() == bfd.Up && s.Status().Failures == 0; got != tc.up {
					t.Errorf("session %d: %+v, want Up %v", i, s.Status(), tc.up)
				}
				if s.Status().Stalls != tc.moved {
					t.Errorf("session %d: %d stalls counted, want %d", i, s.Status().Stalls, tc.moved)
				}
			}
		})
	}
}

// A peer that dies during a stall of this host is still found: the stall
// moves the detection time by its length, up to one detection time between
// two packets, and never to less than one of the peer's intervals after the
// stall ends. A host that keeps stalling (20 ms of every 25) still finds a
// dead peer within twice the detection time and an interval (or when the
// stall it is in then ends).
func TestStallDelaysDetectionByItsLength(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stalls []time.Duration // one after the other, 5 ms of running between
		want   time.Duration   // Down after the last packet arrived
	}{
		{"20ms stall: moved 20ms", []time.Duration{20 * time.Millisecond}, 50 * time.Millisecond},
		{"40ms stall: moved the cap, 30ms", []time.Duration{40 * time.Millisecond}, 60 * time.Millisecond},
		{"200ms stall: one interval after it", []time.Duration{200 * time.Millisecond}, 215 * time.Millisecond},
		// Moved 20, then 10 (the cap): due at 60, inside the third
		// stall, so found when it ends, at 75.
		{"stalls without end: the cap", []time.Duration{20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond, 20 * time.Millisecond}, 75 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, fast, fast, 6)
			p.run(3 * time.Second)
			p.dead[1] = true
			last := p.sent[1][len(p.sent[1])-1].at + p.delay
			p.run(last + 5*time.Millisecond)
			for _, d := range tc.stalls {
				if p.s[0].State() != bfd.Up {
					break
				}
				p.stall(d, true)
				p.run(p.now + 5*time.Millisecond)
			}
			p.run(4 * time.Second)
			c := p.lastChange(0)
			if c.To != bfd.Down || c.Diag != bfd.DiagDetectExpired || !c.Failure {
				t.Fatalf("change %+v", c)
			}
			if d := p.changeAt[0] - last; d > tc.want || d < tc.want-5*time.Millisecond {
				t.Fatalf("down %v after the last packet arrived, want %v", d, tc.want)
			}
		})
	}
}

// [5880-6.8.7] A state change is sent at once, between the periodic
// packets: the peer hears our Down when the detection time expires, not a
// slow interval (1 s) later; and when the peer's Down takes us Down.
func TestStateChangeSentAtOnce(t *testing.T) {
	s := upSession(t)
	var acts []Action
	for s.State() == bfd.Up {
		at, _ := s.NextDeadline()
		acts = s.Handle(Event{Kind: EventTimer, At: at})
	}
	if p := sendAction(t, acts); p.State != bfd.Down || p.Diag != bfd.DiagDetectExpired {
		t.Fatalf("sent %+v with the Down", p)
	}

	s = upSession(t)
	acts = s.Handle(Event{Kind: EventPacket, At: 5 * time.Second, Packet: bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1e6, RequiredMinRx: 1e6}})
	stateAction(t, acts)
	if next, _ := s.NextDeadline(); next != 5*time.Second {
		t.Fatalf("after the peer's Down the next packet is due at %v, want at once (5s)", next)
	}
}

// [5880-6.8.6] [5882-3.2] A peer going AdminDown brings us Down with diag
// Neighbor Signaled Session Down, marked as the peer's admin action and not
// a failure; when it comes back, so do we.
func TestPeerAdminDown(t *testing.T) {
	p := newPair(t, fast, fast, 4)
	p.run(3 * time.Second)
	p.handle(1, Event{Kind: EventAdminDown})
	p.run(3*time.Second + 50*time.Millisecond)
	c := p.lastChange(0)
	if c.To != bfd.Down || c.Diag != bfd.DiagNeighborDown || !c.PeerAdminDown || c.Failure {
		t.Fatalf("change %+v", c)
	}
	if c1 := p.lastChange(1); c1.To != bfd.AdminDown || c1.Diag != bfd.DiagAdminDown || c1.Failure {
		t.Fatalf("local change %+v", c1)
	}
	p.run(6 * time.Second) // AdminDown is kept: no Init on its packets
	if p.s[0].State() != bfd.Down || p.s[1].State() != bfd.AdminDown {
		t.Fatalf("states %v %v", p.s[0].State(), p.s[1].State())
	}
	p.handle(1, Event{Kind: EventAdminUp})
	p.run(10 * time.Second)
	if p.s[0].State() != bfd.Up || p.s[1].State() != bfd.Up {
		t.Fatalf("after admin up: %v %v", p.s[0].State(), p.s[1].State())
	}
	if p.s[0].Status().Failures != 0 {
		t.Fatal("AdminDown counted as a failure")
	}
}

// [5880-6.8.6] A peer saying Down while we are Up (it restarted, or its
// detection timer expired) is a failure with diag Neighbor Signaled Down.
func TestNeighborSignalsDown(t *testing.T) {
	s := upSession(t)
	acts := s.Handle(Event{Kind: EventPacket, At: 5 * time.Second, Packet: bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1e6, RequiredMinRx: 1e6}})
	c := stateAction(t, acts)
	if c.To != bfd.Down || c.Diag != bfd.DiagNeighborDown || !c.Failure || c.PeerAdminDown {
		t.Fatalf("%+v", c)
	}
}

// upSession is a session brought Up by hand against a peer with
// discriminator 9 at 10 ms, its Poll answered.
func upSession(t *testing.T) *Session {
	t.Helper()
	s := New(fast, 1, func(int64) int64 { return 0 }, 0)
	peer := bfd.Packet{State: bfd.Init, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}
	s.Handle(Event{Kind: EventPacket, At: time.Second, Packet: peer})
	peer.State, peer.Final = bfd.Up, true
	s.Handle(Event{Kind: EventPacket, At: time.Second + time.Millisecond, Packet: peer})
	if s.State() != bfd.Up || s.Status().Polling {
		t.Fatalf("not Up and settled: %+v", s.Status())
	}
	return s
}

func stateAction(t *testing.T, acts []Action) Action {
	t.Helper()
	for _, a := range acts {
		if a.Kind == ActionState {
			return a
		}
	}
	t.Fatalf("no state change in %+v", acts)
	return Action{}
}

func sendAction(t *testing.T, acts []Action) bfd.Packet {
	t.Helper()
	for _, a := range acts {
		if a.Kind == ActionSend {
			return a.Packet
		}
	}
	t.Fatalf("nothing sent in %+v", acts)
	return bfd.Packet{}
}

// The transitions of RFC 5880 §6.2, one received state at a time, from a
// fresh session (Down) or one brought to Init or Up.
func TestTransitions(t *testing.T) {
	cases := []struct {
		name      string
		from      bfd.State
		rx        bfd.State
		to        bfd.State
		diag      bfd.Diag
		peerAdmin bool
	}{
		{"[5880-6.2] Down + rx Down → Init", bfd.Down, bfd.Down, bfd.Init, bfd.DiagNone, false},
		{"[5880-6.2] Down + rx Init → Up", bfd.Down, bfd.Init, bfd.Up, bfd.DiagNone, false},
		{"[5880-6.2] Down + rx Up stays Down", bfd.Down, bfd.Up, bfd.Down, bfd.DiagNone, false},
		{"[5880-6.2] Down + rx AdminDown stays Down", bfd.Down, bfd.AdminDown, bfd.Down, bfd.DiagNone, false},
		{"[5880-6.2] Init + rx Init → Up", bfd.Init, bfd.Init, bfd.Up, bfd.DiagNone, false},
		{"[5880-6.2] Init + rx Up → Up", bfd.Init, bfd.Up, bfd.Up, bfd.DiagNone, false},
		{"[5880-6.2] Init + rx Down stays Init", bfd.Init, bfd.Down, bfd.Init, bfd.DiagNone, false},
		{"[5880-6.8.6] Init + rx AdminDown → Down, NeighborDown", bfd.Init, bfd.AdminDown, bfd.Down, bfd.DiagNeighborDown, true},
		{"[5880-6.2] Up + rx Down → Down, NeighborDown", bfd.Up, bfd.Down, bfd.Down, bfd.DiagNeighborDown, false},
		{"[5880-6.2] Up + rx Init stays Up", bfd.Up, bfd.Init, bfd.Up, bfd.DiagNone, false},
		{"[5880-6.8.6] [5882-3.2] Up + rx AdminDown → Down, NeighborDown, not a failure", bfd.Up, bfd.AdminDown, bfd.Down, bfd.DiagNeighborDown, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(fast, 1, func(int64) int64 { return 0 }, 0)
			at := time.Second
			peer := bfd.Packet{DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}
			switch c.from {
			case bfd.Init:
				peer.State, peer.YourDiscr = bfd.Down, 0
				s.Handle(Event{Kind: EventPacket, At: at, Packet: peer})
			case bfd.Up:
				s = upSession(t)
				at = 2 * time.Second
			}
			if s.State() != c.from {
				t.Fatalf("setup: %v", s.State())
			}
			peer.State, peer.YourDiscr = c.rx, 1
			acts := s.Handle(Event{Kind: EventPacket, At: at + time.Millisecond, Packet: peer})
			if s.State() != c.to {
				t.Fatalf("state %v, want %v", s.State(), c.to)
			}
			if c.to == c.from {
				for _, a := range acts {
					if a.Kind == ActionState {
						t.Fatalf("unexpected change %+v", a)
					}
				}
				return
			}
			a := stateAction(t, acts)
			if a.From != c.from || a.To != c.to || a.Diag != c.diag || a.PeerAdminDown != c.peerAdmin {
				t.Fatalf("%+v", a)
			}
			if a.Failure != (c.from == bfd.Up && !c.peerAdmin) {
				t.Fatalf("failure %v", a.Failure)
			}
		})
	}
}

// [5880-6.8.6] While AdminDown, received packets change nothing and get no
// answer, not even a Final.
func TestAdminDownIgnoresPackets(t *testing.T) {
	s := upSession(t)
	s.Handle(Event{Kind: EventAdminDown, At: 2 * time.Second})
	acts := s.Handle(Event{Kind: EventPacket, At: 2*time.Second + time.Millisecond, Packet: bfd.Packet{State: bfd.Down, Poll: true, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1e6, RequiredMinRx: 1e6}})
	if len(acts) != 0 || s.State() != bfd.AdminDown {
		t.Fatalf("%v %+v", s.State(), acts)
	}
}

// [5880-6.5] A Poll is answered at once with a Final, whatever the transmit
// timer, and [FRR] the next periodic packet counts from that answer.
func TestPollAnsweredWithFinal(t *testing.T) {
	s := upSession(t)
	at := 2*time.Second + 3*time.Millisecond
	// The peer slows both its intervals from 10 ms to 20 ms with a Poll.
	acts := s.Handle(Event{Kind: EventPacket, At: at, Packet: bfd.Packet{State: bfd.Up, Poll: true, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 20000, RequiredMinRx: 20000}})
	f := sendAction(t, acts)
	if !f.Final || f.Poll || f.State != bfd.Up {
		t.Fatalf("answer %+v", f)
	}
	if next, _ := s.NextDeadline(); next != at+20*time.Millisecond {
		t.Fatalf("next packet at %v, want %v (20 ms after the Final)", next, at+20*time.Millisecond)
	}
	if d := s.Status().Detection; d != 60*time.Millisecond {
		t.Fatalf("[5880-6.8.4] detection %v after the peer's DesiredMinTx went to 20 ms", d)
	}
}

// [5880-6.8.3] [5880-6.5] Changing our intervals while Up starts a Poll
// Sequence: packets carry P and the new values; a slower transmit interval
// and a shorter detection time wait for the Final; then P stops.
func TestParameterChangePolls(t *testing.T) {
	s := upSession(t)
	at := 2 * time.Second
	slow := Config{DesiredMinTx: 50 * time.Millisecond, RequiredMinRx: 5 * time.Millisecond, DetectMult: 3}
	s.Handle(Event{Kind: EventConfig, At: at, Config: slow})
	st := s.Status()
	if !st.Polling || st.TxInterval != 10*time.Millisecond || st.Detection != 30*time.Millisecond {
		t.Fatalf("during the Poll: %+v", st)
	}
	next, _ := s.NextDeadline()
	p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next}))
	if !p.Poll || p.DesiredMinTx != 50000 || p.RequiredMinRx != 5000 {
		t.Fatalf("poll packet %+v", p)
	}
	// The Final (the peer keeps DesiredMinTx 10 ms).
	s.Handle(Event{Kind: EventPacket, At: next + time.Millisecond, Packet: bfd.Packet{State: bfd.Up, Final: true, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}})
	st = s.Status()
	if st.Polling || st.TxInterval != 50*time.Millisecond || st.Detection != 30*time.Millisecond {
		t.Fatalf("after the Final: %+v", st)
	}
	next, _ = s.NextDeadline()
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next})); p.Poll {
		t.Fatal("P still set after the Final")
	}
}

// [5880-6.8.3] [5880-6.8.7] [FRR] Going Up lowers the transmit interval
// from 1 s to the configured one at once: the Up is sent at once (a state
// change), carrying P, and the next packet is due one new interval after
// it, not after what is left of the second.
func TestUpRestartsTransmitTimer(t *testing.T) {
	s := New(fast, 1, func(int64) int64 { return 0 }, 0)
	s.Handle(Event{Kind: EventTimer, At: 0}) // first packet; next due at 1 s
	at := 100 * time.Millisecond
	s.Handle(Event{Kind: EventPacket, At: at, Packet: bfd.Packet{State: bfd.Init, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 1e6, RequiredMinRx: 10000}})
	if s.State() != bfd.Up {
		t.Fatal(s.State())
	}
	if next, _ := s.NextDeadline(); next != at {
		t.Fatalf("the Up is due at %v, want at once (%v)", next, at)
	}
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: at})); !p.Poll || p.State != bfd.Up || p.DesiredMinTx != 10000 {
		t.Fatalf("%+v", p)
	}
	if next, _ := s.NextDeadline(); next != at+10*time.Millisecond {
		t.Fatalf("next packet at %v, want %v", next, at+10*time.Millisecond)
	}
	// The peer still says DesiredMinTx 1 s: detection waits for that.
	if d := s.Status().Detection; d != 3*time.Second {
		t.Fatalf("detection %v", d)
	}
}

// [5880-6.1] [5880-6.8.7] A passive session sends nothing until it hears
// from the peer, then answers; after a detection time of silence it forgets
// the peer and is quiet again.
func TestPassive(t *testing.T) {
	pc := fast
	pc.Passive = true
	s := New(pc, 1, func(int64) int64 { return 0 }, 0)
	if _, ok := s.NextDeadline(); ok {
		t.Fatal("passive session has a timer before any packet")
	}
	acts := s.Handle(Event{Kind: EventPacket, At: time.Second, Packet: bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: 9, DesiredMinTx: 1e6, RequiredMinRx: 1e6}})
	if stateAction(t, acts).To != bfd.Init {
		t.Fatal("no Init")
	}
	next, ok := s.NextDeadline()
	if !ok || next != time.Second {
		t.Fatalf("no packet due at once: %v %v", next, ok)
	}
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next})); p.YourDiscr != 9 || p.State != bfd.Init {
		t.Fatalf("%+v", p)
	}
	// Silence: detection (3 × 1 s) expires, Init → Down, then quiet.
	acts = s.Handle(Event{Kind: EventTimer, At: 4 * time.Second})
	if stateAction(t, acts).Diag != bfd.DiagDetectExpired {
		t.Fatalf("%+v", acts)
	}
	if at, ok := s.NextDeadline(); ok {
		t.Fatalf("passive session still transmits at %v after forgetting its peer", at)
	}
}

// [5880-6.8.7] A peer with RequiredMinRx 0 gets no periodic packets.
func TestPeerWantsNoPackets(t *testing.T) {
	s := upSession(t)
	s.Handle(Event{Kind: EventPacket, At: 2 * time.Second, Packet: bfd.Packet{State: bfd.Up, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000}})
	next, _ := s.NextDeadline()
	for _, a := range s.Handle(Event{Kind: EventTimer, At: next}) {
		if a.Kind == ActionSend {
			t.Fatal("sent to a peer with RequiredMinRx 0")
		}
	}
}

// [5880-6.8.7] Jitter: each interval is 75–100% of the transmit interval,
// or 75–90% with DetectMult 1; the extremes of the random source reach both
// ends.
func TestJitterBounds(t *testing.T) {
	for _, c := range []struct {
		mult   uint8
		lo, hi time.Duration
	}{{3, 7500 * time.Microsecond, 10 * time.Millisecond}, {1, 7500 * time.Microsecond, 9 * time.Millisecond}} {
		for _, r := range []func(int64) int64{func(int64) int64 { return 0 }, func(n int64) int64 { return n - 1 }} {
			s := New(Config{DesiredMinTx: 10 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: c.mult}, 1, r, 0)
			s.opTx = 10 * time.Millisecond
			j := s.jittered()
			if j < c.lo || j > c.hi {
				t.Fatalf("mult %d: %v outside [%v, %v]", c.mult, j, c.lo, c.hi)
			}
		}
	}
}

func TestHandleAllocs(t *testing.T) {
	s := upSession(t)
	at := 3 * time.Second
	pkt := bfd.Packet{State: bfd.Up, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}
	if n := testing.AllocsPerRun(200, func() {
		at += 10 * time.Millisecond
		s.Handle(Event{Kind: EventPacket, At: at, Packet: pkt})
		s.Handle(Event{Kind: EventTimer, At: at})
	}); n != 0 {
		t.Fatalf("%v allocations per packet", n)
	}
}

// [5880-6.5] A second change during our Poll Sequence waits for its Final:
// the packets keep the values the peer is answering, then a new Poll
// carries the second change.
func TestChangeDuringPoll(t *testing.T) {
	s := upSession(t)
	at := 2 * time.Second
	first := Config{DesiredMinTx: 20 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}
	second := Config{DesiredMinTx: 30 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}
	s.Handle(Event{Kind: EventConfig, At: at, Config: first})
	s.Handle(Event{Kind: EventConfig, At: at + time.Millisecond, Config: second})
	next, _ := s.NextDeadline()
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next})); !p.Poll || p.DesiredMinTx != 20000 {
		t.Fatalf("during the first Poll: %+v", p)
	}
	final := bfd.Packet{State: bfd.Up, Final: true, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}
	s.Handle(Event{Kind: EventPacket, At: next + time.Millisecond, Packet: final})
	if st := s.Status(); !st.Polling || st.TxInterval != 20*time.Millisecond {
		t.Fatalf("after the first Final: %+v", st)
	}
	next, _ = s.NextDeadline()
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next})); !p.Poll || p.DesiredMinTx != 30000 {
		t.Fatalf("the second Poll: %+v", p)
	}
	s.Handle(Event{Kind: EventPacket, At: next + time.Millisecond, Packet: final})
	if st := s.Status(); st.Polling || st.TxInterval != 30*time.Millisecond {
		t.Fatalf("after the second Final: %+v", st)
	}
}

// [5880-6.8.7] A peer in Demand mode with both Up gets no periodic packets,
// except while we poll.
func TestPeerDemandMode(t *testing.T) {
	s := upSession(t)
	at := 2 * time.Second
	s.Handle(Event{Kind: EventPacket, At: at, Packet: bfd.Packet{State: bfd.Up, Demand: true, DetectMult: 3, MyDiscr: 9, YourDiscr: 1, DesiredMinTx: 10000, RequiredMinRx: 10000}})
	if next, ok := s.NextDeadline(); ok && next != at+30*time.Millisecond {
		t.Fatalf("a timer other than detection runs: %v", next)
	}
	s.Handle(Event{Kind: EventConfig, At: at + time.Millisecond, Config: Config{DesiredMinTx: 20 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}})
	next, _ := s.NextDeadline()
	if p := sendAction(t, s.Handle(Event{Kind: EventTimer, At: next})); !p.Poll {
		t.Fatalf("poll packet %+v", p)
	}
}
