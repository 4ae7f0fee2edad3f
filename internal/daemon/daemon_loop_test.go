package daemon

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/internal/linux"
)

// The whole daemon on fake sockets, under -race: loops on their own
// goroutines, control messages from others, real time.

// waitUntil polls cond on the daemon's own goroutines' progress (no sleep:
// it yields to them), failing after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func countStates(d *Daemon) map[string]int {
	out := map[string]int{}
	for _, r := range d.Routers() {
		out[r.State]++
	}
	return out
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// 1000 routers on four interfaces start, elect and stop, and leave no
// goroutine, fd, address or socket behind: a virtual router has no
// goroutine of its own, and everything a loop holds goes with it.
func TestDaemon1000RoutersStartStop(t *testing.T) {
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	cfg := &config.Config{}
	for i := range 1000 {
		// Owners are Master at once; the others stay Backup for the
		// test's length (Master_Down_Interval over 30 s).
		c := routerCfg(fmt.Sprintf("vr%d", i), uint8(1+i%250), 100, 10*time.Second)
		c.Interface = fmt.Sprintf("eth%d", i/250)
		if i%2 == 0 {
			c.Priority, c.AdvertInterval = 255, 100*time.Millisecond
		}
		cfg.Routers = append(cfg.Routers, c)
	}
	d, fn := fakeDaemon(cfg)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine() - goroutines; n > 4+numWorkers+2 {
		t.Errorf("%d goroutines for 1000 routers on 4 loops", n)
	}
	waitUntil(t, 5*time.Second, "500 Masters and 500 Backups", func() bool {
		c := countStates(d)
		return c["Master"] == 500 && c["Backup"] == 500
	})
	if fn.opened != 4 {
		t.Errorf("%d sockets for 4 interfaces", fn.opened)
	}
	d.Stop()
	for name, s := range fn.socks {
		if !s.closed {
			t.Errorf("socket of %v left open", name)
		}
	}
	// Every Master resigned with priority 0 [5798-6.4.3-g], each loop's
	// in one batch: the last is not held back behind the others.
	zero := 0
	for _, s := range fn.socks {
		batch := -1
		for _, w := range s.written() {
			if w.Priority != 0 {
				continue
			}
			zero++
			if batch >= 0 && w.Batch != batch {
				t.Errorf("priority-0 adverts of one loop in batches %d and %d", batch, w.Batch)
			}
			batch = w.Batch
		}
	}
	if zero != 500 {
		t.Errorf("%d priority-0 adverts on stop, want 500", zero)
	}
	if n := fn.addrs.count(); n != 0 {
		t.Errorf("%d addresses left installed", n)
	}
	// A goroutine that has closed its done channel may not have returned
	// yet: give the count a moment to settle before calling it a leak.
	settle := time.NewTicker(time.Millisecond)
	for end := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > goroutines && time.Now().Before(end); {
		<-settle.C
	}
	settle.Stop()
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Stop, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if n := openFDs(t); n > fds {
		t.Errorf("%d fds after Stop, %d before", n, fds)
	}
}

