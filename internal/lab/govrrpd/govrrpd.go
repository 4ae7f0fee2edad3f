// Package govrrpd is the one harness that runs a govrrpd binary inside a
// lab node, for the namespace tests (test/e2e, test/interop, test/chaos,
// test/bench) and the demo (internal/demo):
//
//	ip netns exec NS govrrpd --config DIR/govrrpd.yaml
//
// with its output in DIR/govrrpd.log and its control API on
// DIR/govrrpd.sock (a unix socket is a file, so no namespace switch is needed
// to reach it). The configuration is the caller's: this package writes what
// it is given and puts the control socket first.
package govrrpd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
)

// Daemon is one govrrpd in a lab node.
type Daemon struct {
	Node   *lab.Node
	Name   string // for messages: "r1/govrrp"
	Bin    string // the govrrpd binary
	Args   []string
	Dir    string // its files
	Conf   string // Dir/govrrpd.yaml
	Sock   string // Dir/govrrpd.sock
	Log    string // Dir/govrrpd.log
	Client *api.Client
	// Proc options of the next start; StartT sets the test's.
	Options lab.ProcOptions
	// APIWait bounds LaunchT's wait for the control API (15 s when zero;
	// thousands of routers take longer).
	APIWait time.Duration

	proc *lab.Proc
}

// New prepares a daemon for nd with its files in dir (created).
func New(nd *lab.Node, name, bin, dir string) (*Daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &Daemon{Node: nd, Name: name, Bin: bin, Dir: dir,
		Conf: filepath.Join(dir, "govrrpd.yaml"), Sock: filepath.Join(dir, "govrrpd.sock"), Log: filepath.Join(dir, "govrrpd.log")}
	d.Client = api.NewClient(d.Sock)
	return d, nil
}

// Files names the daemon's files Dir/stem.{yaml,sock,log} instead
// (several daemons in one directory, as the demo has).
func (d *Daemon) Files(stem string) {
	d.Conf, d.Sock, d.Log = filepath.Join(d.Dir, stem+".yaml"), filepath.Join(d.Dir, stem+".sock"), filepath.Join(d.Dir, stem+".log")
	d.Client = api.NewClient(d.Sock)
}

