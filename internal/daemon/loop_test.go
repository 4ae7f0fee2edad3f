package daemon

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/internal/config"
	"govrrp/internal/linux"
	"govrrp/vrrp"
)

// stepLab drives one loop by hand: the test delivers datagrams, sets the
// clock and calls step, so every interleaving is reproducible.
type stepLab struct {
	t       *testing.T
	clk     *fakeClock
	sock    *fakeSocket
	l       *loop
	effects []effect
	order   []string // flushes of adverts and effects, as they happened
}

func newStepLab(t *testing.T) *stepLab {
	lab := &stepLab{t: t, clk: &fakeClock{}, sock: newFakeSocket(self4)}
	lab.l = newLoop(ifaceKey{"eth0", vrrp.IPv4}, lab.sock, newFakePoller(lab.sock), lab.clk, func(effs []effect) int {
		for _, e := range effs {
			lab.order = append(lab.order, fmt.Sprintf("effect %d %s", e.kind, e.ev.To))
		}
		lab.effects = append(lab.effects, effs...)
		return 0
	})
	batches := 0
	lab.sock.onFlush = func() {
		if lab.sock.batches != batches {
			batches = lab.sock.batches
			lab.order = append(lab.order, "adverts")
		}
	}
	return lab
}

// add puts a router of c on the loop, as Daemon.startRouter does; prep
// may set what open would have (a VMAC).
func (lab *stepLab) add(c config.Router, prep ...func(*vr)) *vr {
	r := &vr{cfg: &c, name: c.Name, base: quiet, since: time.Now(), linkUp: true}
	for _, f := range prep {
		f(r)
	}
	var err error
	if r.fsm, err = fsm.New(fsmConfig(&c, self4), lab.clk); err != nil {
		lab.t.Fatal(err)
	}
	r.send = lab.sock
	r.setMessage(&c)
	r.vrrpCfg = &vrrp.Config{Version: c.Version, Priority: c.Priority, Interval: c.AdvertInterval, Addresses: c.VIPs(),
		Checksum: c.Checksum, Local: self4}
	lab.l.add(r, lab.clk.Now())
	return r
}

// at moves the clock to t and runs one step.
func (lab *stepLab) at(t time.Duration) {
	lab.clk.set(t)
	lab.l.step()
}

// run sleeps as the real loop does (to the next wake-up, never past end)
// and steps, until end.
func (lab *stepLab) run(end time.Duration, each func(now time.Duration)) {
	for {
		now := lab.clk.Now()
		d := lab.l.timeout(now)
		if d < 0 || now+d > end {
			lab.at(end)
			return
		}
		lab.at(now + d)
		if each != nil {
			each(now + d)
		}
	}
}

func (lab *stepLab) transitions() []string {
	var out []string
	for _, e := range lab.effects {
		if e.kind == effTransition {
			out = append(out, e.r.cfg.Name+":"+e.ev.From+"->"+e.ev.To+"("+e.ev.Reason+")")
		}
	}
	return out
}

