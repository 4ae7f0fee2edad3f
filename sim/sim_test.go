package sim

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/vrrp"
)

const ms = time.Millisecond

var (
	vip4  = netip.MustParseAddr("10.0.0.254")
	vipLL = netip.MustParseAddr("fe80::fe")
	vip6  = netip.MustParseAddr("2001:db8::fe")
)

func cfg(version uint8, fam vrrp.Family, primary netip.Addr, prio uint8, iv time.Duration) fsm.Config {
	c := fsm.Config{VRID: 7, Version: version, Family: fam, Priority: prio, AdvertInterval: iv,
		Preempt: true, Addresses: []netip.Addr{vip4}, Primary: primary}
	if fam == vrrp.IPv6 {
		c.Addresses = []netip.Addr{vipLL, vip6}
	}
	return c
}

func ip4(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}) }

// lan3 starts three v3 routers, priorities 100, 200, 150, at t=0.
func lan3(t *testing.T) *LAN {
	l := New(1)
	for i, p := range []uint8{100, 200, 150} {
		l.MustAdd(cfg(3, vrrp.IPv4, ip4(i), p, time.Second))
	}
	for i := range 3 {
		l.Start(i)
	}
	return l
}

func wantTimeline(t *testing.T, got, want []Transition) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("timeline\n got %v\nwant %v", got, want)
	}
}

func noDrops(t *testing.T, l *LAN) {
	t.Helper()
	for i := range l.Len() {
		if len(l.Node(i).Drops) > 0 {
			t.Fatalf("router %d dropped adverts: %v", i, l.Node(i).Drops)
		}
	}
}

// The best priority wins at exactly its Master_Down_Interval after startup
// [5798-6.4.1-b] [5798-6.4.2-g]; the others accept its adverts [5798-6.4.2-i].
func TestElectionTimeline(t *testing.T) {
	l := lan3(t)
	l.Run(30 * time.Second)
	up := fsm.MasterDownInterval(3, 200, time.Second) // 3.21875 s
	wantTimeline(t, l.Transitions, []Transition{
		{0, 0, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{0, 1, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{0, 2, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{up, 1, fsm.Backup, fsm.Master, fsm.ReasonMasterNoResponse},
	})
	if up != 3218750*time.Microsecond {
		t.Fatalf("up %v", up)
	}
	if !l.Node(1).Installed || l.Node(0).Installed || l.Node(1).Announces != 1 {
		t.Fatal("addresses / announces")
	}
	// One advert per second from the master, none from the backups.
	for i, a := range l.Adverts {
		if a.Router != 1 || a.At != up+time.Duration(i)*time.Second || a.Priority != 200 {
			t.Fatalf("advert %d: %+v", i, a)
		}
	}
	noDrops(t, l)
}

// Crash: the next best takes over exactly Master_Down_Interval after the
// last advert it heard.
func TestCrashTimeline(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.Crash(1) })
	l.Run(30 * time.Second)
	last := 3218750*time.Microsecond + 6*time.Second // 9.21875 s
	want := last + fsm.MasterDownInterval(3, 150, time.Second)
	got := l.Transitions[len(l.Transitions)-1]
	if got != (Transition{want, 2, fsm.Backup, fsm.Master, fsm.ReasonMasterNoResponse}) || len(l.Transitions) != 5 {
		t.Fatalf("got %v, want r2 Master at %v", l.Transitions, want)
	}
	if s := l.Node(2).Router.Status().Counters.NewMasterReason; s != fsm.MasterNoResponse {
		t.Fatal(s)
	}
}

// Graceful stop: priority 0 [5798-6.4.3-g], the best Backup takes over after
// its Skew_Time [5798-6.4.2-h].
func TestGracefulStopTimeline(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.Stop(1) })
	l.Run(30 * time.Second)
	wantTimeline(t, l.Transitions[4:], []Transition{
		{10 * time.Second, 1, fsm.Master, fsm.Initialize, fsm.ReasonShutdown},
		{10*time.Second + 414062500, 2, fsm.Backup, fsm.Master, fsm.ReasonPriorityZero},
	})
	if !slices.Contains(l.Adverts, Advert{10 * time.Second, 1, 0}) {
		t.Fatal("no priority-0 advert")
	}
}

