package bfdrun

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/bfd"
)

// stalePoller's last Wait saw nothing readable when stale is set: a
// wake-up by the timer alone, while packets arrived after it. (The runner
// no longer asks; it read only what the poller had seen before.)
type stalePoller struct {
	fakePoller
	stale bool
}

func (p *stalePoller) Readable(int) bool { return !p.stale }

// arrivalClock stamps packets with a time of their own.
type arrivalClock struct {
	now, arrival time.Duration
}

func (c *arrivalClock) Now() time.Duration              { return c.now }
func (c *arrivalClock) Arrived(time.Time) time.Duration { return c.arrival }

// A loop woken late (descheduled after its timer fired, a busy machine)
// reads what arrived before judging the detection time: a packet that
// came within it keeps the session Up, though the timer is long due when
// the loop runs and the poller saw nothing readable [5880-6.8.4]. The
// VRRP loops do the same (daemon:TestLoopLateReadKeepsBackup).
func TestRunnerLateWakeReadsFirst(t *testing.T) {
	peer := netip.MustParseAddr("10.77.0.2")
	fl := &fakeListener{src: peer}
	clk, poll := &arrivalClock{}, &stalePoller{}
	r, err := New(Options{Sockets: fakeSockets{fl, &fakeSender{}}, Poller: poll, Clock: clk, Intn: func(int64) int64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Add(SessionConfig{Name: "s", Interface: "eth0", Peer: peer, Config: fast}) }()
	for len(done) == 0 {
		r.step()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := r.sessions["s"]
	var b [bfd.HeaderLen]byte
	pkt := bfd.Packet{State: bfd.Init, DetectMult: 3, MyDiscr: 9, YourDiscr: s.fsm.LocalDiscr(), DesiredMinTx: 10000, RequiredMinRx: 10000}
	recv := func(at time.Duration) {
		pkt.Encode(b[:])
		fl.pkt, fl.pend = b[:], 1
		clk.now, clk.arrival = at, at
		r.step()
	}
	recv(time.Second)
	pkt.State, pkt.Final = bfd.Up, true
	recv(time.Second + 5*time.Millisecond)
	pkt.Final = false
	for i := range 10 {
		recv(time.Second + time.Duration(15+10*i)*time.Millisecond)
	}
	if st := s.fsm.Status(); st.State != bfd.Up || st.Polling || st.Detection != 30*time.Millisecond {
		t.Fatalf("not Up and settled at 10 ms × 3: %+v", st)
	}
	last := clk.now
	// The next packet arrives 20 ms later, within the detection time; the
	// loop runs 45 ms after the last one.
	pkt.Encode(b[:])
	fl.pkt, fl.pend = b[:], 1
	clk.arrival, clk.now = last+20*time.Millisecond, last+45*time.Millisecond
	poll.stale = true
	r.step()
	if st := s.fsm.State(); st != bfd.Up {
		t.Fatalf("state %v after a late wake-up, want Up: the packet that arrived in time was not read first", st)
	}
}
