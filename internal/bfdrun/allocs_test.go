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
	pend int // packets waiting
}

func (f *fakeListener) Fd() int { return 7 }
func (f *fakeListener) ReadBatch(pkts []linux.BFDPacket) (int, bool, error) {
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

type fakeClock struct{ now time.Duration }

func (c *fakeClock) Now() time.Duration              { return c.now }
func (c *fakeClock) Arrived(time.Time) time.Duration { return c.now }

// An Up session receiving and sending at 10 ms through the runner's loop
// (decode, selection, state machine, timers, encode, send) costs no
// allocation per packet.
func TestRunnerHotPathAllocs(t *testing.T) {
	peer := netip.MustParseAddr("10.77.0.2")
	fl := &fakeListener{src: peer}
	fs := &fakeSender{}
	clk := &fakeClock{}
	r, err := New(Options{Sockets: fakeSockets{fl, fs}, Poller: fakePoller{}, Clock: clk, Intn: func(int64) int64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	// Add runs on the loop: serve the inbox by hand.
	done := make(chan error, 1)
	go func() { done <- r.Add(SessionConfig{Name: "s", Interface: "eth0", Peer: peer, Config: fast}) }()
	for len(done) == 0 {
		r.step()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := r.sessions["s"]
	mine := s.fsm.LocalDiscr()
	var b [bfd.HeaderLen]byte
	pkt := bfd.Packet{State: bfd.Init, DetectMult: 3, MyDiscr: 9, YourDiscr: mine, DesiredMinTx: 10000, RequiredMinRx: 10000}
	pkt.Encode(b[:])
	fl.pkt = b[:]
	fl.pend = 1
	clk.now = time.Second
	r.step()
	pkt.State, pkt.Final = bfd.Up, true // Up, and the Final to our Poll
	pkt.Encode(b[:])
	clk.now += 5 * time.Millisecond
	fl.pend = 1
	r.step()
	pkt.Final = false
	pkt.Encode(b[:])
	if st := s.fsm.Status(); st.State != bfd.Up || st.Polling {
		t.Fatalf("not Up and settled: %+v", st)
	}
	sent := fs.sent
	if n := testing.AllocsPerRun(500, func() {
		clk.now += 10 * time.Millisecond
		fl.pend = 1
		r.step()
	}); n != 0 {
		t.Fatalf("%v allocations per packet received and sent", n)
	}
	if fs.sent-sent < 400 || s.fsm.State() != bfd.Up {
		t.Fatalf("sent %d in 501 steps of 10 ms; state %v", fs.sent-sent, s.fsm.State())
	}
}
