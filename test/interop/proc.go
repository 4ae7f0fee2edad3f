package interop

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

	"govrrp/internal/linux/netnstest"
)

// stopTimeout bounds a graceful stop before SIGKILL.
const stopTimeout = 5 * time.Second

// Proc is one process started inside a namespace with `ip netns exec`, which
// execs the program, so the pid is the program's. It leads its own process
// group (children such as keepalived's VRRP process share it), its output
// goes to a log file, and it is killed in t.Cleanup and on interrupt.
type Proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when Wait returned
	err     error         // Wait's result, valid after done
	unhook  func()
}

// StartProc starts argv in nd. The log file is appended to, so a restarted
// daemon keeps its history.
func StartProc(t testing.TB, nd *netnstest.Node, name, logPath string, argv ...string) *Proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s: ip netns exec %s %s\n", time.Now().Format("15:04:05.000"), nd.Name, strings.Join(argv, " "))
	cmd := exec.Command("ip", append([]string{"netns", "exec", nd.Name}, argv...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so Kill reaches the daemon's children at once;
	// Pdeathsig so a test binary killed with SIGKILL takes it along (the
	// next run's stale sweep catches daemons that changed uid).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	p := &Proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	p.unhook = netnstest.OnInterrupt(p.KillGroup)
	t.Cleanup(func() {
		if p.Running() {
			p.KillGroup()
			p.Wait(stopTimeout)
		}
		p.unhook()
	})
	return p
}

func (p *Proc) PID() int { return p.cmd.Process.Pid }

func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// KillGroup sends SIGKILL to the whole process group.
func (p *Proc) KillGroup() { _ = syscall.Kill(-p.PID(), syscall.SIGKILL) }

// Signal sends sig to the process itself.
func (p *Proc) Signal(sig syscall.Signal) error {
	if !p.Running() {
		return errors.New(p.name + ": not running")
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

// Stop sends sig, waits up to stopTimeout, then kills the group. It reports
// whether the process exited by itself.
func (p *Proc) Stop(t testing.TB, sig syscall.Signal) bool {
	t.Helper()
	if !p.Running() {
		return true
	}
	_ = p.Signal(sig)
	if p.Wait(stopTimeout) {
		// Children (keepalived's VRRP process) may still be leaving.
		p.waitGroupGone(stopTimeout)
		return true
	}
	t.Logf("%s: no exit %v after %v; SIGKILL", p.name, stopTimeout, sig)
	p.KillGroup()
	p.Wait(stopTimeout)
	return false
}

// Kill SIGKILLs the group and waits for the leader and its children.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if !p.Running() {
		return
	}
	p.KillGroup()
	if !p.Wait(stopTimeout) {
		t.Fatalf("%s: still running %v after SIGKILL", p.name, stopTimeout)
	}
	p.waitGroupGone(stopTimeout)
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

// readFile returns a file's content, or a note why not.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

// Poll calls cond every interval until it returns true or d passes; it
// reports whether cond became true. The tests that run daemons (interop,
// chaos, bench) wait with it.
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
