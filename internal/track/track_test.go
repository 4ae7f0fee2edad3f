package track

import (
	"context"
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

func TestEffective(t *testing.T) {
	for _, tc := range []struct {
		name       string
		configured uint8
		objs       []Object
		want       uint8
		fault      bool
	}{
		{"nothing failed", 150, []Object{{"eth1", -50, false, false}}, 150, false},
		{"one failed", 150, []Object{{"eth1", -50, true, false}, {"chk", -30, false, false}}, 100, false},
		{"weights add", 150, []Object{{"eth1", -50, true, false}, {"chk", -30, true, false}}, 70, false},
		{"positive weight", 100, []Object{{"chk", 20, true, false}}, 120, false},
		{"clamped low", 100, []Object{{"eth1", -200, true, false}}, 1, false},
		{"clamped high", 250, []Object{{"chk", 50, true, false}}, 254, false},
		{"weight 0 faults", 150, []Object{{"eth1", 0, true, false}}, 150, true},
		{"owner never changes", 255, []Object{{"eth1", -50, true, false}}, 255, false},
		{"owner can fault", 255, []Object{{"eth1", 0, true, false}}, 255, true},
		// A script started with init unknown and no result yet: keepalived's
		// INIT state changes neither the priority nor the Fault.
		{"unknown changes nothing", 150, []Object{{"chk", -50, true, true}, {"chk0", 0, true, true}}, 150, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, fault := Effective(tc.configured, tc.objs)
			if p != tc.want || fault != tc.fault {
				t.Fatalf("got %d fault=%v, want %d fault=%v", p, fault, tc.want, tc.fault)
			}
		})
	}
}

func TestHysteresis(t *testing.T) {
	h := NewHysteresis(2, 3)
	steps := []struct {
		ok              bool
		failed, changed bool
	}{
		{true, true, false}, // starts failed; one success of two
		{true, false, true}, // rise reached
		{false, false, false},
		{false, false, false},
		{true, false, false}, // streak broken
		{false, false, false},
		{false, false, false},
		{false, true, true}, // fall reached
		{false, true, false},
		{true, true, false},
		{true, false, true},
	}
	for i, s := range steps {
		failed, changed := h.Observe(s.ok)
		if failed != s.failed || changed != s.changed {
			t.Fatalf("step %d (ok=%v): failed=%v changed=%v, want %v %v", i, s.ok, failed, changed, s.failed, s.changed)
		}
	}
}

// TestHysteresisUnknown: keepalived without init_fail (vrrp_init_script sets
// result to rise-1, and a first failure is reported from INIT): the first
// result decides at once, whichever it is, then rise and fall count.
func TestHysteresisUnknown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []struct{ ok, failed, changed bool }
	}{
		{"first success passes at once despite rise 3", []struct{ ok, failed, changed bool }{
			{true, false, true}, {false, false, false}, {false, true, true}, {true, true, false}, {true, true, false}, {true, false, true},
		}},
		{"first failure fails at once, then rise 3", []struct{ ok, failed, changed bool }{
			{false, true, true}, {true, true, false}, {true, true, false}, {true, false, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHysteresisUnknown(3, 2)
			for i, s := range tc.steps {
				failed, changed := h.Observe(s.ok)
				if failed != s.failed || changed != s.changed {
					t.Fatalf("step %d (ok=%v): failed=%v changed=%v, want %v %v", i, s.ok, failed, changed, s.failed, s.changed)
				}
			}
		})
	}
}

func TestWaiting(t *testing.T) {
	if !Waiting([]Object{{"chk", 0, false, true}}) {
		t.Error("an unknown script of weight 0 does not hold the start")
	}
	if Waiting([]Object{{"chk", -10, false, true}, {"eth1", 0, true, false}}) {
		t.Error("a weighted unknown script, or a known object, holds the start")
	}
}

// The real runner with real processes: state changes are reported once each,
// and a script that hangs is killed at its timeout, children included.
func TestScriptRun(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "ok")
	script := filepath.Join(dir, "check.sh")
	// Succeeds while the flag file exists; hangs, with a child, when "hang"
	// exists (that the child is killed with it: TestScriptTimeoutKillsGroup).
	body := "#!/bin/sh\n[ -e " + dir + "/hang ] && { sleep 30 & sleep 30; }\n[ -e " + flag + " ]\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Script{Name: "chk", Argv: []string{script}, Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond, Rise: 2, Fall: 2}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan bool, 16)
	done := make(chan struct{})
	go func() { s.Run(ctx, func(failed bool) { states <- failed }); close(done) }()
	expect := func(want bool) {
		t.Helper()
		select {
		case got := <-states:
			if got != want {
				t.Fatalf("state failed=%v, want %v", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no state change to failed=%v", want)
		}
	}
	expect(true) // first report: failing (no flag)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	expect(false)
	if err := os.WriteFile(filepath.Join(dir, "hang"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	expect(true) // timeouts count as failures
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// A check that hangs past its timeout fails, and is killed with its whole
// process group: its child, which holds no output (so only the timeout's
// kill reaches it), is gone too.
func TestScriptTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := filepath.Join(dir, "check.sh")
	body := "#!/bin/sh\nexec >/dev/null 2>&1\nsleep 60 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.KillAtEnd(t, pidFile)
	s := &Script{Name: "chk", Argv: []string{script}, Interval: time.Second, Timeout: 200 * time.Millisecond, Rise: 1, Fall: 1}
	if ok, _, err := s.runOnce(context.Background()); ok || err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("ok %v err %v, want a timeout", ok, err)
	}
	testenv.RequireExited(t, pidFile, 10*time.Second)
}

// A check printing 50 MB per run: its output is kept up to proc.MaxOutput
// with a truncation mark, and the run allocates a bounded amount (it took
// the daemon's RSS to 440 MB at 100 MB).
func TestScriptOutputBounded(t *testing.T) {
	const printed = 50 << 20
	script := filepath.Join(t.TempDir(), "check.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nyes chatty | head -c "+strconv.Itoa(printed)+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Script{Name: "chk", Argv: []string{script}, Interval: time.Minute, Timeout: time.Minute, Rise: 1, Fall: 1}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ok, output, err := s.runOnce(context.Background())
	runtime.ReadMemStats(&after)
	out := string(output)
	if !ok || err != nil {
		t.Fatalf("ok %v err %v", ok, err)
	}
	if mark := "… [truncated, " + strconv.Itoa(printed-proc.MaxOutput) + " bytes more]"; !strings.HasSuffix(out, mark) || len(out) != proc.MaxOutput+len(mark) {
		t.Fatalf("output of %d bytes ending %q", len(out), out[max(0, len(out)-60):])
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a check printing %d MiB: %d KiB allocated", printed>>20, alloc>>10)
	if alloc > 1<<20 {
		t.Fatalf("one run allocated %d bytes", alloc)
	}
}
