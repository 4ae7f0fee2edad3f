package lab

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/testenv"
)

func nsExists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// The demo's way, without a testing.TB: Build registers every undo step
// with Cleanups, and Run removes the namespaces; Keep leaves them up.
func TestBuildWithCleanups(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	var c Cleanups
	l, err := Build(&c, 2)
	if err != nil {
		c.Run()
		t.Fatal(err)
	}
	names := l.Names()
	if len(names) != 3 || names[0] != l.Bridge.Name || l.Nodes[1].Short != "r2" || l.Nodes[1].V4.String() != "10.77.0.2/24" {
		t.Fatalf("names %v, node 2 %q %v", names, l.Nodes[1].Short, l.Nodes[1].V4)
	}
	if out, err := l.Nodes[0].IP("-br", "addr", "show", "eth0"); err != nil || !strings.Contains(out, "fd77::1/64") {
		t.Fatalf("eth0 of r1: %q %v", out, err)
	}
	// IPv6 VRRP sends from the link-local: a node is ready only with it
	// (the kernel adds it a moment after carrier; a Listen right after
	// Build once found none in CI).
	for _, nd := range l.Nodes {
		if _, err := nd.LinkLocal("eth0"); err != nil {
			t.Errorf("right after Build: %v", err)
		}
	}
	c.Run()
	for _, n := range names {
		if nsExists(n) {
			t.Errorf("%s left after Run", n)
		}
	}

	var k Cleanups
	l, err = Build(&k, 1)
	if err != nil {
		k.Run()
		t.Fatal(err)
	}
	names = l.Names()
	l.Keep()
	k.Run()
	for _, n := range names {
		if !nsExists(n) {
			t.Errorf("kept %s removed", n)
		}
		deleteNS(n)
	}
}

// A run that died (its pid is gone) left a namespace with a process in it:
// the sweep stops the process and removes the namespace, whoever made it.
// A run that still runs keeps its namespaces.
func TestSweepStale(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := Prefix + strconv.Itoa(dead.Process.Pid) + "-1-r1"
	live := Prefix + strconv.Itoa(os.Getppid()) + "-1-r1" // the go command: alive
	for _, n := range []string{stale, live} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		t.Cleanup(func() { deleteNS(n) })
	}
	sleeper := exec.Command("ip", "netns", "exec", stale, "sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()

	SweepStale()
	if nsExists(stale) {
		t.Errorf("stale %s not removed", stale)
	}
	if !nsExists(live) {
		t.Errorf("%s of a live run removed", live)
	}
	select {
	case err := <-exited:
		if ws, ok := sleeper.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Errorf("process in the stale namespace ended with %v, want a signal", err)
		}
	case <-time.After(5 * time.Second):
		sleeper.Process.Kill()
		t.Error("process in the stale namespace still runs")
	}
}
