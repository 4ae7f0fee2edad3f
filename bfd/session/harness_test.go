package session

import (
	"math/rand/v2"
	"testing"
	"time"

	"govrrp/bfd"
)

// pair is two sessions joined by a virtual link with a fixed delay, under a
// virtual clock: the time-stepping harness the transition and property tests
// share. Packets go through the codec both ways.
type pair struct {
	t        testing.TB
	now      time.Duration
	s        [2]*Session
	cut      [2]bool // cut[i]: what i sends is lost
	dead     [2]bool // dead[i]: i is stopped (no timers, no receive)
	delay    time.Duration
	flight   []flight
	changes  [2][]Action      // state changes seen, per session
	changeAt [2]time.Duration // when the last one happened
	sent     [2][]sent        // packets sent, per session
}

type flight struct {
	to  int
	at  time.Duration
	buf [bfd.HeaderLen]byte
}

type sent struct {
	at time.Duration
	p  bfd.Packet
}

func newPair(t testing.TB, a, b Config, seed uint64) *pair {
	r := rand.New(rand.NewPCG(seed, seed))
	p := &pair{t: t, delay: 100 * time.Microsecond}
	p.s[0] = New(a, 1, r.Int64N, 0)
	p.s[1] = New(b, 2, r.Int64N, 0)
	return p
}

func (p *pair) apply(i int, acts []Action) {
	for _, a := range acts {
		switch a.Kind {
		case ActionSend:
			if a.Packet.Poll && a.Packet.Final {
				p.t.Fatalf("[5880-6.5] session %d sent P and F together", i)
			}
			p.sent[i] = append(p.sent[i], sent{p.now, a.Packet})
			if p.cut[i] {
				continue
			}
			f := flight{to: 1 - i, at: p.now + p.delay}
			a.Packet.Encode(f.buf[:])
			p.flight = append(p.flight, f)
		case ActionState:
			p.changes[i] = append(p.changes[i], a)
			p.changeAt[i] = p.now
		}
	}
}

// handle gives session i an event now.
func (p *pair) handle(i int, ev Event) {
	ev.At = p.now
	p.apply(i, p.s[i].Handle(ev))
}

// run advances the clock to until, delivering packets and firing timers in
// time order.
func (p *pair) run(until time.Duration) {
	for n := 0; ; n++ {
		if n > 10_000_000 {
			p.t.Fatal("harness does not progress")
		}
		next, who, pkt := until, -1, -1
		for i, s := range p.s {
			if p.dead[i] {
				continue
			}
			if at, ok := s.NextDeadline(); ok && at < next {
				if at < p.now {
					p.t.Fatalf("session %d deadline %v in the past (now %v)", i, at, p.now)
				}
				next, who, pkt = at, i, -1
			}
		}
		for k, f := range p.flight {
			if f.at < next {
				next, who, pkt = f.at, f.to, k
			}
		}
		if who < 0 {
			p.now = until
			return
		}
		p.now = next
		if pkt >= 0 {
			f := p.flight[pkt]
			p.flight = append(p.flight[:pkt], p.flight[pkt+1:]...)
			if p.dead[f.to] {
				continue
			}
			var q bfd.Packet
			if err := q.Decode(f.buf[:]); err != nil {
				p.t.Fatalf("own packet does not decode: %v", err)
			}
			p.handle(f.to, Event{Kind: EventPacket, Packet: q})
			continue
		}
		p.handle(who, Event{Kind: EventTimer})
	}
}

// stall stops the clock's world for d, both sessions and the link: the
// machine they share was not running. When it resumes, each session is
// told of the stall first when tell is set (as the runner does), then the
// timers due fire and the packets in flight arrive.
func (p *pair) stall(d time.Duration, tell bool) {
	p.now += d
	for i, s := range p.s {
		if p.dead[i] {
			continue
		}
		if tell {
			p.handle(i, Event{Kind: EventStall, Stall: d})
		}
		for n := 0; n < 16; n++ {
			if at, ok := s.NextDeadline(); !ok || at > p.now {
				break
			}
			p.handle(i, Event{Kind: EventTimer})
		}
	}
	for k := range p.flight {
		p.flight[k].at = max(p.flight[k].at, p.now)
	}
}

func (p *pair) lastChange(i int) Action {
	p.t.Helper()
	if len(p.changes[i]) == 0 {
		p.t.Fatalf("session %d never changed state", i)
	}
	return p.changes[i][len(p.changes[i])-1]
}

var fast = Config{DesiredMinTx: 10 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}
