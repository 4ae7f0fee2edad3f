package daemon

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/vrrp"
)

// A router whose interface does not exist yet (a VLAN, bond or VRF made
// after govrrpd) waits in Fault, reason interface-missing, while the others
// run, as keepalived does. When the interface appears it opens its socket
// there and runs; when the interface is deleted it goes back to waiting and
// its socket and loop are released; when it comes back it runs again.
func TestMissingInterfaceWaitsInFault(t *testing.T) {
	late := routerCfg("late", 2, 255, 10*time.Millisecond)
	late.Interface = "vlan7"
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{routerCfg("up", 1, 255, 10*time.Millisecond), late}})
	fn.setIndex("vlan7", 0)
	if err := d.Start(); err != nil {
		t.Fatalf("start with a missing interface: %v", err)
	}
	defer d.Stop()
	get := func(name string) api.RouterDetail {
		t.Helper()
		det, ok := d.Router(name)
		if !ok {
			t.Fatalf("no router %s", name)
		}
		return det
	}
	waiting := func() bool {
		det := get("late")
		return det.State == "Fault" && det.FaultReason == faultMissing
	}
	waitUntil(t, 2*time.Second, "up Master", func() bool { return get("up").State == "Master" })
	if !waiting() {
		t.Fatalf("router on a missing interface: %+v", get("late").RouterStatus)
	}
	var listed bool
	for _, r := range d.Routers() {
		listed = listed || (r.Name == "late" && r.State == "Fault" && r.FaultReason == faultMissing)
	}
	if !listed {
		t.Fatalf("status does not list the waiting router: %+v", d.Routers())
	}
	if fn.sock("vlan7") != nil {
		t.Fatal("a socket was opened on the missing interface")
	}
	if !hasEvent(d, "late", "Initialize", faultMissing) {
		t.Fatal("no event says the router waits for its interface")
	}

	// The interface appears, with the address late owns: the watcher's
	// snapshot starts the router.
	fn.addrs.setHost("vlan7", late.Addresses[0])
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitUntil(t, 2*time.Second, "late Master on the new interface", func() bool {
		det := get("late")
		return det.State == "Master" && det.FaultReason == ""
	})
	first := fn.sock("vlan7")
	if first == nil {
		t.Fatal("no socket on the interface that appeared")
	}

	// Deleted: back to waiting, and nothing held on the dead interface.
	d.linkChanged(fn.setIndex("vlan7", 0))
	waitUntil(t, 2*time.Second, "late waiting again", waiting)
	first.mu.Lock()
	closed := first.closed
	first.mu.Unlock()
	d.mu.RLock()
	_, loopLeft := d.loops[ifaceKey{"vlan7", vrrp.IPv4}]
	d.mu.RUnlock()
	if !closed || loopLeft {
		t.Fatalf("after the interface was deleted: socket closed %v, loop left %v", closed, loopLeft)
	}
	if get("up").State != "Master" {
		t.Fatalf("the router on the other interface left Master: %+v", get("up").RouterStatus)
	}
	if !hasEvent(d, "late", "Fault", faultMissing) {
		t.Fatal("no event says the router waits for its interface again")
	}

	// Re-created with a new index: runs again, on a new socket.
	d.linkChanged(fn.setIndex("vlan7", 8))
	waitUntil(t, 2*time.Second, "late Master again", func() bool { return get("late").State == "Master" })
	if s := fn.sock("vlan7"); s == first {
		t.Fatal("the router runs on the socket of the deleted interface")
	}
}

// An interface without an address to send from: the router waits in Fault
// (no-address) and runs when the address comes; an interface deleted while
// its router waits so makes the reason interface-missing.
func TestNoAddressWaitsInFault(t *testing.T) {
	c := routerCfg("vr", 1, 255, 10*time.Millisecond)
	c.Interface = "bond0"
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	fn.setAddress("bond0", false)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	reason := func() string { return stateOrReason(d, "vr") }
	if r := reason(); r != faultNoAddress {
		t.Fatalf("router on an interface without an address: %s", r)
	}
	d.linkChanged(fn.setAddress("bond0", true))
	waitUntil(t, 2*time.Second, "vr Master once the address came", func() bool { return reason() == "Master" })
	d.linkChanged(fn.setAddress("bond0", false))
	d.linkChanged(fn.setIndex("bond0", 0))
	waitUntil(t, 2*time.Second, "vr waiting for its interface", func() bool { return reason() == faultMissing })
	d.linkChanged(fn.setIndex("bond0", 9))
	waitUntil(t, 2*time.Second, "vr waiting for an address", func() bool { return reason() == faultNoAddress })
	d.linkChanged(fn.setIndex("bond0", 0))
	waitUntil(t, 2*time.Second, "vr waiting for its interface again", func() bool { return reason() == faultMissing })
}