// Adverts keep flowing into the loops while the configuration is reloaded
// again and again and status is read: nothing races, the Backups never
// leave Backup, and the reloaded priority is what runs.
func TestDaemonReloadWhileAdvertsFlow(t *testing.T) {
	// Adverts every 2 ms for a 100 ms interval: Master_Down_Interval
	// (over 300 ms) leaves room for a loaded machine to pause the feeder.
	const iv = 100 * time.Millisecond
	mk := func(prio uint8) *config.Config {
		cfg := &config.Config{}
		for i := range 20 {
			cfg.Routers = append(cfg.Routers, routerCfg(fmt.Sprintf("vr%d", i), uint8(i+1), prio, iv))
		}
		return cfg
	}
	d, fn := fakeDaemon(mk(100))
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	sock := fn.sock("eth0")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// A Master at priority 200 for every VRID, every 2 ms.
		clk := d.clock
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			at := clk.Now()
			var ps []fakePkt
			for i := range 20 {
				vrid := uint8(i + 1)
				ps = append(ps, pkt(advert(vrid, 200, peerA4, iv, vipOf(vrid)), peerA4, at))
			}
			sock.deliver(ps...)
		}
	})
	waitUntil(t, 2*time.Second, "20 Backups", func() bool { return countStates(d)["Backup"] == 20 })
	for i := range 30 {
		res := d.Apply(mk(uint8(101 + i)))
		if !res.OK || len(res.Updated) != 20 {
			t.Fatalf("reload %d: %+v", i, res)
		}
		_ = d.Routers()
	}
	close(stop)
	wg.Wait()
	for _, r := range d.Routers() {
		if r.State != "Backup" || r.Priority != 130 || r.Master != peerA4.String() {
			t.Fatalf("%s: %s priority %d following %q", r.Name, r.State, r.Priority, r.Master)
		}
		det, _ := d.Router(r.Name)
		if len(det.Transitions) != 1 {
			t.Fatalf("%s left Backup during the reloads: %+v", r.Name, det.Transitions)
		}
	}
}

// Stop in the middle of a burst: every Master still sends its priority-0
// advert, and nothing is sent after it.
func TestDaemonStopMidBurst(t *testing.T) {
	cfg := &config.Config{}
	for i := range 50 {
		cfg.Routers = append(cfg.Routers, routerCfg(fmt.Sprintf("vr%d", i), uint8(i+1), 255, 10*time.Millisecond))
	}
	d, fn := fakeDaemon(cfg)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	sock := fn.sock("eth0")
	waitUntil(t, 2*time.Second, "50 Masters", func() bool { return countStates(d)["Master"] == 50 })
	// A burst of junk and lower priorities keeps the loop reading.
	var burst []fakePkt
	for i := range 5000 {
		vrid := uint8(1 + i%60)
		burst = append(burst, pkt(advert(vrid, 50, peerA4, 10*time.Millisecond, vipOf(vrid)), peerA4, d.clock.Now()))
	}
	sock.deliver(burst...)
	d.Stop()
	last := map[uint8]int{}
	for i, w := range sock.written() {
		last[w.VRID] = i
	}
	out := sock.written()
	for vrid := uint8(1); vrid <= 50; vrid++ {
		i, ok := last[vrid]
		if !ok || out[i].Priority != 0 {
			t.Fatalf("VRID %d: last advert %+v, want priority 0", vrid, out[i])
		}
	}
}

