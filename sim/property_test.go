package sim

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"

	"pgregory.net/rapid"
)

// lanSpec is a random LAN for one VRID: one version for all routers.
type lanSpec struct {
	version uint8
	fam     vrrp.Family
	prios   []uint8
	addrs   []netip.Addr
	ivs     []time.Duration
	noReply bool
	delay   time.Duration
}

// drawLAN draws 2..8 routers. distinct: all priorities differ (else drawn
// from four values, so ties are common). sameIv: one interval for all (v2
// always has one: Validate drops mismatches [3768-7.1-i]). owner: allow one
// priority-255 router.
func drawLAN(t *rapid.T, distinct, sameIv, owner bool) lanSpec {
	s := lanSpec{version: rapid.SampledFrom([]uint8{2, 3}).Draw(t, "version"), fam: vrrp.IPv4}
	n := rapid.IntRange(2, 8).Draw(t, "n")
	if s.version == 3 && rapid.Bool().Draw(t, "ipv6") {
		s.fam = vrrp.IPv6
	}
	if distinct {
		s.prios = rapid.SliceOfNDistinct(rapid.Uint8Range(1, 254), n, n, rapid.ID).Draw(t, "prios")
	} else {
		s.prios = rapid.SliceOfN(rapid.SampledFrom([]uint8{50, 100, 150, 200}), n, n).Draw(t, "prios")
	}
	if owner && rapid.Bool().Draw(t, "owner") {
		s.prios[rapid.IntRange(0, n-1).Draw(t, "owner_idx")] = 255
	}
	// Addresses spread over the whole space so the unsigned compare
	// [9568-6.4.3-a] matters (high bit set or not): all 32 bits of an
	// IPv4 address, all 64 of an IPv6 link-local's interface identifier
	// (a random or EUI-64 identifier's first byte is often >= 0x80, as in
	// fe80::909c:…, where a signed compare of the halves goes wrong).
	gen := rapid.Uint64()
	if s.fam == vrrp.IPv4 {
		gen = rapid.Uint64Range(0, 1<<32-1)
	}
	raw := rapid.SliceOfNDistinct(gen, n, n, rapid.ID).Draw(t, "addrs")
	for _, u := range raw {
		if s.fam == vrrp.IPv4 {
			s.addrs = append(s.addrs, netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}))
			continue
		}
		b := [16]byte{0xfe, 0x80}
		binary.BigEndian.PutUint64(b[8:], u)
		s.addrs = append(s.addrs, netip.AddrFrom16(b))
	}
	var base time.Duration
	if s.version == 2 {
		base = rapid.SampledFrom([]time.Duration{time.Second, 2 * time.Second, 3 * time.Second}).Draw(t, "interval")
	} else {
		base = rapid.SampledFrom([]time.Duration{10 * ms, 100 * ms, time.Second, 40950 * ms}).Draw(t, "interval")
	}
	for range n {
		iv := base
		if s.version == 3 && !sameIv && base < 40950*ms {
			iv *= time.Duration(rapid.IntRange(1, 2).Draw(t, "iv_mult"))
		}
		s.ivs = append(s.ivs, iv)
	}
	s.noReply = s.version == 3 && rapid.Bool().Draw(t, "no_reply")
	s.delay = rapid.SampledFrom([]time.Duration{0, 0, base / 100}).Draw(t, "delay")
	return s
}

