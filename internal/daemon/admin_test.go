package daemon

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/config"
)

// settle returns once the loop of r has handled what was delivered to its
// socket before the call: the first message runs before the step that
// reads it, the second after.
func settle(d *Daemon, name string) {
	d.mu.RLock()
	r := d.routers[name]
	d.mu.RUnlock()
	if r != nil {
		r.l.do(func() {})
		r.l.do(func() {})
	}
}

// timerRuns reports whether the loop holds a deadline for the router.
func timerRuns(d *Daemon, name string) bool {
	d.mu.RLock()
	r := d.routers[name]
	d.mu.RUnlock()
	var on bool
	r.l.do(func() { on = r.wake.Scheduled() })
	return on
}

// govrrp disable on a Master: the event runs on the router's loop, the
// priority-0 advert [5798-6.4.3-g] is on the wire and the addresses gone
// when the call returns, and the router then sends and answers nothing
// until enabled, which is the Startup event [5798-6.4.1-b].
func TestDisableOnTheLoop(t *testing.T) {
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{routerCfg("a", 1, 100, 10*time.Millisecond)}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	get := func() api.RouterStatus { det, _ := d.Router("a"); return det.RouterStatus }
	waitUntil(t, 2*time.Second, "Master", func() bool { return get().State == "Master" })
	if _, ok := d.SetDisabled("nope", true); ok {
		t.Fatal("disabled a router that does not exist")
	}
	res, ok := d.SetDisabled("a", true)
	if want := (api.AdminResult{Router: "a", Disabled: true, Changed: true, State: "Initialize"}); !ok || res != want {
		t.Fatalf("disable: %+v %v, want %+v", res, ok, want)
	}
	out := fn.sock("eth0").written()
	if len(out) == 0 || out[len(out)-1].Priority != 0 {
		t.Fatalf("[5798-6.4.3-g] the last advert before disable returned is not priority 0: %+v", out[max(0, len(out)-3):])
	}
	if n := fn.addrs.count(); n != 0 {
		t.Fatalf("%d addresses installed after disable returned", n)
	}
	st := get()
	det, _ := d.Router("a")
	if !st.Disabled || st.State != "Initialize" || det.Transitions[len(det.Transitions)-1].Reason != "admin-disabled" {
		t.Fatalf("after disable: %+v, last transition %+v", st, det.Transitions[len(det.Transitions)-1])
	}
	// Nothing to send: no deadline on the loop; a priority-0 advert, which
	// a Master answers at once [5798-6.4.3-i], gets no answer.
	if timerRuns(d, "a") {
		t.Fatal("a disabled router has a timer on its loop")
	}
	fn.sock("eth0").deliver(pkt(advert(1, 0, peerA4, 10*time.Millisecond, vipOf(1)), peerA4, 0))
	settle(d, "a")
	if n := len(fn.sock("eth0").written()); n != len(out) {
		t.Fatalf("a disabled router sent %d adverts", n-len(out))
	}
	if res, _ := d.SetDisabled("a", true); res.Changed || !res.Disabled {
		t.Fatalf("second disable: %+v", res)
	}
	res, _ = d.SetDisabled("a", false)
	if want := (api.AdminResult{Router: "a", Changed: true, State: "Backup"}); res != want {
		t.Fatalf("enable: %+v, want %+v", res, want)
	}
	waitUntil(t, 2*time.Second, "Master again", func() bool { return get().State == "Master" })
	if get().Disabled {
		t.Fatal("still reported disabled")
	}
}

