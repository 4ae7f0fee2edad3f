// Package e2e runs real govrrpd processes in network namespaces on the real
// kernel and checks what a network engineer would: who is master, where the
// addresses are, what hosts' neighbour tables say, what is on the wire.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/linux/netnstest"
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

// proc is one govrrpd running inside a namespace.
type proc struct {
	t      *testing.T
	node   *netnstest.Node
	dir    string
	conf   string
	sock   string
	cmd    *exec.Cmd
	logBuf *lockedBuffer
	waited chan struct{}
	client *api.Client
	top    string // extra top-level configuration (metrics_listen, ...)
	exe    string // the govrrpd binary; bin.govrrpd when empty
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs govrrpd on node with the given routers section (YAML) and
// waits until its control API answers.
func start(t *testing.T, node *netnstest.Node, routers string) *proc {
	t.Helper()
	return startExe(t, node, routers, bin.govrrpd)
}

// startExe is start with another govrrpd binary.
func startExe(t *testing.T, node *netnstest.Node, routers, exe string) *proc {
	t.Helper()
	dir := t.TempDir()
	p := &proc{t: t, node: node, dir: dir, conf: filepath.Join(dir, "govrrpd.yaml"), sock: filepath.Join(dir, "govrrpd.sock"), logBuf: &lockedBuffer{}, exe: exe}
	p.writeConfig(routers)
	p.client = api.NewClient(p.sock)
	p.launch()
	return p
}

// startTop is start with extra top-level configuration (metrics_listen,
// snmp_agentx, ...).
func startTop(t *testing.T, nd *netnstest.Node, top, routers string) *proc {
	t.Helper()
	p := &proc{t: t, node: nd, dir: t.TempDir(), logBuf: &lockedBuffer{}, top: top}
	p.conf, p.sock = filepath.Join(p.dir, "c.yaml"), filepath.Join(p.dir, "s.sock")
	p.writeConfig(routers)
	p.client = api.NewClient(p.sock)
	p.launch()
	return p
}

func (p *proc) writeConfig(routers string) {
	p.t.Helper()
	conf := fmt.Sprintf("control_socket: %s\nlog: {level: debug}\n%srouters:\n%s", p.sock, p.top, routers)
	if err := os.WriteFile(p.conf, []byte(conf), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) launch() {
	t := p.t
	t.Helper()
	exe := p.exe
	if exe == "" {
		exe = bin.govrrpd
	}
	p.cmd = exec.Command("ip", "netns", "exec", p.node.Name, exe, "-c", p.conf)
	p.cmd.Stdout, p.cmd.Stderr = p.logBuf, p.logBuf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.waited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.waited) }()
	remove := netnstest.OnInterrupt(func() { _ = p.cmd.Process.Kill() })
	t.Cleanup(func() {
		p.stop()
		remove()
		if t.Failed() {
			t.Logf("--- govrrpd log (%s) ---\n%s", p.node.Name, p.logBuf.String())
		}
	})
	waitFor(t, 10*time.Second, "govrrpd API on "+p.node.Name, func() (bool, string) {
		select {
		case <-p.waited:
			t.Fatalf("govrrpd exited: %s", p.logBuf.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := p.client.Routers(ctx)
		return err == nil, fmt.Sprint(err)
	})
}

// stop sends SIGTERM and waits for the exit.
func (p *proc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.waited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.waited:
		// A clean stop exits 0; the race detector exits 66.
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			p.t.Errorf("govrrpd on %s exited %d after SIGTERM:\n%s", p.node.Name, code, p.logBuf.String())
		}
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.waited
		p.t.Errorf("govrrpd on %s ignored SIGTERM for 10s", p.node.Name)
	}
}

func (p *proc) detail(name string) (api.RouterDetail, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return p.client.Router(ctx, name)
}

// waitState waits until router name on p is in state.
func (p *proc) waitState(name, state string, within time.Duration) api.RouterDetail {
	p.t.Helper()
	var d api.RouterDetail
	waitFor(p.t, within, fmt.Sprintf("%s on %s to be %s", name, p.node.Name, state), func() (bool, string) {
		var err error
		d, err = p.detail(name)
		if err != nil {
			return false, err.Error()
		}
		return d.State == state, "state " + d.State
	})
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

// resources reads the daemon's threads, open fds and resident memory. `ip
// netns exec` execs govrrpd in place, so the pid is the daemon's.
func (p *proc) resources() (resources, error) {
	var r resources
	dir := fmt.Sprintf("/proc/%d", p.cmd.Process.Pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return r, err
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		switch {
		case k == "Name" && len(f) > 0 && f[0] != "govrrpd":
			return r, fmt.Errorf("pid %d is %q, not govrrpd", p.cmd.Process.Pid, f[0])
		case k == "Threads" && len(f) > 0:
			r.Threads, err = strconv.Atoi(f[0])
		case k == "VmRSS" && len(f) > 0: // "123 kB"
			var kb int64
			kb, err = strconv.ParseInt(f[0], 10, 64)
			r.RSS = kb << 10
		}
		if err != nil {
			return r, fmt.Errorf("%s: %q: %w", dir, line, err)
		}
	}
	fds, err := os.ReadDir(dir + "/fd")
	r.FDs = len(fds)
	return r, err
}

// hasAddr reports whether addr is on dev in node.
func hasAddr(t *testing.T, node *netnstest.Node, dev, addr string) bool {
	t.Helper()
	out, err := node.IP("addr", "show", "dev", dev)
	if err != nil {
		return false
	}
	return strings.Contains(out, " "+addr+"/")
}