// An interface that appears after the configuration was checked (a VLAN
// made after govrrpd) cannot carry addresses govrrpd left there, so one of
// its addresses equal to a VIP is the host's own, which the host checks
// could not see (the interface was missing): the start of the router would
// delete it as a stale VIP, and leaving Master would again. The router
// waits in Fault (host-address) with the address untouched, and a reload
// after the address is gone starts it (issue 12, "Deleting the box's own
// address"; 5798-5.2.4-a: a non-owner never has an address the host owns).
func TestAppearedInterfaceKeepsHostAddress(t *testing.T) {
	late := routerCfg("late", 2, 100, 10*time.Millisecond)
	late.Interface = "vlan7"
	cfg := &config.Config{Routers: []config.Router{late}}
	d, fn := fakeDaemon(cfg)
	fn.setIndex("vlan7", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	reason := func() string { return stateOrReason(d, "late") }
	own := late.Addresses[0] // the host's address, written as a VIP by mistake
	// As networkd does it: the interface first, its addresses after.
	fn.setAddress("vlan7", false)
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitUntil(t, 2*time.Second, "late waiting for an address", func() bool { return reason() == faultNoAddress })
	fn.addrs.setHost("vlan7", own)
	d.linkChanged(fn.setAddress("vlan7", true))
	waitUntil(t, 2*time.Second, "late waiting on the host's address", func() bool { return reason() == faultHostAddress })
	if !fn.addrs.hostHas("vlan7", own) {
		t.Fatalf("the host's address %v was deleted from the interface that appeared", own)
	}
	if fn.sock("vlan7") != nil {
		t.Fatal("the router opened a socket on the interface")
	}
	// Still there at a reload: still waiting, the address kept.
	if res := d.Apply(cfg); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	if r := reason(); r != faultHostAddress || !fn.addrs.hostHas("vlan7", own) {
		t.Fatalf("after a reload: %s, host address kept %v", r, fn.addrs.hostHas("vlan7", own))
	}
	// Gone (the operator removed it): the next reload starts the router.
	fn.addrs.setHost("vlan7")
	if res := d.Apply(cfg); !res.OK {
		t.Fatalf("reload: %+v", res)
	}
	waitUntil(t, 2*time.Second, "late Master once the address is gone", func() bool { return reason() == "Master" })
}

// stateOrReason is the state of router name, or why it is in Fault.
func stateOrReason(d *Daemon, name string) string {
	det, _ := d.Router(name)
	if det.State != "Fault" {
		return det.State
	}
	return det.FaultReason
}

// hasEvent reports whether the event history holds router's transition
// from from to Fault for reason.
func hasEvent(d *Daemon, router, from, reason string) bool {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	past, _ := d.Subscribe(ctx, eventHistory)
	for _, ev := range past {
		if ev.Router == router && ev.Type == "transition" && ev.From == from && ev.To == "Fault" && ev.Reason == reason {
			return true
		}
	}
	return false
}

// A reload that adds a router on a missing interface is accepted and the
// router waits in Fault; the running routers are untouched.
func TestReloadAddsRouterOnMissingInterface(t *testing.T) {
	const missing = "govrrp-nx0" // on neither the host nor the fake
	file := filepath.Join(t.TempDir(), "govrrpd.yaml")
	up := "routers:\n  - {name: up, interface: eth0, vrid: 1, priority: 100, advert_interval: 10ms, addresses: [10.78.0.1/24]}\n"
	write := func(conf string) {
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(up)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	d, fn := fakeDaemon(cfg)
	fn.setIndex(missing, 0)
	d.file = file
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 2*time.Second, "up Master", func() bool { return countStates(d)["Master"] == 1 })
	write(up + "  - {name: late, interface: " + missing + ", vrid: 2, priority: 100, advert_interval: 10ms, addresses: [10.78.0.2/24]}\n")
	res := d.Reload()
	if !res.OK || len(res.Unchanged) != 1 {
		t.Fatalf("reload adding a router on a missing interface: %+v", res)
	}
	det, ok := d.Router("late")
	if !ok || det.State != "Fault" || det.FaultReason != faultMissing {
		t.Fatalf("router added on a missing interface: %+v", det.RouterStatus)
	}
	if st, _ := d.Router("up"); st.State != "Master" {
		t.Fatalf("running router after the reload: %+v", st.RouterStatus)
	}
	if res := d.Reload(); !res.OK || !slices.Equal(res.Unchanged, []string{"up", "late"}) {
		t.Fatalf("the same file again: %+v", res)
	}
	write(up)
	if res := d.Reload(); !res.OK || !slices.Equal(res.Removed, []string{"late"}) {
		t.Fatalf("reload removing the waiting router: %+v", res)
	}
	if _, ok := d.Router("late"); ok || len(d.Routers()) != 1 {
		t.Fatalf("removed router still listed: %+v", d.Routers())
	}
}

// gatedHook writes a notify hook that logs each event's TO state and, on
// Fault, waits until the gate opens: ran reads the log, open opens the gate
// and shut closes it again.
func gatedHook(t *testing.T) (hook string, ran func() string, open, shut func()) {
	dir := t.TempDir()
	out, gate := filepath.Join(dir, "log"), filepath.Join(dir, "gate")
	hook = filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\necho \"$3\" >> " + out + "\n[ \"$3\" = Fault ] && while [ ! -e " + gate + " ]; do sleep 0.01; done\nexit 0\n"
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	ran = func() string { b, _ := os.ReadFile(out); return string(b) }
	open = func() {
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Error(err)
		}
	}
	shut = func() { _ = os.Remove(gate) }
	return hook, ran, open, shut
}