// A reload keeps a disabled router disabled, whether it updates it in
// place or restarts it; a router the reload removes is forgotten.
func TestDisableSurvivesReload(t *testing.T) {
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{a}})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	get := func() api.RouterStatus { det, _ := d.Router("a"); return det.RouterStatus }
	waitUntil(t, 2*time.Second, "Master", func() bool { return get().State == "Master" })
	d.SetDisabled("a", true)
	sock, sent := fn.sock("eth0"), len(fn.sock("eth0").written())
	a.Priority = 120 // in place
	if res := d.Apply(&config.Config{Routers: []config.Router{a}}); !slices.Equal(res.Updated, []string{"a"}) {
		t.Fatalf("reload: %+v", res)
	}
	settle(d, "a")
	if st := get(); !st.Disabled || st.State != "Initialize" {
		t.Fatalf("after an update in place: %+v", st)
	}
	if n := len(sock.written()); n != sent {
		t.Fatalf("the disabled router sent %d adverts after an update in place", n-sent)
	}
	a.VRID = 2 // a restart
	if res := d.Apply(&config.Config{Routers: []config.Router{a}}); !slices.Equal(res.Restarted, []string{"a"}) {
		t.Fatalf("reload: %+v", res)
	}
	settle(d, "a")
	if st := get(); !st.Disabled || st.State != "Initialize" || st.VRID != 2 {
		t.Fatalf("after a restart: %+v", st)
	}
	// The restart may have opened a new socket (the loop had no router
	// left for a moment): the new VRID is the restarted router's.
	for _, w := range fn.sock("eth0").written() {
		if w.VRID == 2 {
			t.Fatalf("the restarted disabled router sent %+v", w)
		}
	}
	if timerRuns(d, "a") {
		t.Fatal("the restarted disabled router has a timer")
	}
	d.Apply(&config.Config{Routers: []config.Router{routerCfg("b", 3, 100, 10*time.Millisecond)}})
	d.Apply(&config.Config{Routers: []config.Router{a}})
	if st := get(); st.Disabled {
		t.Fatalf("removed and added again: still disabled: %+v", st)
	}
	waitUntil(t, 2*time.Second, "Master", func() bool { return get().State == "Master" })
}

// A router waiting for its interface can be disabled too, and starts
// disabled when the interface appears.
func TestDisableWaitingRouter(t *testing.T) {
	d, fn := fakeDaemon(&config.Config{Routers: []config.Router{routerCfg("a", 1, 100, 10*time.Millisecond)}})
	fn.setIndex("eth0", 0)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	res, ok := d.SetDisabled("a", true)
	if !ok || !res.Changed || res.State != "Fault" {
		t.Fatalf("disable of a waiting router: %+v %v", res, ok)
	}
	if det, _ := d.Router("a"); !det.Disabled {
		t.Fatalf("waiting and disabled: %+v", det.RouterStatus)
	}
	d.relink("eth0") // no-op while missing
	fn.setIndex("eth0", 3)
	d.relink("eth0")
	get := func() api.RouterStatus { det, _ := d.Router("a"); return det.RouterStatus }
	if st := get(); st.State != "Initialize" || !st.Disabled {
		t.Fatalf("started when its interface appeared: %+v", st)
	}
	if n := len(fn.sock("eth0").written()); n != 0 {
		t.Fatalf("a disabled router sent %d adverts", n)
	}
}