// A higher-priority router that restarts preempts after its own
// Master_Down_Interval, discarding the lower master's adverts [5798-6.4.2-j];
// the lower master yields on its first advert [5798-6.4.3-j].
func TestPreemptOnRestart(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.Crash(1) })
	l.At(20*time.Second, func() { l.Restart(1) })
	l.Run(40 * time.Second)
	at := 20*time.Second + fsm.MasterDownInterval(3, 200, time.Second)
	wantTimeline(t, l.Transitions[5:], []Transition{
		{20 * time.Second, 1, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{at, 1, fsm.Backup, fsm.Master, fsm.ReasonPreempted},
		{at, 2, fsm.Master, fsm.Backup, fsm.ReasonHigherPriority},
	})
}

// Preempt delay holds the restarted router back until the delay is over,
// counted from the first advert of the lower-priority Master it hears (as
// keepalived counts it), then [5798-6.4.2-j] applies.
func TestPreemptDelayTimeline(t *testing.T) {
	l := New(1)
	l.MustAdd(cfg(3, vrrp.IPv4, ip4(0), 100, time.Second))
	c := cfg(3, vrrp.IPv4, ip4(1), 200, time.Second)
	c.PreemptDelay = 9500 * time.Millisecond
	l.MustAdd(c)
	l.Start(0)
	l.At(5*time.Second, func() { l.Start(1) })
	l.Run(40 * time.Second)
	// r0 is Master from 3.609375 s, advertising at 3.609375 + k s. r1 hears
	// the first at 5.609375 s and holds until 15.109375 s (not 14.5 s: the
	// delay does not count from its start), discards the advert at
	// 15.609375 s, and preempts
	// Master_Down_Interval after the last one it accepted (14.609375 s).
	at := 14609375*time.Microsecond + fsm.MasterDownInterval(3, 200, time.Second)
	wantTimeline(t, l.Transitions, []Transition{
		{0, 0, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{3609375 * time.Microsecond, 0, fsm.Backup, fsm.Master, fsm.ReasonMasterNoResponse},
		{5 * time.Second, 1, fsm.Initialize, fsm.Backup, fsm.ReasonStartup},
		{at, 1, fsm.Backup, fsm.Master, fsm.ReasonPreempted},
		{at, 0, fsm.Master, fsm.Backup, fsm.ReasonHigherPriority},
	})
}

// The owner goes straight to Master and a running non-owner yields at once
// [5798-6.4.1-a] [5798-6.1-f].
func TestOwnerPreemptsImmediately(t *testing.T) {
	l := New(1)
	l.MustAdd(cfg(3, vrrp.IPv6, netip.MustParseAddr("fe80::1"), 100, 100*ms))
	l.MustAdd(cfg(3, vrrp.IPv6, netip.MustParseAddr("fe80::2"), 255, 100*ms))
	l.Start(0)
	l.At(2*time.Second, func() { l.Start(1) })
	l.Run(5 * time.Second)
	wantTimeline(t, l.Transitions[2:], []Transition{
		{2 * time.Second, 1, fsm.Initialize, fsm.Master, fsm.ReasonStartup},
		{2 * time.Second, 0, fsm.Master, fsm.Backup, fsm.ReasonHigherPriority},
	})
	noDrops(t, l)
}

// Link down on the Master: Backups take over in Master_Down_Interval; when
// the link comes back, the router passes Initialize and preempts again.
func TestLinkDownTimeline(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.LinkDown(1) })
	l.At(20*time.Second, func() { l.LinkUp(1) })
	l.Run(40 * time.Second)
	lastAdv := 9218750 * time.Microsecond
	back := 20*time.Second + fsm.MasterDownInterval(3, 200, time.Second)
	wantTimeline(t, l.Transitions[4:], []Transition{
		{10 * time.Second, 1, fsm.Master, fsm.Fault, fsm.ReasonLinkDown},
		{lastAdv + fsm.MasterDownInterval(3, 150, time.Second), 2, fsm.Backup, fsm.Master, fsm.ReasonMasterNoResponse},
		{20 * time.Second, 1, fsm.Fault, fsm.Initialize, fsm.ReasonFaultCleared},
		{20 * time.Second, 1, fsm.Initialize, fsm.Backup, fsm.ReasonFaultCleared},
		{back, 1, fsm.Backup, fsm.Master, fsm.ReasonPreempted},
		{back, 2, fsm.Master, fsm.Backup, fsm.ReasonHigherPriority},
	})
}

