package notify

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/proc"
	"govrrp/internal/testenv"
)

// Hooks run in order with the arguments and environment of each event, and
// Notify never waits for them.
func TestHooksInOrder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	hook := filepath.Join(dir, "hook.sh")
	gate := filepath.Join(dir, "gate")
	// The first run blocks until the gate exists, to prove Notify does not wait.
	body := "#!/bin/sh\nwhile [ ! -e " + gate + " ]; do sleep 0.01; done\necho \"$1 $2 $3 $4 $5 env=$GOVRRP_ROUTER/$GOVRRP_TO/$GOVRRP_VRID\" >> " + out + "\n"
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := New([][]string{{hook, "first-arg"}}, 10*time.Second, nil)
	start := time.Now()
	for i, to := range []string{"backup", "master", "backup", "initialize"} {
		from := []string{"initialize", "backup", "master", "backup"}[i]
		r.Notify(Event{Router: "gw", From: from, To: to, Reason: "test", VRID: 51})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Notify blocked for %v", d)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := closeAndRead(t, r, out)
	want := "first-arg gw initialize backup test env=gw/backup/51\n" +
		"first-arg gw backup master test env=gw/master/51\n" +
		"first-arg gw master backup test env=gw/backup/51\n" +
		"first-arg gw backup initialize test env=gw/initialize/51\n"
	if string(got) != want {
		t.Fatalf("hook runs:\n%s\nwant:\n%s", got, want)
	}
}

// Every hook, ours and keepalived's forms alike, gets the event in GOVRRP_*
// variables: each with its own field's value (all distinct here, so a
// variable carrying another field's value shows), and no others.
func TestHookEnvironment(t *testing.T) {
	for _, kv := range os.Environ() { // the daemon's own environment is passed on
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GOVRRP_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "env")
	hook := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\nenv | grep '^GOVRRP_' | sort >> " + out + "\necho -- >> " + out + "\n"
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewHooks(Hooks{Notify: [][]string{{hook}}, Master: [][]string{{hook}}, Keepalived: [][]string{{hook}}}, 10*time.Second, discard())
	r.Notify(Event{Router: "gw-v6", From: "Backup", To: "Master", Reason: "master-no-response", Interface: "eth7", VRID: 51, Family: "ipv6", Priority: 153})
	got := closeAndRead(t, r, out)
	one := "GOVRRP_FAMILY=ipv6\nGOVRRP_FROM=Backup\nGOVRRP_INTERFACE=eth7\nGOVRRP_PRIORITY=153\n" +
		"GOVRRP_REASON=master-no-response\nGOVRRP_ROUTER=gw-v6\nGOVRRP_TO=Master\nGOVRRP_VRID=51\n--\n"
	if want := strings.Repeat(one, 3); string(got) != want {
		t.Fatalf("environments (notify_master, notify_keepalived, notify):\n%s\nwant:\n%s", got, want)
	}
}