// Disabling a member of a sync group is a fault of its own for the group
// (as a member that cannot run): the other member leaves Master with a
// priority-0 advert [5798-6.4.2-h], so the peer's group takes over whole;
// enabling it brings the group back.
func TestDisableSyncGroupMember(t *testing.T) {
	d, fn, get := syncPair(t, 10*time.Millisecond)
	waitUntil(t, 2*time.Second, "both Master", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
	d.SetDisabled("in", true)
	waitUntil(t, 2*time.Second, "out in Fault", func() bool { return get("out").State == "Fault" })
	if r := get("out").FaultReason; r != "sync-group-fault" {
		t.Fatalf("out: fault reason %q", r)
	}
	zero := false
	for _, s := range fn.sock("eth0").written() {
		zero = zero || s.Priority == 0
	}
	if !zero {
		t.Fatal("out left Master without a priority-0 advert")
	}
	d.SetDisabled("in", false)
	waitUntil(t, 2*time.Second, "both Master again", func() bool { return get("out").State == "Master" && get("in").State == "Master" })
}

// The log level changes at run time (govrrp log-level); a reload keeps it
// unless the file's log.level changed, which then wins.
func TestSetLogLevel(t *testing.T) {
	var out logBuffer
	lv := new(slog.LevelVar)
	cfg := &config.Config{Log: config.Log{Level: "info"}}
	d := New(cfg, Options{Log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: lv})), Level: lv})
	d.log.Debug("before")
	if err := d.SetLogLevel("verbose"); err == nil || !strings.Contains(err.Error(), "debug, info, warn, error") {
		t.Fatalf("SetLogLevel verbose: %v", err)
	}
	if err := d.SetLogLevel("debug"); err != nil || d.LogLevel() != "debug" {
		t.Fatalf("SetLogLevel debug: %v, level %s", err, d.LogLevel())
	}
	d.log.Debug("after")
	if out.count("msg=before") != 0 || out.count("msg=after") != 1 || out.count(`msg="log level changed" from=info to=debug`) != 1 {
		t.Fatalf("log:\n%s", out.b.String())
	}
	d.rec.file = ""
	d.watchLinks = false
	d.Apply(&config.Config{Log: config.Log{Level: "info"}})
	if l := d.LogLevel(); l != "debug" {
		t.Fatalf("a reload with the same log.level changed the level to %s", l)
	}
	d.Apply(&config.Config{Log: config.Log{Level: "warn"}})
	if l := d.LogLevel(); l != "warn" {
		t.Fatalf("a reload with a new log.level: %s, want warn", l)
	}
}

// A reload that changed keys it cannot apply says which, where and why,
// and applies the rest.
func TestReloadReportsSkippedKeys(t *testing.T) {
	a := routerCfg("a", 1, 100, 10*time.Millisecond)
	old := &config.Config{File: "g.yaml", ControlSocket: "/run/govrrpd.sock", Log: config.Log{Format: "text", Level: "info"}, Routers: []config.Router{a}}
	d, _ := fakeDaemon(old)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	b := a
	b.Priority = 120
	cfg := &config.Config{File: "g.yaml", ControlSocket: "/run/other.sock", MetricsListen: "127.0.0.1:9624", SNMPAgentX: "/var/agentx/master", Log: config.Log{Format: "json", Level: "info"},
		NotifyAs:   config.RunAs{User: "nobody"},
		Routers:    []config.Router{b},
		SyncGroups: []config.SyncGroup{{Name: "g", Routers: []string{"a"}}},
		KeyPos:     map[string]config.Pos{"control_socket": {File: "g.yaml", Line: 1, Col: 17}, "log": {File: "g.yaml", Line: 4, Col: 3}, "sync_groups": {File: "g.yaml", Line: 20, Col: 3}}}
	res := d.Apply(cfg)
	want := []api.SkippedKey{
		{Key: "control_socket", Pos: "g.yaml:1:17", Why: "the control socket is opened once, at start"},
		{Key: "metrics_listen", Pos: "g.yaml", Why: "the metrics listener is opened once, at start"},
		{Key: "snmp_agentx", Pos: "g.yaml", Why: "the SNMP subagent starts once, at start"},
		{Key: "notify_user", Pos: "g.yaml", Why: "the hook runners take it when they start"},
		{Key: "log.format", Pos: "g.yaml:4:3", Why: "the log handler is made once, at start (log.level applies now)"},
		{Key: "sync_groups", Pos: "g.yaml:20:3", Why: "membership and notify hooks of sync groups are set at start (their tracked objects apply now)"},
	}
	if !res.OK || !slices.Equal(res.Skipped, want) || !slices.Equal(res.Updated, []string{"a"}) {
		t.Fatalf("reload: %+v\nskipped %+v\nwant    %+v", res, res.Skipped, want)
	}
	past, _ := d.Subscribe(context.Background(), 1)
	if len(past) != 1 || past[0].Detail != "applied; waiting for a restart: control_socket, metrics_listen, snmp_agentx, notify_user, log.format, sync_groups" {
		t.Fatalf("reload event %+v", past)
	}
	// What runs is still what govrrpd started with: the next reload says
	// so again.
	if res := d.Apply(cfg); !slices.Equal(res.Skipped, want) {
		t.Fatalf("second reload skipped %+v", res.Skipped)
	}
}
