package session

import (
	"math/rand/v2"
	"testing"
	"time"

	"govrrp/bfd"
)

// Random events, any order, any packet contents the codec lets through: the
// session never panics, never reports a deadline in the past, never sends P
// and F together [5880-6.5], never advertises DesiredMinTx below 1 s unless
// Up [5880-6.8.3], always names the peer's last discriminator [5880-6.8.7],
// reports state changes that chain (each From is the previous To), marks
// no AdminDown as a failure [5882-3.2], and a passive session sends nothing
// before its first packet [5880-6.1]; a host stall never changes state.
func TestRandomEventInvariants(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 7))
		cfg := Config{
			DesiredMinTx:  time.Duration(1+r.IntN(50)) * time.Millisecond,
			RequiredMinRx: time.Duration(1+r.IntN(50)) * time.Millisecond,
			DetectMult:    uint8(1 + r.IntN(5)),
			Passive:       r.IntN(3) == 0,
		}
		s := New(cfg, 1, r.Int64N, 0)
		now := time.Duration(0)
		state := bfd.Down
		heard := false
		for range 2000 {
			var ev Event
			switch k := r.IntN(10); {
			case k < 5:
				heard = true
				ev = Event{Kind: EventPacket, Packet: bfd.Packet{
					State: bfd.State(r.IntN(4)), Poll: r.IntN(4) == 0, Demand: r.IntN(8) == 0,
					DetectMult: uint8(1 + r.IntN(4)), MyDiscr: uint32(1 + r.IntN(3)), YourDiscr: uint32(r.IntN(2)),
					DesiredMinTx: uint32(r.IntN(2) * (1000 + r.IntN(100000))), RequiredMinRx: uint32(r.IntN(8) * (1000 + r.IntN(100000))),
				}}
				if ev.Packet.Poll {
					ev.Packet.Final = false
				} else {
					ev.Packet.Final = r.IntN(3) == 0
				}
				// Timers due first, as the runner does.
				now += time.Duration(r.IntN(20)) * time.Millisecond
				if at, ok := s.NextDeadline(); ok && at < now {
					now = at
				}
			case k < 8:
				if at, ok := s.NextDeadline(); ok {
					if at < now {
						t.Fatalf("seed %d: deadline %v before now %v", seed, at, now)
					}
					now = at
				}
				ev = Event{Kind: EventTimer}
			case k == 8 && r.IntN(3) == 0:
				// The loop did not run for up to 100 ms, up to now.
				ev = Event{Kind: EventStall, Stall: time.Duration(r.IntN(100)) * time.Millisecond}
			case k == 8:
				ev = Event{Kind: EventAdminDown + EventKind(r.IntN(2))}
			default:
				c := cfg
				c.DesiredMinTx = time.Duration(1+r.IntN(50)) * time.Millisecond
				c.RequiredMinRx = time.Duration(1+r.IntN(50)) * time.Millisecond
				ev = Event{Kind: EventConfig, Config: c}
			}
			ev.At = now
			before := s.State()
			acts := s.Handle(ev)
			if ev.Kind == EventStall && (len(acts) != 0 || s.State() != before) {
				t.Fatalf("seed %d: a stall acted: %+v", seed, acts)
			}
			for _, a := range acts {
				switch a.Kind {
				case ActionSend:
					p := a.Packet
					if p.Poll && p.Final {
						t.Fatalf("seed %d: P and F", seed)
					}
					if p.State != bfd.Up && bfd.Duration(p.DesiredMinTx) < SlowTx {
						t.Fatalf("seed %d: DesiredMinTx %v in %v", seed, bfd.Duration(p.DesiredMinTx), p.State)
					}
					if p.YourDiscr != s.remoteDiscr || p.MyDiscr != 1 {
						t.Fatalf("seed %d: discriminators %+v", seed, p)
					}
					if cfg.Passive && !heard {
						t.Fatalf("seed %d: passive session spoke first", seed)
					}
					var b [bfd.HeaderLen]byte
					var q bfd.Packet
					p.Encode(b[:])
					if err := q.Decode(b[:]); err != nil {
						t.Fatalf("seed %d: we sent what we would drop: %v %+v", seed, err, p)
					}
				case ActionState:
					if a.From != state {
						t.Fatalf("seed %d: change from %v, was %v", seed, a.From, state)
					}
					state = a.To
					if a.Failure && (a.PeerAdminDown || a.To == bfd.AdminDown || a.From != bfd.Up) {
						t.Fatalf("seed %d: %+v marked a failure", seed, a)
					}
				}
			}
			if s.State() != state {
				t.Fatalf("seed %d: state %v unreported (last %v)", seed, s.State(), state)
			}
		}
	}
}
