package notify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.Close(ctx)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "first-arg gw initialize backup test env=gw/backup/51\n" +
		"first-arg gw backup master test env=gw/master/51\n" +
		"first-arg gw master backup test env=gw/backup/51\n" +
		"first-arg gw backup initialize test env=gw/initialize/51\n"
	if string(got) != want {
		t.Fatalf("hook runs:\n%s\nwant:\n%s", got, want)
	}
}

// A hook that hangs is killed at its timeout and the next event still runs.
func TestHookTimeout(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "log")
	hook := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\n[ \"$3\" = hang ] && sleep 30\necho \"$3\" >> " + out + "\n"
	if err := os.WriteFile(hook, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	r := New([][]string{{hook}}, 200*time.Millisecond, nil)
	r.Notify(Event{Router: "gw", From: "a", To: "hang"})
	r.Notify(Event{Router: "gw", From: "b", To: "master"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r.Close(ctx)
	got, _ := os.ReadFile(out)
	if strings.TrimSpace(string(got)) != "master" {
		t.Fatalf("log %q: the hung hook was not killed or the next one did not run", got)
	}
}

func TestOverflowDropsOldest(t *testing.T) {
	r := &Runner{hooks: [][]string{{"/bin/true"}}, wake: make(chan struct{}, 1), log: discard()}
	for i := range MaxPending + 3 {
		r.Notify(Event{Router: "gw", Reason: string(rune('a' + i%26))})
	}
	if r.Dropped() != 3 || len(r.pending) != MaxPending || r.pending[0].Reason != "d" {
		t.Fatalf("dropped %d, pending %d, first %q", r.Dropped(), len(r.pending), r.pending[0].Reason)
	}
}