func (s lanSpec) build(t *rapid.T, preempt bool) *LAN {
	l := New(rapid.Uint64().Draw(t, "seed"))
	for i := range s.prios {
		c := cfg(s.version, s.fam, s.addrs[i], s.prios[i], s.ivs[i])
		c.Preempt, c.NoReplyLower = preempt, s.noReply
		if _, err := l.Add(c); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	l.SetDelay(s.delay)
	return l
}

func (s lanSpec) maxIv() time.Duration { return slices.Max(s.ivs) }

// settle is long enough for any election among these routers to finish:
// the longest Master_Down_Interval any of them can compute, plus a link
// delay each way.
func (s lanSpec) settle(l *LAN) time.Duration {
	var q time.Duration
	for i := range l.Len() {
		q = max(q, fsm.MasterDownInterval(s.version, l.Node(i).Router.Status().Priority, s.maxIv()))
	}
	return q + 2*s.delay
}

// better reports whether router a beats router b: higher priority, then
// higher primary address as an unsigned integer [5798-6.4.3-j] [9568-6.4.3-a].
func better(l *LAN, a, b int) bool {
	pa, pb := l.Node(a).Router.Status().Priority, l.Node(b).Router.Status().Priority
	if pa != pb {
		return pa > pb
	}
	return l.Node(a).Config.Primary.Compare(l.Node(b).Config.Primary) > 0 // same family, no zones
}

func best(l *LAN, among []int) int {
	w := among[0]
	for _, i := range among[1:] {
		if better(l, i, w) {
			w = i
		}
	}
	return w
}

func (l *LAN) live() []int {
	var v []int
	for i := range l.Len() {
		if l.Live(i) {
			v = append(v, i)
		}
	}
	return v
}

func dump(l *LAN) string {
	s := ""
	for i := range l.Len() {
		st := l.Node(i).Router.Status()
		s += fmt.Sprintf("\n r%d %v prio %d addr %v iv %v crashed=%v link=%v", i, st.State, st.Priority, st.Primary,
			l.Node(i).Config.AdvertInterval, l.Node(i).Crashed, !l.Node(i).LinkDown)
	}
	for _, tr := range l.Transitions {
		s += "\n " + tr.String()
	}
	return s
}

// stable starts every router at 0, runs until the election is over and
// checks it: one Master, the best router.
func stable(t *rapid.T, s lanSpec, l *LAN) (master int, at time.Duration) {
	for i := range l.Len() {
		l.Start(i)
	}
	at = s.settle(l) + 4*s.maxIv()
	l.Run(at)
	m := l.Masters()
	if len(m) != 1 || !slices.Equal(l.live(), seq(l.Len())) {
		t.Fatalf("no stable election: masters %v%s", m, dump(l))
	}
	return m[0], at
}

func seq(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = i
	}
	return v
}

// Random faults, then quiet: one Master_Down_Interval (plus link delays)
// after the last fault there is exactly one Master among the routers that
// can run, and it has the highest priority. Priorities are distinct here:
// with equal priorities the address breaks the tie only between routers
// that are Master at once (a Backup never compares addresses, spec §6.2),
// which TestPropTieHighestAddress covers.
func TestPropElectionAfterFaults(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, true, false, true)
		l := s.build(t, true)
		n := l.Len()
		for i := range n {
			l.Start(i)
		}
		horizon := 10 * s.maxIv()
		// A running Master_Down_Timer keeps the interval it was armed with,
		// so the quiet period must cover the lowest priority any router
		// had: priority changes apply from the next arming.
		lowest := slices.Min(s.prios)
		for range rapid.IntRange(0, 12).Draw(t, "faults") {
			at := time.Duration(rapid.Int64Range(0, int64(horizon)).Draw(t, "at"))
			i := rapid.IntRange(0, n-1).Draw(t, "router")
			var f func()
			switch op := rapid.IntRange(0, 11).Draw(t, "op"); op {
			case 0:
				f = func() { l.Crash(i) }
			case 1:
				f = func() {
					if l.Node(i).Crashed {
						l.Restart(i)
					}
				}
			case 2:
				f = func() { l.Stop(i) }
			case 3:
				f = func() { l.Start(i) }
			case 4:
				f = func() { l.LinkDown(i) }
			case 5:
				f = func() { l.LinkUp(i) }
			case 6:
				mask := rapid.IntRange(1, 1<<n-2).Draw(t, "mask")
				var a []int
				for j := range n {
					if mask&(1<<j) != 0 {
						a = append(a, j)
					}
				}
				f = func() { l.Partition(a) }
			case 7:
				f = l.Heal
			case 8:
				p := rapid.SampledFrom([]float64{0, 0.2, 0.6}).Draw(t, "loss")
				f = func() { l.SetLoss(p) }
			case 9:
				p := rapid.Uint8Range(1, 254).Draw(t, "new_prio")
				lowest = min(lowest, p)
				f = func() {
					for j := range n {
						if l.Node(j).Router.Status().Priority == p {
							return // keep priorities distinct
						}
					}
					l.SetPriority(i, p)
				}
			case 10, 11:
				failed := op == 10
				f = func() { l.TrackFault(i, failed) }
			}
			l.At(at, f)
		}
		l.At(horizon, func() { l.SetLoss(0); l.Heal() })
		l.Run(horizon)
		quiet := fsm.MasterDownInterval(s.version, lowest, s.maxIv()) + 2*s.delay
		l.Run(horizon + quiet)
		live := l.live()
		m := l.Masters()
		if len(live) == 0 {
			if len(m) != 0 {
				t.Fatalf("masters %v with nobody live", m)
			}
			return
		}
		if want := best(l, live); !slices.Equal(m, []int{want}) {
			t.Fatalf("after %v quiet: masters %v, want [%d]%s", quiet, m, want, dump(l))
		}
		for _, i := range live {
			if inst := l.Node(i).Installed; inst != (i == m[0]) {
				t.Fatalf("r%d addresses installed=%v", i, inst)
			}
		}
	})
}

