package sim

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"

	"pgregory.net/rapid"
)

// tb is what both *testing.T and *rapid.T offer.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// reload is one Reconfigure of a router: from At on, its interval is Iv.
type reload struct {
	At time.Duration
	Iv time.Duration
}

// intervalAt is the interval in force at t, given the initial one and the
// reloads in time order.
func intervalAt(t, initial time.Duration, reloads []reload) time.Duration {
	iv := initial
	for _, r := range reloads {
		if t >= r.At {
			iv = r.Iv
		}
	}
	return iv
}

// checkGaps checks that the gap between two consecutive adverts of router m
// sent from time from on (after the election) is within [min, max] of the
// intervals in force when each was sent: no gap above max(old, new), no
// burst below min(old, new) [5798-6.4.3-h].
func checkGaps(t tb, l *LAN, m int, from, initial time.Duration, reloads []reload) {
	t.Helper()
	var last *Advert
	for i := range l.Adverts {
		a := &l.Adverts[i]
		if a.Router != m || a.At < from {
			continue
		}
		if last != nil {
			x, y := intervalAt(last.At, initial, reloads), intervalAt(a.At, initial, reloads)
			if gap := a.At - last.At; gap < min(x, y) || gap > max(x, y) {
				t.Fatalf("[5798-6.4.3-h] adverts at %v and %v: gap %v outside [%v, %v]", last.At, a.At, gap, min(x, y), max(x, y))
			}
		}
		last = a
	}
	if last == nil {
		t.Fatal("no adverts")
	}
}

func mustReconfigure(t tb, l *LAN, i int, f func(*fsm.Config)) {
	t.Helper()
	c := l.Node(i).Config
	c.Addresses = slices.Clone(c.Addresses)
	f(&c)
	if err := l.Reconfigure(i, c); err != nil {
		t.Fatalf("Reconfigure r%d: %v", i, err)
	}
}

// Reload of the Master's priority and interval, twice: no transition, the
// next advert carries the new priority, no gap above max(old, new) and no
// burst; v3 Backups learn the new interval from it [9568-6.4.2-a].
func TestReconfigureMasterTimeline(t *testing.T) {
	l := lan3(t) // r1 (200) Master from 3.21875 s, adverts every 1 s
	reloads := []reload{{10500 * ms, 2 * time.Second}, {20500 * ms, 300 * ms}}
	l.At(reloads[0].At, func() {
		mustReconfigure(t, l, 1, func(c *fsm.Config) { c.Priority, c.AdvertInterval = 220, 2*time.Second })
	})
	l.At(reloads[1].At, func() {
		mustReconfigure(t, l, 1, func(c *fsm.Config) { c.Priority, c.AdvertInterval = 180, 300*ms })
	})
	l.Run(40 * time.Second)
	if len(l.Transitions) != 4 {
		t.Fatalf("transitions after a reload: %v", l.Transitions[4:])
	}
	checkGaps(t, l, 1, 4*time.Second, time.Second, reloads)
	// 11.21875 s: the advert due before the first reload, with the new
	// priority; 20.8 s: the second reload pulls the advert due at
	// 21.21875 s in to now + 300 ms.
	for _, a := range []Advert{{11218750 * time.Microsecond, 1, 220}, {13218750 * time.Microsecond, 1, 220}, {20800 * ms, 1, 180}, {21100 * ms, 1, 180}} {
		if !slices.Contains(l.Adverts, a) {
			t.Fatalf("no advert %+v", a)
		}
	}
	for _, i := range []int{0, 2} {
		if got := l.Node(i).Router.Status().MasterAdverInterval; got != 300*ms {
			t.Fatalf("[9568-6.4.2-a] r%d Master_Adver_Interval %v", i, got)
		}
	}
	noDrops(t, l)
}

// VRRPv2 needs one interval on the LAN [3768-7.1-i]: a reload of every
// router at once keeps the Master; Backups re-arm with the new
// Master_Down_Interval [3768-6.1-b].
func TestReconfigureV2Timeline(t *testing.T) {
	l := New(1)
	for i, p := range []uint8{100, 200, 150} {
		l.MustAdd(cfg(2, vrrp.IPv4, ip4(i), p, time.Second))
		l.Start(i)
	}
	reloads := []reload{{10500 * ms, 3 * time.Second}, {30 * time.Second, time.Second}}
	for _, r := range reloads {
		l.At(r.At, func() {
			for i := range 3 {
				mustReconfigure(t, l, i, func(c *fsm.Config) { c.AdvertInterval = r.Iv })
			}
		})
	}
	l.Run(60 * time.Second)
	if len(l.Transitions) != 4 {
		t.Fatalf("transitions after a reload: %v", l.Transitions[4:])
	}
	checkGaps(t, l, 1, 4*time.Second, time.Second, reloads)
	noDrops(t, l)
}

