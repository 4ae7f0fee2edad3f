package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StopTimeout bounds a graceful stop before SIGKILL.
const StopTimeout = 5 * time.Second

// Proc is one process started inside a namespace with `ip netns exec`, which
// execs the program, so the pid is the program's. It leads its own process
// group (children such as keepalived's VRRP process share it, and a Ctrl-C
// at the terminal reaches only its starter), and its output is appended to a
// log file.
type Proc struct {
	Name    string // for messages, e.g. "r1/govrrp"
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when Wait returned
	err     error         // Wait's result, valid after done
	unhook  func()
}

// ProcOptions are the choices of StartProcess.
type ProcOptions struct {
	// DeathSignal is sent to the process when its starter dies (0: none).
	// Tests use SIGKILL, so a test binary killed with SIGKILL takes its
	// daemons along (the next run's sweep catches daemons that changed
	// uid); the demo SIGTERM, so they leave the LAN in order.
	DeathSignal syscall.Signal
	// OnInterrupt kills the process group when the test binary is
	// interrupted (see OnInterrupt).
	OnInterrupt bool
	// Env is added to the environment the process inherits (NOTIFY_SOCKET
	// for a daemon that talks to a pretend systemd).
	Env []string
}

// StartProcess starts argv in nd, its output appended to logPath (a
// restarted daemon keeps its history).
func StartProcess(nd *Node, name, logPath string, o ProcOptions, argv ...string) (*Proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer logf.Close() // the child has its own copy
	fmt.Fprintf(logf, "=== %s: ip netns exec %s %s\n", time.Now().Format("15:04:05.000"), nd.Name, strings.Join(argv, " "))
	cmd := exec.Command("ip", append([]string{"netns", "exec", nd.Name}, argv...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if o.Env != nil {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: o.DeathSignal}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start in %s: %w", name, nd.Name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{}), unhook: func() {}}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if o.OnInterrupt {
		p.unhook = OnInterrupt(p.KillGroup)
	}
	return p, nil
}

// StartProc is StartProcess for a test: it fails the test when the start
// fails, kills the process group on interrupt and when the test ends.
func StartProc(t testing.TB, nd *Node, name, logPath string, argv ...string) *Proc {
	t.Helper()
	return StartProcEnv(t, nd, name, logPath, nil, argv...)
}

// StartProcEnv is StartProc with env added to the process's environment.
func StartProcEnv(t testing.TB, nd *Node, name, logPath string, env []string, argv ...string) *Proc {
	t.Helper()
	p, err := StartProcess(nd, name, logPath, ProcOptions{DeathSignal: syscall.SIGKILL, OnInterrupt: true, Env: env}, argv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.Running() {
			p.KillGroup()
			p.Wait(StopTimeout)
		}
		p.unhook()
	})
	return p
}

// PID is the process's pid (the program's: ip netns exec execs it).
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the exit code once the process has exited (-1 by a signal or
// still running).
func (p *Proc) ExitCode() int {
	if p.Running() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// State describes how the process ended ("exit status 1"), or "running".
func (p *Proc) State() string {
	if p.Running() {
		return "running"
	}
	return p.cmd.ProcessState.String()
}

// KillGroup sends SIGKILL to the whole process group.
func (p *Proc) KillGroup() { _ = syscall.Kill(-p.PID(), syscall.SIGKILL) }

// Signal sends sig to the process itself.
func (p *Proc) Signal(sig syscall.Signal) error {
	if !p.Running() {
		return errors.New(p.Name + ": not running")
	}
	return syscall.Kill(p.PID(), sig)
}

// Wait waits for the exit, at most d.
func (p *Proc) Wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Terminate sends sig, waits up to grace, then kills the group. It reports
// whether the process exited by itself.
func (p *Proc) Terminate(sig syscall.Signal, grace time.Duration) bool {
	if !p.Running() {
		return true
	}
	_ = p.Signal(sig)
	if p.Wait(grace) {
		// Children (keepalived's VRRP process) may still be leaving.
		p.waitGroupGone(grace)
		p.unhook()
		return true
	}
	p.KillGroup()
	p.Wait(grace)
	p.unhook()
	return false
}

// Stop is Terminate with StopTimeout for a test, which it tells when the
// process had to be killed.
func (p *Proc) Stop(t testing.TB, sig syscall.Signal) bool {
	t.Helper()
	if p.Terminate(sig, StopTimeout) {
		return true
	}
	t.Logf("%s: no exit %v after %v; SIGKILL", p.Name, StopTimeout, sig)
	return false
}

// KillWait SIGKILLs the group and waits up to d for the leader and its
// children; it reports whether the leader is gone.
func (p *Proc) KillWait(d time.Duration) bool {
	if !p.Running() {
		return true
	}
	p.KillGroup()
	if !p.Wait(d) {
		return false
	}
	p.waitGroupGone(d)
	p.unhook()
	return true
}

// Kill is KillWait for a test, failing it when the process survives.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if !p.KillWait(StopTimeout) {
		t.Fatalf("%s: still running %v after SIGKILL", p.Name, StopTimeout)
	}
}

// waitGroupGone waits until no live process of the group is left (zombies
// whose reaper is slow do not count).
func (p *Proc) waitGroupGone(d time.Duration) {
	if !Poll(d, 5*time.Millisecond, func() bool { return !groupAlive(p.PID()) }) {
		p.KillGroup()
	}
}

// groupAlive reports whether a process of group pgid is alive (not a zombie).
func groupAlive(pgid int) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

// Logs is the process's log file, or a note why it cannot be read.
func (p *Proc) Logs() string { return ReadFile(p.LogPath) }

// ReadFile returns a file's content, or a note why not.
func ReadFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

// Tail is the last n lines of s, after a line that counts the others.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d earlier lines)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// Poll calls cond every interval until it returns true or d passes; it
// reports whether cond became true.
func Poll(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// ClkTck is USER_HZ; 100 on every Linux architecture Go supports here.
const ClkTck = 100

// CPUSeconds is utime+stime of pid (all its threads) in seconds.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no comm", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	return float64(utime+stime) / ClkTck, nil
}

// StatusKB reads a "Key:   123 kB" line of /proc/PID/status (VmRSS, VmHWM,
// Threads, ...).
func StatusKB(pid int, key string) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}