// Tracking reaches the state machine: an interface going down moves the
// priority (weight) or puts the router in Fault (weight 0), and back.
func TestDaemonTrackingMovesStateMachine(t *testing.T) {
	c := routerCfg("vr", 1, 100, 10*time.Millisecond)
	c.Track.Interfaces = []config.TrackItem{{Name: "uplink", Weight: -30}}
	f := routerCfg("vf", 2, 255, 10*time.Millisecond)
	f.Track.Interfaces = []config.TrackItem{{Name: "uplink"}}
	d, _ := fakeDaemon(&config.Config{Routers: []config.Router{c, f}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	get := func(name string) api.RouterDetail {
		det, ok := d.Router(name)
		if !ok {
			t.Fatalf("no router %s", name)
		}
		return det
	}
	waitUntil(t, time.Second, "vf Master", func() bool { return get("vf").State == "Master" })
	d.linkChanged(linux.LinkState{Name: "uplink", Exists: true, Index: 3})
	waitUntil(t, time.Second, "tracking to apply", func() bool {
		return get("vr").EffectivePriority == 70 && get("vf").State == "Fault"
	})
	d.linkChanged(linux.LinkState{Name: "uplink", Exists: true, Index: 3, Up: true})
	waitUntil(t, time.Second, "tracking to clear", func() bool {
		return get("vr").EffectivePriority == 100 && get("vf").State == "Master"
	})
}

// Adverts for a VRID nobody configured are counted on the interface and
// reported there, with the latest VRID and its source, so that a VRID
// mismatch between peers is visible [5798-7.1-e]; the kernel filter asks
// only for the configured VRIDs, with unicast ones exempt from the TTL
// check.
func TestDaemonFilterAndUnknownVRID(t *testing.T) {
	u := routerCfg("u", 9, 100, time.Second)
	u.UnicastPeers = append(u.UnicastPeers, peerA4)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{routerCfg("m", 1, 100, time.Second), u}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	sock := fn.sock("eth0")
	sock.mu.Lock()
	f := sock.filter
	sock.mu.Unlock()
	for vrid := range 256 {
		if f.VRIDs[vrid] != (vrid == 1 || vrid == 9) || f.AnyTTL[vrid] != (vrid == 9) {
			t.Fatalf("filter for VRID %d: %v/%v", vrid, f.VRIDs[vrid], f.AnyTTL[vrid])
		}
	}
	sock.deliver(pkt(advert(42, 100, peerA4, time.Second, vipOf(42)), peerA4, d.clock.Now()),
		pkt(advert(43, 100, peerB4, time.Second, vipOf(43)), peerB4, d.clock.Now()))
	var ifs []api.InterfaceStatus
	waitUntil(t, time.Second, "the unknown VRIDs to be counted", func() bool {
		ifs = d.Interfaces()
		return len(ifs) == 1 && ifs[0].UnknownVRID == 2
	})
	st := ifs[0]
	if st.Interface != "eth0" || st.Family != "ipv4" || st.Routers != 2 || st.LastUnknownVRID != 43 || st.LastUnknownFrom != peerB4.String() ||
		st.Discards["vrid"] != 2 || time.Since(st.LastUnknownAt).Abs() > time.Minute {
		t.Fatalf("interface status: %+v", st)
	}
	for _, r := range d.Routers() {
		if dt, _ := d.Router(r.Name); len(dt.Discards) != 0 {
			t.Fatalf("router %s was charged for another VRID's adverts: %v", r.Name, dt.Discards)
		}
	}
}

// Memory proportional to work: a running virtual router costs a few KiB of
// heap (its state machine, counters and configuration), not a goroutine.
func TestMemoryPerRouter(t *testing.T) {
	const n = 2040
	cfg := &config.Config{}
	for i := range n {
		c := routerCfg(fmt.Sprintf("vr%d", i), uint8(1+i%255), 100, 10*time.Second)
		c.Interface = fmt.Sprintf("eth%d", i/255)
		cfg.Routers = append(cfg.Routers, c)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d, _ := fakeDaemon(cfg)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "all Backup", func() bool { return countStates(d)["Backup"] == n })
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f bytes of heap per virtual router (%d routers on %d loops), %d goroutines", per, n, len(d.loops), runtime.NumGoroutine())
	if per > 3072 {
		t.Errorf("%.0f bytes of heap per virtual router, want at most 3 KiB", per)
	}
}

// Routers of the same priority and interval started together send their
// adverts together from the first: the loop takes them in one message.
func TestDaemonStartsRoutersTogether(t *testing.T) {
	cfg := &config.Config{}
	for i := range 50 {
		cfg.Routers = append(cfg.Routers, routerCfg(fmt.Sprintf("vr%d", i), uint8(i+1), 100, 20*time.Millisecond))
	}
	d, fn := fakeDaemon(cfg)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 5*time.Second, "50 Masters", func() bool { return countStates(d)["Master"] == 50 })
	sock := fn.sock("eth0")
	waitUntil(t, 5*time.Second, "10 rounds of adverts", func() bool { return len(sock.written()) >= 550 })
	// Each takeover's advert leaves at once (their Master_Down_Timers
	// expire microseconds apart); from the next advert on, one batch a
	// round.
	batches := map[int]int{}
	for _, w := range sock.written()[50:550] {
		batches[w.Batch]++
	}
	if len(batches) > 11 {
		t.Fatalf("10 rounds of adverts of 50 Masters started together left in %d batches, want one per round", len(batches))
	}
}