// Property: whatever the instant of the reload, the new interval (v3: the
// Master alone; v2: every router at once) and new priorities that keep the
// Master the best, nobody changes state, and the Master's adverts are
// never further apart than max(old, new) nor closer than min(old, new).
func TestPropReconfigureNoTransition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawLAN(t, true, true, false)
		l := s.build(t, true)
		m, settled := stable(t, s, l)
		elected := len(l.Transitions)
		old := s.ivs[0]
		var iv time.Duration
		if s.version == 2 {
			iv = time.Duration(rapid.IntRange(1, 5).Draw(t, "new_s")) * time.Second
		} else {
			iv = time.Duration(rapid.IntRange(1, 4095).Draw(t, "new_cs")) * 10 * ms
		}
		at := settled + time.Duration(rapid.Int64Range(0, int64(old)).Draw(t, "offset"))
		var second uint8
		for i, p := range s.prios {
			if i != m {
				second = max(second, p)
			}
		}
		top := uint8(rapid.IntRange(int(second)+1, 254).Draw(t, "master_prio"))
		news := make([]uint8, len(s.prios))
		for i := range news {
			news[i] = top
			if i != m {
				news[i] = uint8(rapid.IntRange(1, int(top)-1).Draw(t, "backup_prio"))
			}
		}
		l.At(at, func() {
			for i := range l.Len() {
				mustReconfigure(t, l, i, func(c *fsm.Config) {
					c.Priority = news[i]
					if i == m || s.version == 2 {
						c.AdvertInterval = iv
					}
				})
			}
		})
		l.Run(at + 10*max(old, iv) + fsm.MasterDownInterval(s.version, 1, max(old, iv)))
		if len(l.Transitions) != elected {
			t.Fatalf("reload at %v to %v caused %v%s", at, iv, l.Transitions[elected:], dump(l))
		}
		checkGaps(t, l, m, settled, old, []reload{{at, iv}})
		for _, a := range l.Adverts {
			if a.Router == m && a.At > at && a.Priority != top {
				t.Fatalf("advert %+v after the reload, want priority %d", a, top)
			}
		}
	})
}

// A reload that changes the virtual addresses: the Master installs and
// announces the new one and withdraws the old one, with no transition; a
// Backup only stores them.
func TestReconfigureAddressesTimeline(t *testing.T) {
	l := lan3(t)
	vipB := netip.MustParseAddr("10.0.0.253")
	l.At(10500*ms, func() {
		for i := range 3 {
			mustReconfigure(t, l, i, func(c *fsm.Config) { c.Addresses = []netip.Addr{vipB} })
		}
	})
	l.Run(20 * time.Second)
	if len(l.Transitions) != 4 {
		t.Fatalf("transitions after a reload: %v", l.Transitions[4:])
	}
	if n := l.Node(1); !slices.Equal(n.Addrs, []netip.Addr{vipB}) || !n.Installed || n.Announces != 2 {
		t.Fatalf("master addresses %v installed %v announces %d", n.Addrs, n.Installed, n.Announces)
	}
	if n := l.Node(2); n.Installed || n.Addrs != nil {
		t.Fatalf("backup installed %v", n.Addrs)
	}
	checkGaps(t, l, 1, 4*time.Second, time.Second, nil)
	noDrops(t, l)
	// Fallback for what cannot be changed in place: the daemon restarts.
	c := l.Node(1).Config
	c.VRID = 8
	if err := l.Reconfigure(1, c); !errors.Is(err, fsm.ErrRestartNeeded) {
		t.Fatalf("VRID change: %v", err)
	}
	if l.Node(1).Config.VRID != 7 {
		t.Fatal("failed reload changed the node")
	}
}

// The link watcher changes the Master's primary address: no transition,
// adverts come from the new source and Backups follow it as MasterAddr.
func TestSetPrimaryTimeline(t *testing.T) {
	l := lan3(t)
	moved := netip.MustParseAddr("10.0.0.99")
	l.At(10500*ms, func() { l.SetPrimary(1, moved) })
	l.Run(20 * time.Second)
	if len(l.Transitions) != 4 {
		t.Fatalf("transitions after a primary change: %v", l.Transitions[4:])
	}
	if s := l.Node(1).Router.Status(); s.Primary != moved || s.MasterAddr != moved {
		t.Fatalf("master status %v %v", s.Primary, s.MasterAddr)
	}
	for _, i := range []int{0, 2} {
		if got := l.Node(i).Router.Status().MasterAddr; got != moved {
			t.Fatalf("r%d MasterAddr %v", i, got)
		}
	}
	checkGaps(t, l, 1, 4*time.Second, time.Second, nil)
	noDrops(t, l)
}