// VRRPv2 on the LAN: interval mismatches are dropped by Validate
// [3768-7.1-i], so a misconfigured router cannot hear the others and both
// end up Master.
func TestV2IntervalMismatchSplitBrain(t *testing.T) {
	l := New(1)
	l.MustAdd(cfg(2, vrrp.IPv4, ip4(0), 100, time.Second))
	l.MustAdd(cfg(2, vrrp.IPv4, ip4(1), 200, 2*time.Second))
	l.Start(0)
	l.Start(1)
	l.Run(20 * time.Second)
	if m := l.Masters(); len(m) != 2 {
		t.Fatalf("masters %v", m)
	}
	if l.Node(0).Drops["interval_mismatch"] == 0 {
		t.Fatalf("drops %v", l.Node(0).Drops)
	}
}

// Tracking lowers the Master's priority; the next advert carries it and the
// Backup preempts.
func TestPriorityChangeTimeline(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.SetPriority(1, 120) })
	l.Run(30 * time.Second)
	// 10.21875 s: first advert at 120; r2 (150) discards it and fires
	// Master_Down_Interval after 9.21875 s.
	at := 9218750*time.Microsecond + fsm.MasterDownInterval(3, 150, time.Second)
	wantTimeline(t, l.Transitions[4:], []Transition{
		{at, 2, fsm.Backup, fsm.Master, fsm.ReasonPreempted},
		{at, 1, fsm.Master, fsm.Backup, fsm.ReasonHigherPriority},
	})
	if !slices.Contains(l.Adverts, Advert{10218750 * time.Microsecond, 1, 120}) {
		t.Fatal("new priority not on the wire at the next advert")
	}
}

// Same seed, same calls: same timeline, even with loss.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		l := New(seed)
		for i := range 5 {
			l.MustAdd(cfg(3, vrrp.IPv4, ip4(i), uint8(50+i*10), 10*ms))
			l.Start(i)
		}
		l.SetLoss(0.4)
		l.SetDelay(ms)
		l.Run(5 * time.Second)
		return fmt.Sprint(l.Transitions, len(l.Adverts))
	}
	a, b := run(7), run(7)
	if a != b {
		t.Fatal("same seed, different timelines")
	}
	if a == run(8) {
		t.Fatal("seed has no effect (is loss applied?)")
	}
}

// Partitions: each side elects a Master; on heal the better one remains.
func TestPartitionHeal(t *testing.T) {
	l := lan3(t)
	l.At(10*time.Second, func() { l.Partition([]int{0, 2}, []int{1}) })
	l.At(20*time.Second, func() { l.Heal() })
	l.Run(19 * time.Second)
	if m := l.Masters(); !slices.Equal(m, []int{1, 2}) {
		t.Fatalf("partitioned masters %v", m)
	}
	l.Run(21 * time.Second)
	if m := l.Masters(); !slices.Equal(m, []int{1}) {
		t.Fatalf("healed masters %v", m)
	}
}
