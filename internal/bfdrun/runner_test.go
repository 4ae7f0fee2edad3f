package bfdrun

import (
	"sync"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/internal/lab"
	"govrrp/internal/linux"
)

// changes collects a runner's state changes.
type changes struct {
	mu  sync.Mutex
	all []Change
	ch  chan Change
}

func newChanges() *changes { return &changes{ch: make(chan Change, 64)} }

func (c *changes) notify(ch Change) {
	c.mu.Lock()
	c.all = append(c.all, ch)
	c.mu.Unlock()
	select {
	case c.ch <- ch:
	default:
	}
}

// await waits for a change to state to, up to d.
func (c *changes) await(t *testing.T, to bfd.State, d time.Duration) Change {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ch := <-c.ch:
			if ch.To == to {
				return ch
			}
		case <-deadline:
			t.Fatalf("no change to %v within %v (seen %+v)", to, d, c.all)
		}
	}
}

func startRunner(t *testing.T, nd *lab.Node, c *changes) *Runner {
	t.Helper()
	r, err := New(Options{Enter: nd.Do, Notify: c.notify})
	if err != nil {
		t.Fatal(err)
	}
	go r.Run()
	return r
}

var fast = session.Config{DesiredMinTx: 10 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}

// Two runners in two namespaces bring a session Up at 10 ms over IPv4 and
// IPv6; removing one end is an AdminDown the other does not count as a
// failure [5882-3.2]; stopping one end without a word is detected
// within the detection time [5880-6.8.4].
func TestRunnerPair(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	a, b := lan.Nodes[0], lan.Nodes[1]
	for _, v6 := range []bool{false, true} {
		name := "ipv4"
		pa, pb := a.V4.Addr(), b.V4.Addr()
		if v6 {
			name = "ipv6"
			pa, pb = a.V6.Addr(), b.V6.Addr()
		}
		t.Run(name, func(t *testing.T) {
			ca, cb := newChanges(), newChanges()
			ra, rb := startRunner(t, a, ca), startRunner(t, b, cb)
			defer ra.Close()
			if err := ra.Add(SessionConfig{Name: "to-b", Interface: "eth0", Peer: pb, Local: pa, Config: fast}); err != nil {
				t.Fatal(err)
			}
			if err := rb.Add(SessionConfig{Name: "to-a", Interface: "eth0", Peer: pa, Local: pb, Config: fast}); err != nil {
				t.Fatal(err)
			}
			ca.await(t, bfd.Up, 5*time.Second)
			cb.await(t, bfd.Up, 5*time.Second)
			st := settled(t, ra)
			if st.TxInterval != 10*time.Millisecond || st.Detection != 30*time.Millisecond || st.Polling {
				t.Fatalf("negotiated %+v", st.Status)
			}

			// b removes its session: AdminDown, not a failure.
			if err := rb.Remove("to-a"); err != nil {
				t.Fatal(err)
			}
			ch := ca.await(t, bfd.Down, time.Second)
			if ch.Diag != bfd.DiagNeighborDown || !ch.PeerAdminDown || ch.Failure {
				t.Fatalf("after the peer's removal: %+v", ch)
			}
			// And back, then b dies silently.
			if err := rb.Add(SessionConfig{Name: "to-a", Interface: "eth0", Peer: pa, Local: pb, Config: fast}); err != nil {
				t.Fatal(err)
			}
			ca.await(t, bfd.Up, 5*time.Second)
			settled(t, ra)
			rb.Close()
			stop := time.Now()
			ch = ca.await(t, bfd.Down, time.Second)
			if ch.Diag != bfd.DiagDetectExpired || !ch.Failure {
				t.Fatalf("after the peer died: %+v", ch)
			}
			t.Logf("%s: Down %v after the peer stopped (detection time 30ms)", name, ch.At.Sub(stop))
			if d := ch.At.Sub(stop); d > 60*time.Millisecond {
				t.Errorf("detected after %v", d)
			}
		})
	}
}

// settled waits until r's only session is Up with no Poll Sequence running.
func settled(t *testing.T, r *Runner) Status {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		st := r.Status()
		if len(st) == 1 && st[0].State == bfd.Up && !st[0].Polling && st[0].RemoteMinRx == 10*time.Millisecond {
			return st[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// [5880-6.3] A packet carrying our discriminator from an address that is
// not the session's peer is not the session's: dropped as no_session, the
// session stays Up (single hop: the peer's address and interface are part
// of the session).
func TestRunnerSelectsByPeer(t *testing.T) {
	lan := lab.NewLAN(t, 3)
	a, b, c := lan.Nodes[0], lan.Nodes[1], lan.Nodes[2]
	ca, cb := newChanges(), newChanges()
	ra, rb := startRunner(t, a, ca), startRunner(t, b, cb)
	defer ra.Close()
	defer rb.Close()
	if err := ra.Add(SessionConfig{Name: "to-b", Interface: "eth0", Peer: b.V4.Addr(), Config: fast}); err != nil {
		t.Fatal(err)
	}
	if err := rb.Add(SessionConfig{Name: "to-a", Interface: "eth0", Peer: a.V4.Addr(), Config: fast}); err != nil {
		t.Fatal(err)
	}
	ca.await(t, bfd.Up, 5*time.Second)
	st := settled(t, ra)

	var forger *linux.BFDSender
	c.MustDo(t, func() (err error) { forger, err = linux.DialBFD("eth0", c.V4.Addr(), a.V4.Addr()); return err })
	defer forger.Close()
	var buf [bfd.HeaderLen]byte
	(&bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: st.RemoteDiscr, YourDiscr: st.LocalDiscr, DesiredMinTx: 1e6, RequiredMinRx: 1e6}).Encode(buf[:])
	for range 3 {
		if err := forger.Send(buf[:]); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Second)
	for ra.Drops()["eth0/ipv4"]["no_session"] < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("drops %v", ra.Drops())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := ra.Status()[0]; s.State != bfd.Up || s.Failures != 0 {
		t.Fatalf("a forged Down moved the session: %+v", s.Status)
	}
}