// The example: the old Master resigns (priority 0) and the new one's
// first advert follows on the wire. Handled in that order, the Backup
// follows the new Master; the other way round it would take over after
// Skew_Time. Both adverts in one batch, in two, and read late.
func TestLoopPriorityZeroThenNewMaster(t *testing.T) {
	for _, tc := range []struct {
		name  string
		split bool
		late  time.Duration
	}{
		{"one batch", false, 0},
		{"two batches", true, 0},
		{"one batch read late", false, 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lab := newStepLab(t)
			const iv = 100 * time.Millisecond
			r := lab.add(routerCfg("b", 1, 100, iv))
			lab.at(time.Millisecond)
			vip := vipOf(1)
			lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vip), peerA4, 10*time.Millisecond))
			lab.at(10 * time.Millisecond)
			p0 := pkt(advert(1, 0, peerA4, iv, vip), peerA4, 50*time.Millisecond)
			first := pkt(advert(1, 150, peerB4, iv, vip), peerB4, 50*time.Millisecond+100*time.Microsecond)
			if tc.split {
				lab.sock.deliver(p0)
				lab.at(50*time.Millisecond + 50*time.Microsecond)
				lab.sock.deliver(first)
			} else {
				lab.sock.deliver(p0, first)
			}
			lab.at(50*time.Millisecond + 100*time.Microsecond + tc.late)
			// Past Skew_Time (61 ms), before Master_Down_Interval.
			lab.run(300*time.Millisecond, nil)
			st := r.fsm.Status()
			if st.State != fsm.Backup || st.MasterAddr != peerB4 || len(lab.transitions()) != 1 {
				t.Fatalf("state %v following %v, transitions %v: want Backup following %v [5798-6.4.2-i]", st.State, st.MasterAddr, lab.transitions(), peerB4)
			}
			if at, _, _ := r.fsm.Deadline(fsm.MasterDownTimer); at != 50*time.Millisecond+100*time.Microsecond+st.MasterDownInterval {
				t.Fatalf("Master_Down_Timer at %v, want from the new Master's advert", at)
			}
		})
	}
}

// An advert that arrived before Master_Down_Timer expired, but was read
// after, resets the timer from its arrival [5798-6.4.2-i]: no takeover.
func TestLoopLateReadKeepsBackup(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	r := lab.add(routerCfg("b", 1, 100, iv))
	down := fsm.MasterDownInterval(3, 100, iv)
	arrived := down - time.Millisecond
	lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, arrived))
	lab.at(down + 20*time.Millisecond) // the loop woke 21 ms after the advert came
	if st := r.fsm.Status(); st.State != fsm.Backup {
		t.Fatalf("took over on an advert read late: %v", lab.transitions())
	}
	if at, _, _ := r.fsm.Deadline(fsm.MasterDownTimer); at != arrived+down {
		t.Fatalf("Master_Down_Timer at %v, want %v (from the arrival)", at, arrived+down)
	}
}

// A backlog longer than one step reads: the Master's advert at its end
// arrived before Master_Down_Timer expired, so the deadline that passed
// while the loop worked through the backlog must not fire before it.
func TestLoopBacklogBeforeDeadline(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	r := lab.add(routerCfg("b", 1, 100, iv))
	down := fsm.MasterDownInterval(3, 100, iv)
	var burst []fakePkt
	for i := range maxBatches*batchSize + 50 {
		at := down - time.Millisecond + time.Duration(i)*time.Nanosecond
		burst = append(burst, pkt(advert(7, 50, peerC4, iv, vipOf(7)), peerC4, at))
	}
	burst = append(burst, pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, down-time.Microsecond))
	lab.sock.deliver(burst...)
	lab.at(down + time.Millisecond)
	lab.at(down + time.Millisecond)
	if st := r.fsm.Status(); st.State != fsm.Backup || len(lab.transitions()) != 1 {
		t.Fatalf("took over before reading the Master's advert at the end of the backlog: %v", lab.transitions())
	}
}

// Master_Down_Timer never fires early, and the new Master's first advert
// leaves before its addresses, announcements or log line [5798-6.4.2-g].
func TestLoopTakeoverExact(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	r := lab.add(routerCfg("b", 1, 100, iv))
	lab.order = nil
	deadline, _, _ := r.fsm.Deadline(fsm.MasterDownTimer)
	var at time.Duration
	lab.run(time.Second, func(now time.Duration) {
		if at == 0 && r.fsm.State() == fsm.Master {
			at = now
		}
	})
	if at != deadline {
		t.Fatalf("took over at %v, Master_Down_Timer was due at %v", at, deadline)
	}
	want := []string{"adverts", fmt.Sprintf("effect %d ", effAddAddresses), fmt.Sprintf("effect %d ", effAnnounce), fmt.Sprintf("effect %d Master", effTransition)}
	if len(lab.order) < len(want) || !slices.Equal(lab.order[:len(want)], want) {
		t.Fatalf("order of the takeover %v, want %v first", lab.order, want)
	}
}