// Simultaneous start with ties: the Masters that arise together settle on
// the highest primary address [5798-6.4.3-j] [9568-6.4.3-a]; the result
// then stays put.
func TestPropTieHighestAddress(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, false, true, true)
		l := s.build(t, true)
		m, at := stable(t, s, l)
		if want := best(l, seq(l.Len())); m != want {
			t.Fatalf("master r%d, want r%d%s", m, want, dump(l))
		}
		n := len(l.Transitions)
		l.Run(at + 5*s.settle(l))
		if len(l.Transitions) != n {
			t.Fatalf("flapping after the election%s", dump(l))
		}
	})
}

// Master crash: the best remaining Backup sends its first advert exactly
// Master_Down_Interval (its priority, the learnt interval) after the old
// Master's last advert reached it [5798-6.4.2-g] [5798-6.1-e].
func TestPropCrashTakeover(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, false, false, true)
		l := s.build(t, true)
		old, at := stable(t, s, l)
		crash := at + time.Duration(rapid.Int64Range(0, int64(3*s.ivs[old])).Draw(t, "crash_at"))
		l.At(crash, func() { l.Crash(old) })
		l.Run(crash)
		from := len(l.Adverts)
		l.Run(crash + 2*s.settle(l))

		var last time.Duration
		for _, a := range l.Adverts[:from] {
			if a.Router == old {
				last = a.At
			}
		}
		rest := slices.DeleteFunc(seq(l.Len()), func(i int) bool { return i == old })
		nb := best(l, rest)
		want := last + s.delay + fsm.MasterDownInterval(s.version, s.prios[nb], s.ivs[old])
		if from == len(l.Adverts) {
			t.Fatalf("nobody took over%s", dump(l))
		}
		first := l.Adverts[from]
		if first.At != want || s.prios[first.Router] != s.prios[nb] {
			t.Fatalf("first advert %+v, want at %v from priority %d (last advert %v)%s", first, want, s.prios[nb], last, dump(l))
		}
		if m := l.Masters(); !slices.Equal(m, []int{nb}) {
			t.Fatalf("masters %v, want [%d]%s", m, nb, dump(l))
		}
	})
}

