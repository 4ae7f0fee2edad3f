package bfdrun

import (
	"net/netip"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/internal/linux"
)

// Fakes for a runner without sockets: the loop is driven by hand with step.
type fakeListener struct {
	pkt  []byte
	src  netip.Addr
	pend int    // packets waiting
	read func() // called at each ReadBatch, when set
}

func (f *fakeListener) Fd() int { return 7 }
func (f *fakeListener) ReadBatch(pkts []linux.BFDPacket) (int, bool, error) {
	if f.read != nil {
		f.read()
	}
	n := min(f.pend, len(pkts))
	for i := range n {
		pkts[i] = linux.BFDPacket{Payload: f.pkt, Src: f.src, TTL: 255}
	}
	f.pend -= n
	return n, false, nil
}
func (f *fakeListener) Stats() linux.BFDListenerStats { return linux.BFDListenerStats{} }
func (f *fakeListener) Close() error                  { return nil }

type fakeSender struct{ sent int }

func (f *fakeSender) Send([]byte) error { f.sent++; return nil }
func (f *fakeSender) SourcePort() int   { return 49152 }
func (f *fakeSender) Close() error      { return nil }

type fakeSockets struct {
	l *fakeListener
	s *fakeSender
}

func (f fakeSockets) Listen(string, bool) (Listener, error)               { return f.l, nil }
func (f fakeSockets) Dial(string, netip.Addr, netip.Addr) (Sender, error) { return f.s, nil }

type fakePoller struct{}

func (fakePoller) Add(int) error            { return nil }
func (fakePoller) Remove(int) error         { return nil }
func (fakePoller) Wait(time.Duration) error { return nil }
func (fakePoller) Wake()                    {}
func (fakePoller) Close() error             { return nil }

// arrivalClock stamps packets with a time of their own.
type arrivalClock struct {
	now, arrival time.Duration
}

func (c *arrivalClock) Now() time.Duration              { return c.now }
func (c *arrivalClock) Arrived(time.Time) time.Duration { return c.arrival }

// upRunner is a runner driven by hand (step) with one session, "s" to
// 10.77.0.2, brought Up at 10 ms × 3 and its Poll answered.
type upRunner struct {
	r   *Runner
	s   *sess
	fl  *fakeListener
	fs  *fakeSender
	clk *arrivalClock
	pkt bfd.Packet // the peer's next packet
	b   [bfd.HeaderLen]byte
}

func newUpRunner(t *testing.T, opts Options) *upRunner {
	t.Helper()
	peer := netip.MustParseAddr("10.77.0.2")
	u := &upRunner{fl: &fakeListener{src: peer}, fs: &fakeSender{}, clk: &arrivalClock{}}
	opts.Sockets, opts.Clock, opts.Intn = fakeSockets{u.fl, u.fs}, u.clk, func(int64) int64 { return 0 }
	if opts.Poller == nil {
		opts.Poller = fakePoller{}
	}
	var err error
	if u.r, err = New(opts); err != nil {
		t.Fatal(err)
	}
	// Add runs on the loop: serve the inbox by hand.
	done := make(chan error, 1)
	go func() { done <- u.r.Add(SessionConfig{Name: "s", Interface: "eth0", Peer: peer, Config: fast}) }()
	for len(done) == 0 {
		u.r.step()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	u.s = u.r.sessions["s"]
	u.pkt = bfd.Packet{State: bfd.Init, DetectMult: 3, MyDiscr: 9, YourDiscr: u.s.fsm.LocalDiscr(), DesiredMinTx: 10000, RequiredMinRx: 10000}
	u.recv(time.Second, time.Second)
	u.pkt.State, u.pkt.Final = bfd.Up, true // Up, and the Final to our Poll
	u.recv(time.Second+5*time.Millisecond, time.Second+5*time.Millisecond)
	u.pkt.Final = false
	for i := range 10 {
		at := time.Second + time.Duration(15+10*i)*time.Millisecond
		u.recv(at, at)
	}
	if st := u.s.fsm.Status(); st.State != bfd.Up || st.Polling || st.Detection != 30*time.Millisecond {
		t.Fatalf("not Up and settled at 10 ms × 3: %+v", st)
	}
	return u
}

// queue puts the peer's packet in the socket, arriving at arrival.
func (u *upRunner) queue(arrival time.Duration) {
	u.pkt.Encode(u.b[:])
	u.fl.pkt, u.fl.pend, u.clk.arrival = u.b[:], 1, arrival
}

// recv has the packet arrive at arrival and the loop run at now.
func (u *upRunner) recv(arrival, now time.Duration) {
	u.queue(arrival)
	u.clk.now = now
	u.r.step()
}

// An Up session receiving and sending at 10 ms through the runner's loop
// (decode, selection, state machine, timers, encode, send) costs no
// allocation per packet.
func TestRunnerHotPathAllocs(t *testing.T) {
	u := newUpRunner(t, Options{})
	sent := u.fs.sent
	if n := testing.AllocsPerRun(500, func() {
		u.clk.now += 10 * time.Millisecond
		u.clk.arrival = u.clk.now
		u.fl.pend = 1
		u.r.step()
	}); n != 0 {
		t.Fatalf("%v allocations per packet received and sent", n)
	}
	if u.fs.sent-sent < 400 || u.s.fsm.State() != bfd.Up {
		t.Fatalf("sent %d in 501 steps of 10 ms; state %v", u.fs.sent-sent, u.s.fsm.State())
	}
}
