package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/linux/netnstest"
)

// daemonProc is one daemon started in a namespace with `ip netns exec` (which
// execs it: the pid is the daemon's), leading its own process group, output
// appended to a log file, killed in t.Cleanup and on interrupt.
type daemonProc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

func startDaemon(t testing.TB, nd *netnstest.Node, name, logPath string, argv ...string) *daemonProc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s: ip netns exec %s %s\n", time.Now().Format("15:04:05.000"), nd.Name, strings.Join(argv, " "))
	cmd := exec.Command("ip", append([]string{"netns", "exec", nd.Name}, argv...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p := &daemonProc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	unhook := netnstest.OnInterrupt(p.killGroup)
	t.Cleanup(func() {
		if p.running() {
			p.killGroup()
			p.wait(5 * time.Second)
		}
		unhook()
	})
	return p
}

func (p *daemonProc) pid() int { return p.cmd.Process.Pid }

func (p *daemonProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *daemonProc) killGroup() { _ = syscall.Kill(-p.pid(), syscall.SIGKILL) }

func (p *daemonProc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop sends sig, waits, then kills the group.
func (p *daemonProc) stop(sig syscall.Signal) {
	if !p.running() {
		return
	}
	_ = syscall.Kill(p.pid(), sig)
	if !p.wait(10 * time.Second) {
		p.killGroup()
		p.wait(5 * time.Second)
	}
	// keepalived's VRRP child may still be leaving.
	deadline := time.Now().Add(5 * time.Second)
	for groupAlive(p.pid()) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	p.killGroup()
}

// groupAlive reports whether a live (non-zombie) process of group pgid exists.
func groupAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		st, err := readStat(e.Name())
		if err == nil && st.state != "Z" && st.pgrp == pgid {
			return true
		}
	}
	return false
}

type procStat struct {
	state        string
	pgrp         int
	utime, stime uint64 // clock ticks
}

func readStat(pid string) (procStat, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: no comm", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: short", pid)
	}
	var st procStat
	st.state = f[0]
	st.pgrp, _ = strconv.Atoi(f[2])
	st.utime, _ = strconv.ParseUint(f[11], 10, 64)
	st.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return st, nil
}

// clkTck is USER_HZ; 100 on every Linux architecture Go supports here.
const clkTck = 100

// cpuSeconds is utime+stime of pid (all its threads) in seconds.
func cpuSeconds(pid int) (float64, error) {
	st, err := readStat(strconv.Itoa(pid))
	if err != nil {
		return 0, err
	}
	return float64(st.utime+st.stime) / clkTck, nil
}

// statusKB reads a "Key:   123 kB" line of /proc/PID/status.
func statusKB(pid int, key string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func poll(d, every time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
}
