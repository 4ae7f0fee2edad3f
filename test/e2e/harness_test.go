// Package e2e runs real govrrpd processes in network namespaces on the real
// kernel and checks what a network engineer would: who is master, where the
// addresses are, what hosts' neighbour tables say, what is on the wire.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/lab/govrrpd"
)

// bin holds the binaries under test, built with the race detector, and
// govrrpd as shipped (no race detector, which slows it about tenfold) for
// tests whose point is how much it can take.
var bin struct{ govrrpd, govrrp, govrrpdRelease string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "govrrp-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.govrrpd, bin.govrrp = filepath.Join(dir, "govrrpd"), filepath.Join(dir, "govrrp")
	bin.govrrpdRelease = filepath.Join(dir, "release", "govrrpd")
	for _, b := range [][3]string{{bin.govrrpd, "govrrp/cmd/govrrpd", "-race"}, {bin.govrrp, "govrrp/cmd/govrrp", "-race"}, {bin.govrrpdRelease, "govrrp/cmd/govrrpd", "-trimpath"}} {
		if out, err := exec.Command("go", "build", b[2], "-o", b[0], b[1]).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b[1], err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one govrrpd running inside a namespace: the lab's harness, with
// the test it belongs to and the configuration's top-level extras.
type proc struct {
	*govrrpd.Daemon
	t   *testing.T
	top string // extra top-level configuration (metrics_listen, ...)
}

// start runs govrrpd on node with the given routers section (YAML) and
// waits until its control API answers.
func start(t *testing.T, node *lab.Node, routers string) *proc {
	t.Helper()
	return startExe(t, node, routers, bin.govrrpd)
}

// startExe is start with another govrrpd binary.
func startExe(t *testing.T, node *lab.Node, routers, exe string) *proc {
	t.Helper()
	p := newProc(t, node, exe, "")
	p.writeConfig(routers)
	p.launch()
	return p
}

// newProc prepares govrrpd (exe) on node with top-level extras top, files in
// a new directory.
func newProc(t *testing.T, node *lab.Node, exe, top string) *proc {
	t.Helper()
	p := &proc{Daemon: govrrpd.NewT(t, node, node.Short, exe, t.TempDir()), t: t, top: top}
	p.Options = lab.ProcOptions{DeathSignal: syscall.SIGKILL, OnInterrupt: true}
	return p
}

// startTop is start with extra top-level configuration (metrics_listen,
// snmp_agentx, ...), with a short socket path.
func startTop(t *testing.T, nd *lab.Node, top, routers string) *proc {
	t.Helper()
	p := newProc(t, nd, bin.govrrpd, top)
	p.Files("s")
	p.writeConfig(routers)
	p.launch()
	return p
}

// writeConfig writes the configuration with the given routers section.
func (p *proc) writeConfig(routers string) {
	p.t.Helper()
	if err := p.WriteConfig("log: {level: debug}\n" + p.top + "routers:\n" + routers); err != nil {
		p.t.Fatal(err)
	}
}

// launch starts the daemon and waits for its API; the test's end stops it
// (SIGTERM, exit 0 wanted) and checks its log.
func (p *proc) launch() {
	p.t.Helper()
	p.LaunchT(p.t)
}

// stop sends SIGTERM and waits for the exit.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.Stop(10 * time.Second); err != nil {
		p.t.Error(err)
	}
}

// kill is kill -9: the daemon leaves what it installed behind.
func (p *proc) kill() {
	p.t.Helper()
	if err := p.Kill(); err != nil {
		p.t.Fatal(err)
	}
}

// waitState waits until router name on p is in state.
func (p *proc) waitState(name, state string, within time.Duration) api.RouterDetail {
	p.t.Helper()
	d, err := p.WaitState(name, state, within)
	if err != nil {
		p.t.Fatal(err)
	}
	return d
}

// waitFor polls cond until it holds or the deadline passes. Deadlines are
// generous: correctness here, speed in the benchmarks.
func waitFor(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last: %s)", within, what, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// resources is what a process holds, from /proc.
type resources struct {
	Threads, FDs int
	RSS          int64 // bytes
}

func (r resources) String() string {
	return fmt.Sprintf("%d threads, %d fds, RSS %.1f MiB", r.Threads, r.FDs, float64(r.RSS)/(1<<20))
}

// resources reads the daemon's threads, open fds and resident memory.
func (p *proc) resources() (resources, error) {
	var r resources
	pid := p.PID()
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || strings.TrimSpace(string(b)) != "govrrpd" {
		return r, fmt.Errorf("pid %d is %q, not govrrpd (%v)", pid, b, err)
	}
	threads, err := lab.StatusKB(pid, "Threads")
	if err != nil {
		return r, err
	}
	rss, err := lab.StatusKB(pid, "VmRSS")
	if err != nil {
		return r, err
	}
	r.Threads, r.RSS = int(threads), int64(rss)<<10
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	r.FDs = len(fds)
	return r, err
}

// hasAddr reports whether addr is on dev in node.
func hasAddr(t *testing.T, node *lab.Node, dev, addr string) bool {
	t.Helper()
	out, err := node.IP("addr", "show", "dev", dev)
	if err != nil {
		return false
	}
	return strings.Contains(out, " "+addr+"/")
}
