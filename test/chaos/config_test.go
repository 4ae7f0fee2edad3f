package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// A configuration mistake of issue 12, given the running daemon's valid
// file.
type mistake struct {
	name string
	make func(valid string) string
	// warnOnly: what `validate` should only warn about, and a reload and a
	// start should apply; fault names a router that then waits in Fault (a
	// missing interface).
	warnOnly bool
	fault    string
	// says: what validate's output must name (the mistake, not another).
	says string
	// start: also start govrrpd on the file (the small files; the large
	// ones cost at start what they cost validate: the same code loads them).
	start bool
}

// r1's own address on eth0, which no mistake may take away.
const ownAddr = "10.77.0.1"

var mistakes = []mistake{
	{name: "own-address", start: true, make: func(valid string) string {
		return valid + routerBlock("mgmt", "eth0", 60, ownAddr+"/24")
	}},
	{name: "200k-aliases", make: func(valid string) string {
		var b strings.Builder
		b.WriteString(header(valid))
		b.WriteString("  - &r {name: vr51-ipv4, interface: eth0, vrid: 51, version: 3, priority: 200, advert_interval: 100ms, accept: true, addresses: [10.77.0.254/24]}\n")
		for range 200_000 {
			b.WriteString("  - *r\n")
		}
		return b.String()
	}},
	{name: "10MB-file", make: func(valid string) string {
		var b strings.Builder
		b.WriteString(valid)
		for i := 0; b.Len() < 10<<20; i++ {
			fmt.Fprintf(&b, "  - {name: bad%d, interface: eth0, vrid: 256, priority: 100, advert_interval: 100ms, addresses: [10.78.%d.%d/24]}\n", i, i/250%250, i%250+1)
		}
		return b.String()
	}},
	{name: "missing-interface", warnOnly: true, says: "eth9", fault: "late", start: true, make: func(valid string) string {
		return valid + routerBlock("late", "eth9", 61, "10.77.0.253/24")
	}},
	{name: "duplicate-vip", says: "10.77.0.254", start: true, make: func(valid string) string {
		return valid + routerBlock("dup", "eth0", 62, vip.String())
	}},
	{name: "advert-exceeds-mtu", says: "MTU", start: true, make: func(valid string) string {
		// 40 + 8 + 16×100 bytes: more than eth0's 1500.
		addrs := []string{"fe80::77:62"}
		for i := range 99 {
			addrs = append(addrs, fmt.Sprintf("fd77::62:%x", i+1))
		}
		return valid + routerBlock("big", "eth0", 62, strings.Join(addrs, ", "))
	}},
	{name: "second-document", says: "document", start: true, make: func(valid string) string {
		return valid + "---\n" + header(valid) + routerBlock("ignored", "eth0", 62, "10.77.0.252/24")
	}},
	{name: "missing-script-and-notify", warnOnly: true, says: "/nonexistent/govrrp-chaos", start: true, make: func(valid string) string {
		return valid + routerBlock("hooked", "eth0", 62, "10.77.0.252/24") +
			"    notify: [/nonexistent/govrrp-chaos-notify]\n    track: {scripts: [{name: chk, weight: -10}]}\n" +
			"scripts:\n  chk: {exec: [/nonexistent/govrrp-chaos-check], interval: 1s}\n"
	}},
	{name: "unknown-control-group", start: true, make: func(valid string) string {
		return "control_group: nosuchgroup-chaos\n" + valid
	}},
	{name: "bad-metrics-port", start: true, make: func(valid string) string {
		return "metrics_listen: 127.0.0.1:99999\n" + valid
	}},
}

func init() {
	for _, m := range mistakes {
		cases = append(cases, chaosCase{name: "config-" + m.name, run: func(t *testing.T, r *result) { runMistake(t, r, m) }})
	}
}

func routerBlock(name, ifname string, vrid int, addr string) string {
	return fmt.Sprintf("  - name: %s\n    interface: %s\n    vrid: %d\n    version: 3\n    priority: 100\n    advert_interval: 100ms\n    addresses: [%s]\n", name, ifname, vrid, addr)
}

// header is the valid file up to and including "routers:".
func header(valid string) string {
	i := strings.Index(valid, "routers:\n")
	return valid[:i+len("routers:\n")]
}

// Bounds of one run, so that a mistake that costs gigabytes or minutes
// today ends the run, not the machine.
const (
	capRSS  = 1 << 30
	capTime = 30 * time.Second
)

// Promised bounds: what handling a bad file may cost.
const (
	boundTime  = 5 * time.Second
	boundRSS   = 256 << 20
	boundLines = 60       // about 50 errors, then a count
	boundLog   = 64 << 10 // bytes logged for one refused reload
)