// A VMAC router's macvlan takes what is addressed to the VMAC only while
// the router is Master [5798-6.4.2-d][IMPL-12]: its gate opens after the
// new Master's first advert and before its addresses and announcement, so
// no host is sent to the VMAC before it works [9568-8.1.2-a], and closes
// when a higher priority takes over.
func TestLoopVMACGate(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	c := routerCfg("v", 1, 100, iv)
	c.VMAC = true
	r := lab.add(c, func(r *vr) { r.vmac = &linux.VMAC{Name: "vrrp4-2-1"} })
	for _, e := range lab.effects {
		if e.kind == effVMACGate {
			t.Fatalf("a starting Backup touched its gate (it starts closed): %v", lab.order)
		}
	}
	lab.effects, lab.order = nil, nil
	lab.run(time.Second, nil)
	if r.fsm.State() != fsm.Master {
		t.Fatal("no takeover")
	}
	gate := fmt.Sprintf("effect %d ", effVMACGate)
	want := []string{"adverts", gate, fmt.Sprintf("effect %d ", effAddAddresses), fmt.Sprintf("effect %d ", effAnnounce), fmt.Sprintf("effect %d Master", effTransition)}
	if len(lab.order) < len(want) || !slices.Equal(lab.order[:len(want)], want) {
		t.Fatalf("order of the takeover %v, want %v first", lab.order, want)
	}
	if e := lab.effects[0]; !e.master || e.dev != "vrrp4-2-1" {
		t.Fatalf("takeover gate effect %+v, want it opened on the VMAC", e)
	}
	lab.effects, lab.order = nil, nil
	now := lab.clk.Now()
	lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, now+time.Millisecond))
	lab.at(now + time.Millisecond)
	if r.fsm.State() != fsm.Backup {
		t.Fatalf("state %v after a higher priority", r.fsm.State())
	}
	var closed []effect
	for _, e := range lab.effects {
		if e.kind == effVMACGate {
			closed = append(closed, e)
		}
	}
	if len(closed) != 1 || closed[0].master {
		t.Fatalf("gate effects on stepping down %+v, want one closing it", closed)
	}
}

// Masters on one loop end up sending together: each Adver_Timer fires at
// most 1% early and never late, the phases move onto the loop's grid within
// 100 adverts, and from then on one wake-up and one sendmmsg per interval
// carry every Master's advert, at exactly the configured rate.
func TestLoopAlignsAdverts(t *testing.T) {
	lab := newStepLab(t)
	const iv = 100 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	var rs []*vr
	for i := range 50 {
		lab.clk.set(time.Duration(rng.Int64N(int64(iv)))) // random phases
		rs = append(rs, lab.add(routerCfg(fmt.Sprint(i), uint8(i+1), 255, iv)))
	}
	dues := make([]time.Duration, len(rs))
	sent := make([]uint64, len(rs))
	check := func(now time.Duration) {
		for i, r := range rs {
			n := r.fsm.Status().Counters.SentAdvertisements
			if n != sent[i] {
				if now > dues[i] || dues[i]-now > iv/100 {
					t.Fatalf("router %s: Adver_Timer due at %v fired at %v", r.cfg.Name, dues[i], now)
				}
				sent[i] = n
			}
			dues[i], _, _ = r.fsm.Deadline(fsm.AdverTimer)
		}
	}
	for i, r := range rs {
		if r.fsm.State() != fsm.Master {
			t.Fatalf("router %s %v", r.cfg.Name, r.fsm.State())
		}
		dues[i], _, _ = r.fsm.Deadline(fsm.AdverTimer)
		sent[i] = r.fsm.Status().Counters.SentAdvertisements
	}
	lab.run(12*time.Second, check) // 120 intervals: aligned after at most 100
	batches, before := lab.sock.batches, slices.Clone(sent)
	lab.run(22*time.Second, check)
	if n := lab.sock.batches - batches; n != 100 {
		t.Fatalf("%d sendmmsg batches in 100 intervals of 50 aligned Masters, want 100", n)
	}
	for i := range rs {
		if n := sent[i] - before[i]; n != 100 {
			t.Fatalf("router %d sent %d adverts in 100 intervals once aligned", i, n)
		}
	}
}