// Graceful stop: the best Backup sends its first advert exactly Skew_Time
// after the priority-0 advert reached it [5798-6.4.3-g] [5798-6.4.2-h].
func TestPropGracefulStopTakeover(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, false, false, true)
		l := s.build(t, true)
		old, at := stable(t, s, l)
		stop := at + time.Duration(rapid.Int64Range(0, int64(3*s.ivs[old])).Draw(t, "stop_at"))
		l.At(stop, func() { l.Stop(old) })
		l.Run(stop)
		zero := slices.Index(l.Adverts, Advert{stop, old, 0})
		if zero < 0 {
			t.Fatalf("no priority-0 advert at %v", stop)
		}
		l.Run(stop + 2*s.settle(l))
		rest := slices.DeleteFunc(seq(l.Len()), func(i int) bool { return i == old })
		nb := best(l, rest)
		want := stop + s.delay + fsm.SkewTime(s.version, s.prios[nb], s.ivs[old])
		if zero+1 >= len(l.Adverts) {
			t.Fatal("nobody took over")
		}
		first := l.Adverts[zero+1]
		if first.At != want || s.prios[first.Router] != s.prios[nb] || first.Priority == 0 {
			t.Fatalf("first advert %+v, want at %v from priority %d%s", first, want, s.prios[nb], dump(l))
		}
		if m := l.Masters(); !slices.Equal(m, []int{nb}) {
			t.Fatalf("masters %v, want [%d]%s", m, nb, dump(l))
		}
	})
}

// Preempt_Mode off: a running Master is never displaced by a higher
// priority newcomer [5798-6.4.2-i].
func TestPropNoPreemptKeepsMaster(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, true, true, false)
		l := s.build(t, false)
		newcomer := best(l, seq(l.Len()))
		others := slices.DeleteFunc(seq(l.Len()), func(i int) bool { return i == newcomer })
		for _, i := range others {
			l.Start(i)
		}
		at := s.settle(l) + 4*s.maxIv()
		l.Run(at)
		m := l.Masters()
		if len(m) != 1 || m[0] != best(l, others) {
			t.Fatalf("initial election: masters %v%s", m, dump(l))
		}
		join := at + time.Duration(rapid.Int64Range(0, int64(3*s.maxIv())).Draw(t, "join_at"))
		l.At(join, func() { l.Start(newcomer) })
		n := len(l.Transitions)
		l.Run(join + 5*s.settle(l))
		if got := l.Transitions[n:]; len(got) != 1 || got[0] != (Transition{join, newcomer, fsm.Initialize, fsm.Backup, fsm.ReasonStartup}) {
			t.Fatalf("transitions after the newcomer: %v%s", got, dump(l))
		}
		if !slices.Equal(l.Masters(), m) {
			t.Fatalf("master displaced%s", dump(l))
		}
	})
}

// Partition and heal: both sides elect a Master; within one advert interval
// of the winner (plus the link delay) after the heal, one Master remains.
func TestPropPartitionHeal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, false, false, true)
		l := s.build(t, true)
		g, at := stable(t, s, l)
		n := l.Len()
		var other []int
		for _, i := range rapid.Permutation(seq(n)).Draw(t, "perm")[:rapid.IntRange(1, n-1).Draw(t, "split")] {
			if i != g {
				other = append(other, i)
			}
		}
		if len(other) == 0 {
			other = []int{(g + 1) % n}
		}
		l.Partition(other)
		heal := at + s.settle(l) + 4*s.maxIv() + time.Duration(rapid.Int64Range(0, int64(s.maxIv())).Draw(t, "heal_jitter"))
		l.Run(heal)
		lm := best(l, other)
		if m := l.Masters(); !slices.Equal(m, sorted(g, lm)) {
			t.Fatalf("partitioned: masters %v, want r%d and r%d%s", m, g, lm, dump(l))
		}
		l.Heal()
		w := g
		if better(l, lm, g) {
			w = lm
		}
		l.Run(heal + s.ivs[w] + s.delay)
		if m := l.Masters(); !slices.Equal(m, []int{w}) {
			t.Fatalf("%v after heal: masters %v, want [%d]%s", s.ivs[w]+s.delay, m, w, dump(l))
		}
	})
}

func sorted(a, b int) []int {
	if a > b {
		a, b = b, a
	}
	return []int{a, b}
}
