package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Prefix starts the name of every namespace the lab creates and of the
// demo's directories; the pid of the creating process follows
// ("gvlab1234-1-r1"), so concurrent runs never collide and leftovers of dead
// runs, whoever started them, are recognisable.
const Prefix = "gvlab"

// KeptMarker, a file in a lab's directory, says the lab was kept on purpose
// (the demo's --keep): the sweep of dead runs leaves it alone, Clean removes it.
const KeptMarker = "KEPT"

var (
	regMu    sync.Mutex
	registry = map[string]bool{} // live namespaces, for the signal handler
	sigOnce  sync.Once
	hooks    = map[uint64]func(){} // OnInterrupt callbacks, under regMu
	hookSeq  uint64
)

// OnInterrupt registers fn to run when the test binary is interrupted
// (SIGINT/SIGTERM), before the namespaces are removed: t.Cleanup does not run
// then, so tests that start processes inside namespaces register their
// killing here (Proc does). The returned function unregisters fn; call it
// once the processes are gone.
func OnInterrupt(fn func()) (remove func()) {
	regMu.Lock()
	defer regMu.Unlock()
	hookSeq++
	id := hookSeq
	hooks[id] = fn
	return func() {
		regMu.Lock()
		defer regMu.Unlock()
		delete(hooks, id)
	}
}

func register(name string, live bool) {
	regMu.Lock()
	defer regMu.Unlock()
	if live {
		registry[name] = true
	} else {
		delete(registry, name)
	}
}

func deleteNS(name string) {
	// Deleting the namespace destroys its veths (and their peers) and
	// bridges.
	_ = exec.Command("ip", "netns", "del", name).Run()
	register(name, false)
}

func sortBridgeFirst(names []string, bridge string) []string {
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == bridge) != (names[j] == bridge) {
			return names[i] == bridge
		}
		return names[i] < names[j]
	})
	return names
}

// installSignalCleanup removes every live namespace when the test binary is
// interrupted; t.Cleanup does not run then. Only NewLAN installs it: the
// demo handles its signals itself.
func installSignalCleanup() {
	sigOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			s := <-c
			regMu.Lock()
			names := make([]string, 0, len(registry))
			for n := range registry {
				names = append(names, n)
			}
			fns := make([]func(), 0, len(hooks))
			for _, fn := range hooks {
				fns = append(fns, fn)
			}
			regMu.Unlock()
			for _, fn := range fns {
				fn()
			}
			for _, n := range names {
				KillNSProcesses(n, 0)
				deleteNS(n)
			}
			fmt.Fprintf(os.Stderr, "lab: %v: removed %d namespaces\n", s, len(names))
			os.Exit(1)
		}()
	})
}

// KillNSProcesses stops every process inside namespace name (daemons a test
// or a demo started there, which would otherwise outlive it): SIGTERM, up
// to grace for them to exit, then SIGKILL for what remains; with no grace
// SIGKILL at once.
func KillNSProcesses(name string, grace time.Duration) {
	pids := func() []int {
		out, err := exec.Command("ip", "netns", "pids", name).Output()
		if err != nil {
			return nil
		}
		var ps []int
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
				ps = append(ps, pid)
			}
		}
		return ps
	}
	ps := pids()
	if len(ps) == 0 {
		return
	}
	if grace > 0 {
		for _, p := range ps {
			_ = syscall.Kill(p, syscall.SIGTERM)
		}
		for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ps = pids(); len(ps) == 0 {
				return
			}
		}
	}
	for _, p := range ps {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// LabInfo describes the namespaces and directories of one run found on the
// machine.
type LabInfo struct {
	Base       string   // gvlab<pid>
	PID        int      // of the run that made it
	Namespaces []string // its namespaces
	Dirs       []string // its directories under the temp dir
	Kept       bool     // left up on purpose (the demo's --keep)
	Running    bool     // the process still runs
}

// ParseBase splits "gvlab1234-1-r1" into its run's base "gvlab1234" and pid.
func ParseBase(name string) (base string, pid int, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found {
		return "", 0, false
	}
	digits, _, found := strings.Cut(rest, "-")
	if !found || digits == "" {
		return "", 0, false
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 || strconv.Itoa(pid) != digits {
		return "", 0, false
	}
	return Prefix + digits, pid, true
}

// processAlive: EPERM means it runs, as another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// FindLabs lists the runs with leftovers on the machine: namespaces and
// temporary directories named Prefix<pid>-..., grouped by run.
func FindLabs() []LabInfo {
	byBase := map[string]*LabInfo{}
	get := func(base string, pid int) *LabInfo {
		if li, ok := byBase[base]; ok {
			return li
		}
		li := &LabInfo{Base: base, PID: pid, Running: pid != os.Getpid() && processAlive(pid)}
		byBase[base] = li
		return li
	}
	if ents, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range ents {
			if base, pid, ok := ParseBase(e.Name()); ok {
				li := get(base, pid)
				li.Namespaces = append(li.Namespaces, e.Name())
			}
		}
	}
	if dirs, err := filepath.Glob(filepath.Join(os.TempDir(), Prefix+"*-*")); err == nil {
		for _, d := range dirs {
			if base, pid, ok := ParseBase(filepath.Base(d)); ok {
				li := get(base, pid)
				li.Dirs = append(li.Dirs, d)
				if _, err := os.Stat(filepath.Join(d, KeptMarker)); err == nil {
					li.Kept = true
				}
			}
		}
	}
	out := make([]LabInfo, 0, len(byBase))
	for _, li := range byBase {
		out = append(out, *li)
	}
	slices.SortFunc(out, func(a, b LabInfo) int { return strings.Compare(a.Base, b.Base) })
	return out
}

// RemoveLab stops what runs in the run's namespaces (SIGTERM, then SIGKILL
// after grace), deletes the namespaces and its directories.
func RemoveLab(li LabInfo, grace time.Duration) {
	for _, n := range li.Namespaces {
		KillNSProcesses(n, grace)
	}
	for _, n := range li.Namespaces {
		deleteNS(n)
	}
	for _, d := range li.Dirs {
		_ = os.RemoveAll(d)
	}
}

// SweepStale removes the leftovers of earlier runs that died without
// cleaning up (killed with SIGKILL, say): runs whose process is gone and
// that were not kept on purpose. It returns what it removed.
func SweepStale() []LabInfo {
	var removed []LabInfo
	for _, li := range FindLabs() {
		if li.Running || li.Kept || li.PID == os.Getpid() {
			continue
		}
		RemoveLab(li, time.Second)
		removed = append(removed, li)
	}
	return removed
}

// Clean removes every lab that is kept or whose run is gone; runs still
// going are left alone.
func Clean() (removed []LabInfo) {
	for _, li := range FindLabs() {
		if li.PID == os.Getpid() || (li.Running && !li.Kept) {
			continue
		}
		RemoveLab(li, 2*time.Second)
		removed = append(removed, li)
	}
	return removed
}