// Wire order, whatever the batching: a loop that reads every datagram the
// moment it arrives and one that reads them in batches, late, across many
// ReadBatch calls and steps, hand the state machines the same events in
// the same order, so they send the same adverts and make the same
// transitions. Random traffic: priorities 0..255 from three peers for two
// VRIDs, junk, and bursts longer than one step reads.
func TestLoopWireOrderEveryInterleaving(t *testing.T) {
	const iv = 100 * time.Millisecond
	peers := []netip.Addr{peerA4, peerB4, peerC4}
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var evs []fakePkt
		now := 5 * time.Millisecond
		n := 40 + rng.IntN(80)
		for i := range n {
			gap := time.Duration(rng.IntN(150_000)) * time.Microsecond
			if i%37 == 5 {
				// A burst longer than one step reads (maxBatches ×
				// batchSize), arriving over 2 ms.
				for j := range maxBatches*batchSize + 100 {
					at := now + time.Duration(j)*2*time.Microsecond
					evs = append(evs, pkt(advert(9, 50, peerC4, iv, vipOf(9)), peerC4, at))
				}
				now += 2 * time.Millisecond
			}
			now += gap
			vrid := uint8(1 + rng.IntN(2))
			src := peers[rng.IntN(len(peers))]
			prio := []uint8{0, 50, 100, 150, 200, 255}[rng.IntN(6)]
			p := pkt(advert(vrid, prio, src, iv, vipOf(vrid)), src, now)
			if rng.IntN(10) == 0 {
				p.payload = append([]byte(nil), p.payload...)
				p.payload[7] ^= 0xff // bad checksum
			}
			evs = append(evs, p)
		}
		end := now + time.Second

		runLab := func(batched bool) ([]sent, []string, []fsm.Status) {
			lab := newStepLab(t)
			rs := []*vr{lab.add(routerCfg("a", 1, 100, iv)), lab.add(routerCfg("b", 2, 150, iv))}
			brng := rand.New(rand.NewPCG(seed, 11))
			for i := 0; i < len(evs); {
				j := i + 1
				if batched {
					j = i + 1 + brng.IntN(min(300, len(evs)-i))
				}
				// Sleep as the loop would until the first arrives.
				lab.run(evs[i].arrival.Sub(epoch), nil)
				lab.sock.deliver(evs[i:j]...)
				read := evs[j-1].arrival.Sub(epoch)
				if batched && j < len(evs) {
					// Read late, but before the next datagram arrives
					// (else it would be in the socket too).
					next := evs[j].arrival.Sub(epoch)
					read += time.Duration(brng.Int64N(int64(next-read) + 1))
				}
				lab.at(read)
				i = j
			}
			lab.run(end, nil)
			var sts []fsm.Status
			for _, r := range rs {
				sts = append(sts, r.fsm.Status())
			}
			out := lab.sock.written()
			for i := range out {
				out[i].Batch = 0
			}
			return out, lab.transitions(), sts
		}
		wantSent, wantTr, wantSt := runLab(false)
		gotSent, gotTr, gotSt := runLab(true)
		if !slices.Equal(gotTr, wantTr) {
			t.Fatalf("seed %d: transitions\n batched %v\n at once %v", seed, gotTr, wantTr)
		}
		if !slices.Equal(gotSent, wantSent) {
			t.Fatalf("seed %d: %d adverts sent batched, %d at once, or in another order", seed, len(gotSent), len(wantSent))
		}
		for i := range gotSt {
			g, w := gotSt[i], wantSt[i]
			if g.State != w.State || g.MasterAddr != w.MasterAddr || g.Counters != w.Counters {
				t.Fatalf("seed %d router %d: batched %+v\n at once %+v", seed, i, g, w)
			}
		}
	}
}