// waitAnswered waits until router name is in state, reason (empty but for
// Fault), reading the status: a status blocked by the daemon fails the test
// (after opening the hook's gate, so that the test ends).
func waitAnswered(t *testing.T, d *Daemon, name, want string, open func()) {
	t.Helper()
	got, quit := make(chan struct{}), make(chan struct{})
	defer close(quit)
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for stateOrReason(d, name) != want {
			select {
			case <-tick.C:
			case <-quit:
				return
			}
		}
		close(got)
	}()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		open()
		select {
		case <-got:
			t.Fatalf("%s not %s within 5s: status blocked while a Fault hook ran", name, want)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s not %s within 5s, nor once the Fault hook ended", name, want)
		}
	}
}

// A router that waited for its interface ran its Fault hooks; when the
// interface appears, its own hooks follow them, but nothing waits for them
// holding the daemon's lock: while a slow Fault hook still runs, the router
// starts and status answers (issue 12 review).
func TestSlowFaultHookDoesNotBlockStart(t *testing.T) {
	hook, ran, open, _ := gatedHook(t)
	late := routerCfg("late", 2, 255, 10*time.Millisecond)
	late.Interface, late.Notify = "vlan7", [][]string{{hook}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{late}})
	d.hookTimeout = time.Minute
	fn.setIndex("vlan7", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	defer open() // a failed test's hook must not hold Stop
	waitUntil(t, 5*time.Second, "the Fault hook running", func() bool { return ran() == "Fault\n" })

	fn.addrs.setHost("vlan7", late.Addresses[0]) // it appears with the address late owns
	d.linkChanged(fn.setIndex("vlan7", 7))
	waitAnswered(t, d, "late", "Master", open)
	if got := ran(); got != "Fault\n" {
		t.Fatalf("the router's hooks ran before its Fault hook ended: %q", got)
	}
	open()
	// An owner: Initialize to Master at once.
	waitUntil(t, 5*time.Second, "the router's own hooks after its Fault hook", func() bool { return ran() == "Fault\nMaster\n" })
}