// A hook that hangs is killed at its timeout with its whole process group
// and the next event still runs. Its child holds no output, so only the
// timeout's kill reaches it.
func TestHookTimeout(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	pidFile := filepath.Join(dir, "pid")
	hook := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\n[ \"$3\" = hang ] && { exec >/dev/null 2>&1; sleep 30 & echo $! > " + pidFile + "; wait; }\necho \"$3\" >> " + out + "\n"
	testenv.KillAtEnd(t, pidFile)
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := New([][]string{{hook}}, 200*time.Millisecond, nil)
	r.Notify(Event{Router: "gw", From: "a", To: "hang"})
	r.Notify(Event{Router: "gw", From: "b", To: "master"})
	if got := closeAndRead(t, r, out); strings.TrimSpace(string(got)) != "master" {
		t.Fatalf("log %q: the hung hook was not killed or the next one did not run", got)
	}
	testenv.RequireExited(t, pidFile, 10*time.Second)
}

// closeAndRead closes r, waiting for its hooks, and returns what they wrote
// to out.
func closeAndRead(t *testing.T, r *Runner, out string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.Close(ctx)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOverflowDropsOldest(t *testing.T) {
	// busy: as if a hook were running, so the events stay queued.
	r := &Runner{hooks: Hooks{Notify: [][]string{{"/bin/true"}}}, busy: true, log: discard()}
	for i := range MaxPending + 3 {
		r.Notify(Event{Router: "gw", Reason: string(rune('a' + i%26))})
	}
	if r.Dropped() != 3 || len(r.pending) != MaxPending || r.pending[0].Reason != "d" {
		t.Fatalf("dropped %d, pending %d, first %q", r.Dropped(), len(r.pending), r.pending[0].Reason)
	}
}

// settle waits, without sleeping, until cond holds: a goroutine that has
// signalled its end may take a moment to be gone.
func settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}

// toHook writes a hook that appends its event's TO state to the file out.
func toHook(t *testing.T) (hook, out string) {
	t.Helper()
	dir := t.TempDir()
	out, hook = filepath.Join(dir, "log"), filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$3\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return hook, out
}

// A Runner has a goroutine only while it has events to run: none at New,
// none without hooks, none once the queue is empty, none after Close.
func TestNoGoroutineWhenIdle(t *testing.T) {
	hook, out := toHook(t)
	g0 := runtime.NumGoroutine()
	var runners []*Runner
	for range 1000 {
		runners = append(runners, New([][]string{{hook}}, 10*time.Second, discard()))
	}
	bare := New(nil, time.Second, discard())
	for range 10 {
		bare.Notify(Event{Router: "gw", To: "master"})
	}
	if g := runtime.NumGoroutine(); g > g0 {
		t.Fatalf("%d goroutines for 1001 idle runners", g-g0)
	}

	r := runners[0]
	r.Notify(Event{Router: "gw", From: "backup", To: "master"})
	r.Notify(Event{Router: "gw", From: "master", To: "backup"})
	r.mu.Lock()
	running := r.running
	r.mu.Unlock()
	select {
	case <-running:
	case <-time.After(10 * time.Second):
		t.Fatal("the goroutine did not end with the queue empty")
	}
	if got, _ := os.ReadFile(out); string(got) != "master\nbackup\n" {
		t.Fatalf("hook runs %q", got)
	}
	settle(t, "no goroutine once idle", func() bool { return runtime.NumGoroutine() <= g0 })

	// A later event starts a goroutine again, and Close still waits for it.
	r.Notify(Event{Router: "gw", From: "backup", To: "fault"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, r := range append(runners, bare) {
		r.Close(ctx)
	}
	if got, _ := os.ReadFile(out); string(got) != "master\nbackup\nfault\n" {
		t.Fatalf("hook runs %q: Close did not wait for the pending event", got)
	}
	r.Notify(Event{Router: "gw", From: "fault", To: "master"})
	settle(t, "no goroutine after Close", func() bool { return runtime.NumGoroutine() <= g0 })
	if r.busy || len(r.pending) != 0 {
		t.Fatal("Notify after Close queued an event")
	}
}

// Close whose context ends kills the running hook's whole process group and
// drops what is still pending.
func TestCloseCancelled(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	pidFile := filepath.Join(dir, "pid")
	hook := filepath.Join(dir, "hook.sh")
	// The child holds no output, so only the kill for the ended context,
	// if it takes the group, reaches it.
	body := "#!/bin/sh\necho \"$3\" >> " + out + "\nsleep 30 >/dev/null 2>&1 &\necho $! > " + pidFile + "\nwait\n"
	testenv.KillAtEnd(t, pidFile)
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := New([][]string{{hook}}, time.Minute, discard())
	r.Notify(Event{Router: "gw", From: "backup", To: "master"})
	r.Notify(Event{Router: "gw", From: "master", To: "backup"})
	settle(t, "hook started", func() bool { b, _ := os.ReadFile(pidFile); return len(b) > 0 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Close(ctx)
	if got, _ := os.ReadFile(out); string(got) != "master\n" {
		t.Fatalf("hook runs %q, want only the first", got)
	}
	testenv.RequireExited(t, pidFile, 10*time.Second)
}

// A hook printing 50 MB is logged with its first proc.MaxOutput bytes and a
// truncation mark, once, and running it allocates a bounded amount: the
// daemon's memory and log do not grow with what a hook prints.
func TestHookOutputBounded(t *testing.T) {
	const printed = 50 << 20
	dir := t.TempDir()
	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\nyes chatty | head -c "+strconv.Itoa(printed)+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	r := New([][]string{{hook}}, time.Minute, slog.New(slog.NewTextHandler(&logBuf, nil)))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.Notify(Event{Router: "gw", From: "backup", To: "master"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r.Close(ctx)
	runtime.ReadMemStats(&after)
	line := logBuf.String()
	if strings.Count(line, "\n") != 1 || !strings.Contains(line, "notify hook failed") {
		t.Fatalf("want one line for the failed hook, got %d bytes: %.300q", len(line), line)
	}
	if mark := "… [truncated, " + strconv.Itoa(printed-proc.MaxOutput) + " bytes more]"; !strings.Contains(line, mark) {
		t.Fatalf("log line of %d bytes without %q", len(line), mark)
	}
	if len(line) > 2*proc.MaxOutput {
		t.Fatalf("log line of %d bytes", len(line))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a hook printing %d MiB: %d KiB allocated, a log line of %d bytes", printed>>20, alloc>>10, len(line))
	if alloc > 2<<20 {
		t.Fatalf("running the hook allocated %d bytes", alloc)
	}
}

// After holds the hooks until done is closed: a router's transitions run
// after the hooks an earlier runner still runs for it.
func TestAfterWaits(t *testing.T) {
	hook, out := toHook(t)
	done := make(chan struct{})
	r := New([][]string{{hook}}, 10*time.Second, nil)
	r.After(done)
	r.Notify(Event{Router: "gw", From: "fault", To: "master"})
	r.mu.Lock()
	running := r.running
	r.mu.Unlock()
	select {
	case <-running:
		t.Fatal("the runner ended before done was closed")
	default:
	}
	if b, _ := os.ReadFile(out); len(b) != 0 {
		t.Fatalf("the hook ran before done was closed: %q", b)
	}
	close(done)
	if b := closeAndRead(t, r, out); string(b) != "master\n" {
		t.Fatalf("hook runs %q, want master", b)
	}
}

// keepalived's hooks run as keepalived 2.2.7 runs them (vrrp_notify.c
// send_instance_notifies): on entering MASTER, BACKUP, FAULT or STOP (the
// daemon stopping: our shutdown to Initialize), notify_<state> first with no
// arguments added, then the generic notify with TYPE NAME STATE PRIORITY,
// then our own hooks with ROUTER FROM TO REASON. Passing through Initialize
// on the way out of Fault is no keepalived state: only our hooks run.
func TestKeepalivedHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	hook := filepath.Join(dir, "hook.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho \"$*\" >> "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"", "GROUP"} {
		os.Remove(out)
		r := NewHooks(Hooks{
			Notify: [][]string{{hook, "ours"}},
			Master: [][]string{{hook, "master"}}, Backup: [][]string{{hook, "backup"}},
			Fault: [][]string{{hook, "fault"}}, Stop: [][]string{{hook, "stop"}},
			Keepalived: [][]string{{hook, "generic"}}, Type: typ,
		}, 10*time.Second, discard())
		for _, ev := range []Event{
			{From: "Initialize", To: "Backup", Reason: "startup", Priority: 100},
			{From: "Backup", To: "Master", Reason: "master-no-response", Priority: 100},
			{From: "Master", To: "Fault", Reason: "link-down", Priority: 100},
			{From: "Fault", To: "Initialize", Reason: "fault-cleared", Priority: 90},
			{From: "Initialize", To: "Backup", Reason: "startup", Priority: 90},
			{From: "Backup", To: "Initialize", Reason: "shutdown", Priority: 90},
		} {
			ev.Router = "VI_1"
			r.Notify(ev)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		r.Close(ctx)
		cancel()
		got, _ := os.ReadFile(out)
		kind, p100, p90 := "INSTANCE", "100", "90"
		if typ == "GROUP" {
			kind, p100, p90 = "GROUP", "0", "0" // keepalived gives a group priority 0
		}
		want := "backup\ngeneric " + kind + " VI_1 BACKUP " + p100 + "\nours VI_1 Initialize Backup startup\n" +
			"master\ngeneric " + kind + " VI_1 MASTER " + p100 + "\nours VI_1 Backup Master master-no-response\n" +
			"fault\ngeneric " + kind + " VI_1 FAULT " + p100 + "\nours VI_1 Master Fault link-down\n" +
			"ours VI_1 Fault Initialize fault-cleared\n" +
			"backup\ngeneric " + kind + " VI_1 BACKUP " + p90 + "\nours VI_1 Initialize Backup startup\n" +
			"stop\ngeneric " + kind + " VI_1 STOP " + p90 + "\nours VI_1 Backup Initialize shutdown\n"
		if string(got) != want {
			t.Errorf("type %q: hook runs:\n%s\nwant:\n%s", typ, got, want)
		}
	}
}