// A steady Backup's advert and a Master's advert cost no allocation on the
// loop: read, checked, handled, timer reset, queued and flushed.
func TestLoopHotPathAllocs(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	lab.add(routerCfg("b", 1, 100, iv))
	m := lab.add(routerCfg("m", 2, 255, iv)) // the owner: Master at once
	lab.sock.onFlush = nil
	if m.fsm.State() != fsm.Master {
		t.Fatal("owner not Master")
	}
	p := pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, 0)
	now := time.Millisecond
	lab.at(now)
	allocs := testing.AllocsPerRun(2000, func() {
		now += iv / 2 // one received advert and, every other time, one sent
		p.arrival = stamp(now)
		lab.sock.deliver(p)
		lab.sock.mu.Lock()
		lab.sock.out = lab.sock.out[:0] // the fake's record, not the loop's cost
		lab.sock.mu.Unlock()
		lab.at(now)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per steady-state step", allocs)
	}
}

// Adverts that fail a receive check or pass with a warning cost no
// allocation either: each is counted in its check's slot, the router's or
// the interface's, and its sentinel logged (once a period) by its Check.
func TestLoopBadAdvertAllocs(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	b := lab.add(routerCfg("b", 1, 100, iv))
	good := pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, 0)
	warned := pkt(advert(1, 200, peerA4, iv, vipOf(1), vipOf(9)), peerA4, 0) // [5798-7.1-h] reported, kept
	ttl := pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, 0)              // [5798-7.1-a]
	ttl.ip.TTL = 64
	unknown := pkt(advert(7, 200, peerA4, iv, vipOf(7)), peerA4, 0) // [5798-7.1-e]
	now := time.Millisecond
	lab.at(now)
	step := func() {
		now += iv / 2
		for _, p := range []*fakePkt{&good, &warned, &ttl, &unknown} {
			p.arrival = stamp(now)
		}
		lab.sock.deliver(good, warned, ttl, unknown)
		lab.at(now)
		lab.effects, lab.order = lab.effects[:0], lab.order[:0] // the fake's record, not the loop's cost
	}
	step() // the first of each: its counters and log line
	if allocs := testing.AllocsPerRun(500, step); allocs != 0 {
		t.Fatalf("%v allocations per step of bad adverts", allocs)
	}
	bad, st := b.bad, lab.l.status()
	if bad == nil || bad.discards[vrrp.CheckTTL] != 502 || bad.warnings[vrrp.CheckAddressList] != 502 ||
		st.Discards[vrrp.CheckVRID.String()] != 502 || b.fsm.State() != fsm.Backup {
		t.Fatalf("router %+v, interface %v, state %v: want 502 of each counted by its check", bad, st.Discards, b.fsm.State())
	}
}

// The Master a router reports, its priority and the count of changes are
// the state machine's (fsm.Status), not sampled when adverts arrive: taking
// over on Master_Down_Timer is a change at once [5798-6.4.2-g], with no
// advert heard after it.
func TestLoopReportsMasterFromFSM(t *testing.T) {
	lab := newStepLab(t)
	const iv = 10 * time.Millisecond
	b := lab.add(routerCfg("b", 1, 100, iv))
	lab.sock.deliver(pkt(advert(1, 200, peerA4, iv, vipOf(1)), peerA4, time.Millisecond))
	lab.at(time.Millisecond)
	lab.sock.deliver(pkt(advert(1, 50, peerA4, iv, vipOf(1)), peerA4, 2*time.Millisecond)) // discarded [5798-6.4.2-j]
	lab.at(2 * time.Millisecond)
	if d := b.detail(); d.Master != peerA4.String() || d.MasterPriority != 50 || d.Counters["master_changes"] != 0 {
		t.Fatalf("following %q at %d after %d changes, want %v at 50 (what it advertises now), none", d.Master, d.MasterPriority, d.Counters["master_changes"], peerA4)
	}
	lab.run(time.Second, nil)
	d := b.detail()
	if d.State != "Master" || d.Master != self4.String() || d.MasterPriority != 100 || d.Counters["master_changes"] != 1 || d.NewMasterReason != "preempted" {
		t.Fatalf("%s: master %q at %d after %d changes (%s), want us at 100 after 1, preempted", d.State, d.Master, d.MasterPriority, d.Counters["master_changes"], d.NewMasterReason)
	}
}