// The same when a running router's interface is deleted and comes back:
// its Fault hook (link down) may still run while relink parks the router,
// and when the router restarts, and neither waits for it holding the lock.
func TestSlowFaultHookDoesNotBlockRelink(t *testing.T) {
	hook, ran, open, shut := gatedHook(t)
	c := routerCfg("vr", 2, 255, 10*time.Millisecond)
	c.Interface, c.Notify = "vlan7", [][]string{{hook}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	d.hookTimeout = time.Minute
	fn.setIndex("vlan7", 7)
	fn.addrs.setHost("vlan7", c.Addresses[0]) // the owner's address
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	defer open() // a failed test's hook must not hold Stop
	waitUntil(t, 5*time.Second, "vr's Master hook", func() bool { return ran() == "Master\n" })

	d.linkChanged(fn.setIndex("vlan7", 0)) // deleted: Fault, whose hook blocks
	waitAnswered(t, d, "vr", faultMissing, open)
	waitUntil(t, 5*time.Second, "the Fault hook running", func() bool { return ran() == "Master\nFault\n" })
	d.linkChanged(fn.setIndex("vlan7", 8)) // back
	waitAnswered(t, d, "vr", "Master", open)
	if got := ran(); got != "Master\nFault\n" {
		t.Fatalf("hooks before the Fault hook ended: %q", got)
	}
	open()
	waitUntil(t, 5*time.Second, "vr's hooks after its Fault hook", func() bool { return ran() == "Master\nFault\nMaster\n" })

	// Deleted again while the Fault hook blocks, and back: the same.
	shut()
	d.linkChanged(fn.setIndex("vlan7", 0))
	waitAnswered(t, d, "vr", faultMissing, open)
	waitUntil(t, 5*time.Second, "the Fault hook running again", func() bool { return ran() == "Master\nFault\nMaster\nFault\n" })
	d.linkChanged(fn.setIndex("vlan7", 9))
	waitAnswered(t, d, "vr", "Master", open)
	open()
	waitUntil(t, 5*time.Second, "vr's hooks in order", func() bool { return ran() == "Master\nFault\nMaster\nFault\nMaster\n" })
}

// An interface that flaps while a slow reload holds the reload lock queues
// one relink, not one goroutine per link event; the one that runs reads the
// link as it is then, so the router ends on the last one (issue 12 review).
func TestFlappingInterfaceQueuesOneRelink(t *testing.T) {
	c := routerCfg("vr", 1, 255, 10*time.Millisecond)
	c.Interface = "vlan7"
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{c}})
	fn.setIndex("vlan7", 7)
	fn.addrs.setHost("vlan7", c.Addresses[0]) // the owner's address
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUntil(t, 2*time.Second, "vr Master", func() bool { det, _ := d.Router("vr"); return det.State == "Master" })

	d.reloadMu.Lock() // a slow reload
	before := runtime.NumGoroutine()
	for i := range 100 {
		d.linkChanged(fn.setIndex("vlan7", 0))
		d.linkChanged(fn.setIndex("vlan7", 8+i))
	}
	// One relink; the slack is for goroutines of the runtime or the
	// test's own coming and going meanwhile.
	queued := runtime.NumGoroutine() - before
	d.reloadMu.Unlock()
	if queued > 5 {
		t.Fatalf("%d goroutines queued by 200 link events of one interface, want 1", queued)
	}
	waitUntil(t, 2*time.Second, "vr Master on the last interface", func() bool {
		det, _ := d.Router("vr")
		d.mu.RLock()
		defer d.mu.RUnlock()
		r := d.routers["vr"]
		return det.State == "Master" && r != nil && r.l.index == 107
	})
}

// A router waiting in Fault for its interface stops as a running one does:
// keepalived runs notify_stop (and its generic notify with STOP) for every
// instance when it stops, so the waiting router's hooks hear it leave,
// after its Fault (issue 13).
func TestWaitingRouterHooksHearStop(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$*\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	late := routerCfg("late", 2, 100, 10*time.Millisecond)
	late.Interface = "vlan7"
	late.Hooks.Fault, late.Hooks.Stop, late.Hooks.Generic = [][]string{{hook, "fault"}}, [][]string{{hook, "stop"}}, [][]string{{hook, "ka"}}
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{late}})
	fn.setIndex("vlan7", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	d.Stop() // waits for the waiting router's hooks
	b, _ := os.ReadFile(out)
	if want := "fault\nka INSTANCE late FAULT 100\nstop\nka INSTANCE late STOP 100\n"; string(b) != want {
		t.Fatalf("hooks ran:\n%s\nwant:\n%s", b, want)
	}
}
