package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/testenv"
)

func TestOutputBound(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing", nil, ""},
		{"small", []string{"ok\n", "done\n"}, "ok\ndone\n"},
		{"exactly the bound", []string{x(MaxOutput - 1), "y"}, x(MaxOutput-1) + "y"},
		{"one byte over", []string{x(MaxOutput), "y"}, x(MaxOutput) + "… [truncated, 1 bytes more]"},
		{"one big write", []string{x(MaxOutput + 10)}, x(MaxOutput) + "… [truncated, 10 bytes more]"},
		{"writes after the bound are counted", []string{x(MaxOutput), "abc", "de"}, x(MaxOutput) + "… [truncated, 5 bytes more]"},
		// "é" is two bytes; the cut falls between them, so the whole rune goes.
		{"no split rune", []string{x(MaxOutput-1) + "é" + "z"}, x(MaxOutput-1) + "… [truncated, 3 bytes more]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o Output
			for _, w := range tc.writes {
				if n, err := o.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(w))
				}
			}
			if got := o.String(); got != tc.want {
				t.Fatalf("got %d bytes %q…, want %d bytes %q…", len(got), tail(got), len(tc.want), tail(tc.want))
			}
			if cap(o.buf) > MaxOutput {
				t.Fatalf("buffer grew to %d", cap(o.buf))
			}
		})
	}
}

func tail(s string) string { return s[max(0, len(s)-40):] }

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// A program printing 50 MB: the run keeps MaxOutput bytes and the count of
// the rest, allocates a bounded amount whatever the program prints, and the
// program is reaped with its exit status.
func TestRunBoundsOutput(t *testing.T) {
	const printed = 50 << 20
	s := script(t, "yes 0123456789abcdef | head -c "+strconv.Itoa(printed)+"\nexit 3\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := Run(context.Background(), []string{s}, nil, time.Minute)
	runtime.ReadMemStats(&after)
	want := "… [truncated, " + strconv.Itoa(printed-MaxOutput) + " bytes more]"
	if !strings.HasSuffix(r.Output, want) || len(r.Output) != MaxOutput+len(want) {
		t.Fatalf("output of %d bytes ending %q, want %d bytes ending %q", len(r.Output), tail(r.Output), MaxOutput+len(want), want)
	}
	if r.Err == nil || !strings.Contains(r.Err.Error(), "exit status 3") || r.TimedOut {
		t.Fatalf("err %v timedOut %v, want exit status 3", r.Err, r.TimedOut)
	}
	// The copy buffer, the kept output and exec's own bookkeeping; the
	// program's 50 MB must not show.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("one run printing %d MiB allocated %d KiB", printed>>20, alloc>>10)
	if alloc > 1<<20 {
		t.Fatalf("one run allocated %d bytes for %d bytes of output", alloc, printed)
	}
}

// A program that never exits and leaves a child outside its process group
// holding the output pipe: the run kills the program at its timeout and stops
// reading WaitDelay later, instead of waiting for the child.
func TestRunEscapedChildDoesNotHang(t *testing.T) {
	testenv.RequireTool(t, "setsid")
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// setsid: a new session, so the group kill misses it; it inherits stdout.
	s := script(t, "setsid sh -c 'echo $$ > "+pidFile+"; exec sleep 60' &\necho started\nexec sleep 60\n")
	testenv.KillAtEnd(t, pidFile)
	done := make(chan Result, 1)
	go func() { done <- Run(context.Background(), []string{s}, nil, 200*time.Millisecond) }()
	select {
	case r := <-done:
		if !r.TimedOut || r.Err == nil || r.Output != "started\n" {
			t.Fatalf("result %+v, want a timeout with the output so far", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run waited for the escaped child that holds its output")
	}
}

// A program that ends at once, whatever its status, but leaves a child
// holding its output: the run is done WaitDelay later, the child is killed
// with the process group, and the error says why.
func TestRunLingeringChild(t *testing.T) {
	for _, status := range []string{"0", "3"} {
		t.Run("exit "+status, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			s := script(t, "sleep 60 &\necho $! > "+pidFile+"\nexit "+status+"\n")
			testenv.KillAtEnd(t, pidFile)
			done := make(chan Result, 1)
			go func() { done <- Run(context.Background(), []string{s}, nil, time.Minute) }()
			var r Result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Run waited for the child that holds its output")
			}
			if r.TimedOut || r.Err == nil || !strings.Contains(r.Err.Error(), "still held its output") ||
				(status != "0") != strings.Contains(r.Err.Error(), "exit status "+status) {
				t.Fatalf("result %+v", r)
			}
			// The child was killed with the group.
			testenv.RequireExited(t, pidFile, 10*time.Second)
		})
	}
}

// A program that times out, or whose context ends, is killed with its whole
// process group: a child that does not hold the output (so only that kill,
// not the one for a held pipe, reaches it) is gone too.
func TestRunKillsGroup(t *testing.T) {
	for _, how := range []string{"timeout", "cancel"} {
		t.Run(how, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			s := script(t, "sleep 60 >/dev/null 2>&1 &\necho $! > "+pidFile+"\nwait\n")
			testenv.KillAtEnd(t, pidFile)
			// "cancel": the caller's context ends (the daemon stopping), not
			// the run's own timeout.
			ctx, timeout := context.Background(), 200*time.Millisecond
			if how == "cancel" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				timeout = time.Minute
			}
			r := Run(ctx, []string{s}, nil, timeout)
			if r.Err == nil {
				t.Fatalf("result %+v", r)
			}
			testenv.RequireExited(t, pidFile, 10*time.Second)
		})
	}
}

// TestBareNameNotSearched: a command still bare when it reaches proc was not
// found in the configuration's fixed list when it was loaded; the daemon's
// own PATH must not find another program of that name.
func TestBareNameNotSearched(t *testing.T) {
	r := Run(context.Background(), []string{"true"}, nil, time.Second)
	if !errors.Is(r.Err, exec.ErrNotFound) {
		t.Errorf("err %v, want exec.ErrNotFound without a PATH search", r.Err)
	}
}