// After a wake-up that read a datagram, the loop waits quietly (the
// socket ignored) for the rest of the burst before reading again, and
// handles every advert at its arrival time all the same.
func TestLoopCoalescesBursts(t *testing.T) {
	clk := &fakeClock{real: time.Now()}
	sock := newFakeSocket(self4)
	fp := newFakePoller(sock)
	l := newLoop(ifaceKey{"eth0", vrrp.IPv4}, sock, fp, clk, func([]effect) int { return 0 })
	c := routerCfg("b", 1, 100, time.Second)
	r := &vr{cfg: &c, name: c.Name, base: quiet, since: time.Now(), linkUp: true}
	r.fsm, _ = fsm.New(fsmConfig(&c, self4), clk)
	r.send = sock
	r.setMessage(&c)
	r.vrrpCfg = &vrrp.Config{Version: 3, Priority: 100, Interval: time.Second, Addresses: c.VIPs(), Checksum: c.Checksum, Local: self4}
	go l.run()
	defer l.stop()
	l.do(func() { l.add(r, clk.Now()) })
	received := func() uint64 {
		var n uint64
		l.do(func() { n = r.fsm.Status().Counters.RcvdAdvertisements })
		return n
	}
	for i := range 3 {
		sock.deliver(pkt(advert(1, 200, peerA4, time.Second, vipOf(1)), peerA4, clk.Now()))
		waitUntil(t, 5*time.Second, "the advert to be handled", func() bool { return received() == uint64(i+1) })
	}
	// The quiet wait follows the step that handled the datagram, so the
	// last one may come just after the advert was counted.
	quiet := func() (q int) {
		l.do(func() { q = fp.quiet })
		return q
	}
	waitUntil(t, 5*time.Second, "one quiet wait after each of 3 wake-ups for a datagram", func() bool { return quiet() >= 3 })
}

// Workers far behind drop log lines and events past maxQueued, never
// address or announcement work, and the loop counts what was dropped for
// the interface's status.
func TestLoopCountsDroppedEffects(t *testing.T) {
	release := make(chan struct{})
	applied := make(chan struct{})
	var once sync.Once
	w := newWorkers(1, func(e effect) {
		once.Do(func() { close(applied) })
		<-release
	}, nil)
	defer w.close()
	defer close(release)
	clk := &fakeClock{}
	sock := newFakeSocket(self4)
	l := newLoop(ifaceKey{"eth0", vrrp.IPv4}, sock, newFakePoller(sock), clk, w.submit)
	l.emit(effect{kind: effLog})
	l.flush()
	<-applied // the worker is now stuck on it, until release
	for range maxQueued + 10 {
		l.emit(effect{kind: effLog})
	}
	l.emit(effect{kind: effAddAddresses})
	l.flush()
	if st := l.status(); st.Counters["effects_dropped"] != 10 {
		t.Fatalf("effects_dropped = %d, want 10", st.Counters["effects_dropped"])
	}
	w.qs[0].mu.Lock()
	n, last := len(w.qs[0].jobs), w.qs[0].jobs[len(w.qs[0].jobs)-1].kind
	w.qs[0].mu.Unlock()
	if n != maxQueued+1 || last != effAddAddresses {
		t.Fatalf("queue holds %d jobs ending with %d, want %d ending with the address work", n, last, maxQueued+1)
	}
}