// NewT is New for a test, failing it on error.
func NewT(t testing.TB, nd *lab.Node, name, bin, dir string) *Daemon {
	t.Helper()
	d, err := New(nd, name, bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Header is the top of every configuration: the control socket.
func (d *Daemon) Header() string { return "control_socket: " + d.Sock + "\n" }

// WriteConfig writes Header()+body to Conf; the daemon reads it at start and
// on SIGHUP or an API reload.
func (d *Daemon) WriteConfig(body string) error {
	return os.WriteFile(d.Conf, []byte(d.Header()+body), 0o644)
}

// Launch starts the daemon on Conf without waiting for it.
func (d *Daemon) Launch() error {
	if d.Running() {
		return errors.New(d.Name + ": already running")
	}
	argv := append([]string{d.Bin, "-c", d.Conf}, d.Args...)
	o := d.Options
	// A race-built daemon sleeps a second at exit by default, waiting for
	// other goroutines' reports: every SIGTERM stop would cost a second.
	o.Env = append(slices.Clip(o.Env), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	p, err := lab.StartProcess(d.Node, d.Name, d.Log, o, argv...)
	if err != nil {
		return err
	}
	d.proc = p
	return nil
}

// WaitAPI waits up to within until the control API answers; it fails at
// once when the daemon exits.
func (d *Daemon) WaitAPI(ctx context.Context, within time.Duration) error {
	var last error
	lab.Poll(within, 10*time.Millisecond, func() bool {
		if !d.Running() || ctx.Err() != nil {
			return true
		}
		_, last = d.Routers(ctx)
		return last == nil
	})
	switch {
	case !d.Running():
		return fmt.Errorf("%s exited (%s):\n%s", d.Name, d.proc.State(), d.LogTail(30))
	case ctx.Err() != nil:
		return ctx.Err()
	case last != nil:
		return fmt.Errorf("%s: API not up after %v: %v:\n%s", d.Name, within, last, d.LogTail(30))
	}
	return nil
}

// Start is WriteConfig, Launch and WaitAPI.
func (d *Daemon) Start(ctx context.Context, body string, within time.Duration) error {
	if err := d.WriteConfig(body); err != nil {
		return err
	}
	if err := d.Launch(); err != nil {
		return err
	}
	return d.WaitAPI(ctx, within)
}

// StartT starts the daemon for a test (with Options.Env kept): killed with the test binary and on
// interrupt, stopped (SIGTERM, exit code checked) and its log checked for
// panics and data races when the test ends, the log printed when it failed.
func (d *Daemon) StartT(t testing.TB, body string) {
	t.Helper()
	d.Options.DeathSignal, d.Options.OnInterrupt = syscall.SIGKILL, true
	if err := d.WriteConfig(body); err != nil {
		t.Fatal(err)
	}
	d.LaunchT(t)
}

// LaunchT is Launch and WaitAPI for a test, with StartT's clean-up.
func (d *Daemon) LaunchT(t testing.TB) {
	t.Helper()
	if err := d.Launch(); err != nil {
		t.Fatal(err)
	}
	p := d.proc
	t.Cleanup(func() {
		if p.Running() {
			if err := d.stop(p, 10*time.Second); err != nil {
				t.Error(err)
			}
		}
		if bad := d.CheckLog(); bad != "" {
			t.Errorf("%s: %q in %s", d.Name, bad, d.Log)
		}
		if t.Failed() {
			t.Logf("--- %s log (%s) ---\n%s", d.Name, d.Node.Name, d.LogTail(200))
		}
	})
	if err := d.WaitAPI(context.Background(), cmp.Or(d.APIWait, 15*time.Second)); err != nil {
		t.Fatal(err)
	}
}

// Proc is the running process (nil before the first start).
func (d *Daemon) Proc() *lab.Proc { return d.proc }

// PID is the daemon's pid (0 before the first start).
func (d *Daemon) PID() int {
	if d.proc == nil {
		return 0
	}
	return d.proc.PID()
}

// Running reports whether the process is alive.
func (d *Daemon) Running() bool { return d.proc != nil && d.proc.Running() }

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig syscall.Signal) error {
	if d.proc == nil {
		return errors.New(d.Name + ": not started")
	}
	return d.proc.Signal(sig)
}

// Stop sends SIGTERM (masters send priority 0 and release their addresses)
// and waits up to grace, then kills it. A clean stop exits 0 (the race
// detector makes it 66); anything else is an error.
func (d *Daemon) Stop(grace time.Duration) error {
	if !d.Running() {
		return nil
	}
	return d.stop(d.proc, grace)
}

func (d *Daemon) stop(p *lab.Proc, grace time.Duration) error {
	if !p.Terminate(syscall.SIGTERM, grace) {
		return fmt.Errorf("%s ignored SIGTERM for %v; killed", d.Name, grace)
	}
	if code := p.ExitCode(); code != 0 {
		return fmt.Errorf("%s exited %d after SIGTERM:\n%s", d.Name, code, d.LogTail(30))
	}
	return nil
}

// Kill SIGKILLs the daemon (no goodbye: the VIPs and VMAC devices stay) and
// waits for it.
func (d *Daemon) Kill() error {
	if d.proc == nil || d.proc.KillWait(lab.StopTimeout) {
		return nil
	}
	return fmt.Errorf("%s: still running %v after SIGKILL", d.Name, lab.StopTimeout)
}

// Logs is the daemon's log so far.
func (d *Daemon) Logs() string { return lab.ReadFile(d.Log) }

// LogTail is the last n lines of the log.
func (d *Daemon) LogTail(n int) string { return lab.Tail(d.Logs(), n) }

// CheckLog returns what in the log says the daemon crashed or raced ("" for
// nothing).
func (d *Daemon) CheckLog() string {
	log := d.Logs()
	for _, bad := range []string{"WARNING: DATA RACE", "panic:", "fatal error:", "SIGSEGV"} {
		if strings.Contains(log, bad) {
			return bad
		}
	}
	return ""
}

// Routers asks the API for every router's status.
func (d *Daemon) Routers(ctx context.Context) ([]api.RouterStatus, error) {
	if !d.Running() {
		return nil, errors.New(d.Name + ": not running")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return d.Client.Routers(ctx)
}

// Detail asks the API for one router's full view (counters, discards,
// transitions).
func (d *Daemon) Detail(name string) (api.RouterDetail, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return d.Client.Router(ctx, name)
}

// WaitState waits up to within until router name is in state (the API's
// spelling: Initialize, Backup, Master, Fault) and returns its detail.
func (d *Daemon) WaitState(name, state string, within time.Duration) (api.RouterDetail, error) {
	var det api.RouterDetail
	var err error
	if lab.Poll(within, 10*time.Millisecond, func() bool {
		det, err = d.Detail(name)
		return err == nil && det.State == state
	}) {
		return det, nil
	}
	if err != nil {
		return det, fmt.Errorf("%s: %s not %s within %v: %v", d.Name, name, state, within, err)
	}
	return det, fmt.Errorf("%s: %s is %s, not %s, after %v", d.Name, name, det.State, state, within)
}

// Usage is what the daemon uses: CPU time (seconds), resident memory (KiB).
type Usage struct {
	CPU float64
	RSS uint64
	At  time.Time
}

// Usage reads the daemon's CPU time and resident memory from /proc.
func (d *Daemon) Usage() Usage {
	u := Usage{At: time.Now()}
	if pid := d.PID(); pid != 0 {
		u.CPU, _ = lab.CPUSeconds(pid)
		u.RSS, _ = lab.StatusKB(pid, "VmRSS")
	}
	return u
}