// runMistake: one lone router r1 (Master of VR 51); the mistake through
// `govrrp validate` inside r1's namespace, then written over the running
// daemon's file and SIGHUP. Promise: validate refuses it (a missing
// interface: warns, exit 0), in bounded time, memory and output; the daemon
// refuses the reload (applies it, with the router in Fault, for a missing
// interface), keeps running as Master, keeps r1's own address, logs a
// bounded amount and returns to its memory.
func runMistake(t *testing.T, r *result, m mistake) {
	lan := lab.NewLAN(t, 1)
	r1 := lan.Nodes[0]
	dir := t.TempDir()
	g := interop.NewGovrrp(t, r1, dir, vr(200))
	g.Start(t)
	waitState(t, g, interop.Master, 10*time.Second)
	valid := g.Config()
	bad := m.make(valid)
	file := filepath.Join(dir, "mistake.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r.fig("file %s", size(int64(len(bad))))

	// validate, where the routers' interfaces are.
	v := runCapped(t, exec.Command("ip", "netns", "exec", r1.Name, bin.govrrp, "validate", file))
	// Sampled every 2 ms: a run of a few ms may end before its peak is seen.
	peakV := "none"
	if v.maxRSS > 0 {
		peakV = fmt.Sprintf("%.0f MiB", mib(v.maxRSS))
	}
	r.fig("validate: exit %d in %v, sampled peak RSS %s, %d lines (%s) of output%s", v.exit, v.took.Round(time.Millisecond), peakV, v.lines, size(v.bytes), v.killed)
	switch {
	case v.killed != "":
		r.broke(t, "validate had to be stopped%s", v.killed)
	case m.warnOnly && v.exit != 0:
		r.broke(t, "validate refused what should be a warning (exit %d): %s", v.exit, strings.TrimPrefix(firstLine(v.head), dir+"/"))
	case !strings.Contains(v.head, m.says):
		r.broke(t, "validate did not name %q: %s", m.says, v.head)
	case !m.warnOnly && v.exit == 0:
		r.broke(t, "validate said OK")
	}
	if v.took > boundTime || v.maxRSS<<10 > boundRSS || v.lines > boundLines {
		r.broke(t, "validate took %v, %.0f MiB, %d lines (bounds %v, %d MiB, %d lines)", v.took.Round(time.Millisecond), mib(v.maxRSS), v.lines, boundTime, boundRSS>>20, boundLines)
	}

	// The same through SIGHUP.
	pid := g.Proc().PID()
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // VmHWM := VmRSS
	before := usageOf(g)
	lw := &logWatch{path: g.LogPath(), off: fileSize(g.LogPath())}
	logStart := lw.off
	writeAtomic(t, g.ConfigPath(), bad)
	t0 := time.Now()
	if err := g.Proc().Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	outcome, killed := "", ""
	var peak uint64
	lab.Poll(capTime, 20*time.Millisecond, func() bool {
		if !g.Running() {
			outcome = "daemon exited"
			return true
		}
		rss, _ := lab.StatusKB(pid, "VmRSS")
		if rss<<10 > capRSS {
			killed = fmt.Sprintf(" (stopped at the case's cap of %d MiB RSS)", capRSS>>20)
			g.Proc().KillGroup()
			outcome = "killed"
			return true
		}
		switch {
		case lw.find(refusedLog):
			outcome = "refused"
		case lw.find(appliedLog):
			outcome = "applied"
		}
		return outcome != ""
	})
	took := time.Since(t0)
	if outcome == "" {
		outcome = fmt.Sprintf("no answer in %v", capTime)
	}
	if g.Running() {
		peak, _ = lab.StatusKB(pid, "VmHWM")
	}
	time.Sleep(2 * time.Second) // what the reload started (a new router) settles
	after := usageOf(g)
	logged := fileSize(g.LogPath()) - logStart
	addrKept := strings.Contains(r1.MustIP(t, "-o", "addr", "show", "dev", "eth0"), " "+ownAddr+"/")
	st, _ := g.State(key)
	r.fig("SIGHUP: %s after %v%s, peak RSS %.0f MiB (%.0f before, %.0f 2 s after), %s logged; own address %s; VR 51 %v",
		outcome, took.Round(time.Millisecond), killed, mib(peak), mib(before.rss), mib(after.rss), size(logged), kept(addrKept), st)

	if !addrKept {
		r.broke(t, "r1's own address %s is gone", ownAddr)
		r1.MustIP(t, "addr", "replace", ownAddr+"/24", "dev", "eth0")
	}
	if !g.Running() || st != interop.Master {
		r.broke(t, "the daemon did not keep running as Master (running %v, %v)", g.Running(), st)
	}
	switch {
	case m.warnOnly:
		if outcome != "applied" {
			r.broke(t, "the reload was %s, want applied", outcome)
		}
		if m.fault == "" {
			break
		}
		fault := "?"
		if d, err := g.Client().Router(context.Background(), m.fault); err == nil {
			fault = d.State
		}
		if fault != "Fault" {
			r.broke(t, "router %s %s after the reload; want it in Fault", m.fault, fault)
		}
	case outcome != "refused":
		r.broke(t, "the reload was %s, want refused", outcome)
	}
	if took > boundTime || peak<<10 > boundRSS || logged > boundLog {
		r.broke(t, "the reload took %v, %.0f MiB, logged %s (bounds %v, %d MiB, %s)", took.Round(time.Millisecond), mib(peak), size(logged), boundTime, boundRSS>>20, size(boundLog))
	}
	if g.Running() && after.rss > before.rss+16<<10 {
		r.broke(t, "RSS stayed up after the reload: %.0f→%.0f MiB", mib(before.rss), mib(after.rss))
	}
	if m.start {
		startWith(t, r, m, g, file)
	}
}

// startWith stops g and starts govrrpd on the mistake instead (same control
// socket), watching r1's own address every 10 ms for 1.5 s.
func startWith(t *testing.T, r *result, m mistake, g *interop.Govrrp, file string) {
	g.Stop(t)
	r1 := g.Node()
	if !strings.Contains(r1.MustIP(t, "-o", "addr", "show", "dev", "eth0"), " "+ownAddr+"/") {
		r1.MustIP(t, "addr", "replace", ownAddr+"/24", "dev", "eth0")
	}
	p := lab.StartProc(t, r1, "govrrpd on the mistake", filepath.Join(filepath.Dir(file), "start.log"), bin.govrrpd, "-c", file)
	lost := false
	end := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(end) {
		if !strings.Contains(r1.MustIP(t, "-o", "addr", "show", "dev", "eth0"), " "+ownAddr+"/") {
			lost = true
		}
		time.Sleep(10 * time.Millisecond)
	}
	running := p.Running()
	fault := "Fault"
	if m.fault != "" {
		fault = "?"
		if d, err := g.Client().Router(context.Background(), m.fault); err == nil {
			fault = d.State
		}
	}
	out, _ := os.ReadFile(filepath.Join(filepath.Dir(file), "start.log"))
	outcome := "refused"
	if running {
		outcome = "ran"
	}
	r.fig("start: %s (%s logged); own address %s", outcome, size(int64(len(out))), kept(!lost))
	p.Stop(t, syscall.SIGTERM)
	if lost {
		r.broke(t, "govrrpd started on the file deleted r1's own address %s", ownAddr)
	}
	switch {
	case m.warnOnly && (!running || fault != "Fault"):
		r.broke(t, "govrrpd did not start, or not with router %s in Fault (running %v, %s)", m.fault, running, fault)
	case !m.warnOnly && running:
		r.broke(t, "govrrpd started on the file")
	}
}

func kept(ok bool) string {
	if ok {
		return "kept"
	}
	return "**deleted**"
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// capped is a command run under the case's caps.
type capped struct {
	exit   int
	took   time.Duration
	maxRSS uint64 // KiB, sampled; 0 when the run was too short to sample
	bytes  int64
	lines  int
	head   string // the start of the output
	killed string // why it was stopped, "" if it ended by itself
}

// counter counts output and keeps its start.
type counter struct {
	c    *capped
	head bytes.Buffer
}

func (w *counter) Write(p []byte) (int, error) {
	w.c.bytes += int64(len(p))
	w.c.lines += bytes.Count(p, []byte("\n"))
	if n := 4096 - w.head.Len(); n > 0 {
		w.head.Write(p[:min(n, len(p))])
	}
	return len(p), nil
}

// runCapped runs cmd and stops it at capRSS or capTime. `ip netns exec`
// execs in place, so the pid becomes the program's. Its peak RSS is sampled
// from /proc (VmHWM) every 2 ms: the kernel's own figure (wait4's maxrss)
// counts the test binary's memory, which a vfork child shares until exec.
func runCapped(t *testing.T, cmd *exec.Cmd) capped {
	t.Helper()
	var c capped
	w := &counter{c: &c}
	cmd.Stdout, cmd.Stderr = w, w
	prog := filepath.Base(cmd.Args[len(cmd.Args)-3]) // ip netns exec NS PROG verb FILE
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != prog {
				continue // still ip, or gone
			}
			hwm, _ := lab.StatusKB(pid, "VmHWM")
			c.maxRSS = max(c.maxRSS, hwm)
			switch {
			case hwm<<10 > capRSS:
				c.killed = fmt.Sprintf(" (stopped at the case's cap of %d MiB RSS)", capRSS>>20)
			case time.Since(t0) > capTime:
				c.killed = fmt.Sprintf(" (stopped at the case's cap of %v)", capTime)
			default:
				continue
			}
			_ = cmd.Process.Kill()
			return
		}
	}()
	_ = cmd.Wait()
	close(done)
	<-watched
	c.took = time.Since(t0)
	c.exit = cmd.ProcessState.ExitCode()
	c.head = w.head.String()
	return c
}

// logWatch searches what a log gains, without rereading it.
type logWatch struct {
	path string
	off  int64
}

// find reports whether re matches what was appended since the last call
// (with an overlap, so a match across two reads is found).
func (l *logWatch) find(re *regexp.Regexp) bool {
	s := readFrom(l.path, l.off)
	if re.MatchString(s) {
		return true
	}
	l.off += int64(max(0, len(s)-256))
	return false
}
