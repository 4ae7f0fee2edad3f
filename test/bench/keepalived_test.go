package bench

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// How keepalived is started. The bench used to run it with -l (log to the
// console, here a file) and count only the VRRP child; an operator runs
// `keepalived --dont-fork` from systemd, logging to syslog (there is no
// /dev/log in these namespaces, so the plain run logs nowhere), and pays for
// both processes. kaPlain is what every case uses; the other modes exist for
// the keepalived-modes case, which measures the difference.
const (
	kaPlain   = "plain"          // -n -P -f C -p P -r R
	kaConsole = "console"        // -n -l -P ... (the bench before)
	kaDetail  = "console+detail" // -n -l -P -D ... (test/interop)
)

func kaArgs(mode string) []string {
	switch mode {
	case kaConsole:
		return []string{"-n", "-l", "-P"}
	case kaDetail:
		return []string{"-n", "-l", "-P", "-D"}
	}
	return []string{"-n", "-P"}
}

// kaVR is one vrrp_instance of a bench keepalived.
type kaVR struct {
	ifc, vrid, prio int
	interval        time.Duration
	vip             netip.Prefix
}

func kaInstance(v kaVR) string { return fmt.Sprintf("VI_%d_%d", v.ifc, v.vrid) }

// kaPeer is keepalived for the bench: instances on any interface, started
// in one of the modes above, with state and transitions taken from the
// notify FIFO (a plain run has no log to read). It implements interop.Peer
// (VRs on eth0 only, IPv4) and scaleDaemon.
type kaPeer struct {
	name string
	node *lab.Node
	dir  string
	mode string
	vrs  []kaVR

	proc *lab.Proc
	fifo *os.File

	mu     sync.Mutex
	states map[string]string // instance -> MASTER | BACKUP | FAULT ...
	lines  int               // state changes read from the FIFO
	mark   int
}

func newKaPeer(t testing.TB, nd *lab.Node, dir, mode string, vrs []kaVR) *kaPeer {
	t.Helper()
	short := nd.Short
	k := &kaPeer{name: short + "/keepalived", node: nd, dir: filepath.Join(dir, short+"-keepalived"), mode: mode, vrs: vrs,
		states: map[string]string{}}
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *kaPeer) path(f string) string { return filepath.Join(k.dir, f) }

func (k *kaPeer) config() string {
	var b strings.Builder
	// The same announcement settings as govrrpd's (one GARP, no delay, no
	// refresh), so neither pays for extra packets.
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  vrrp_version 3\n  vrrp_notify_fifo %s\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n  vrrp_garp_master_refresh 0\n  vrrp_garp_lower_prio_repeat 1\n}\n",
		strings.ReplaceAll(k.name, "/", "-"), k.path("notify.fifo"))
	for _, v := range k.vrs {
		fmt.Fprintf(&b, "vrrp_instance %s {\n  state BACKUP\n  interface eth%d\n  virtual_router_id %d\n  priority %d\n  advert_int %s\n  virtual_ipaddress {\n    %s\n  }\n}\n",
			kaInstance(v), v.ifc, v.vrid, v.prio, strconv.FormatFloat(v.interval.Seconds(), 'f', -1, 64), v.vip)
	}
	return b.String()
}

// Name implements interop.Peer.
func (k *kaPeer) Name() string { return k.name }

// Node implements interop.Peer.
func (k *kaPeer) Node() *lab.Node { return k.node }

// VRs implements interop.Peer: the eth0 instances.
func (k *kaPeer) VRs() []interop.VR {
	var out []interop.VR
	for _, v := range k.vrs {
		if v.ifc == 0 {
			out = append(out, interop.VR{VRID: uint8(v.vrid), Version: 3, Family: interop.IPv4, Priority: uint8(v.prio), Interval: v.interval, VIPs: []netip.Prefix{v.vip}})
		}
	}
	return out
}

// Start implements interop.Peer.
func (k *kaPeer) Start(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(k.path("keepalived.conf"), []byte(k.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	k.openFIFO(t)
	for _, f := range []string{"keepalived.pid", "vrrp.pid"} {
		_ = os.Remove(k.path(f))
	}
	k.mu.Lock()
	clear(k.states)
	k.mu.Unlock()
	argv := append([]string{"keepalived"}, kaArgs(k.mode)...)
	argv = append(argv, "-f", k.path("keepalived.conf"), "-p", k.path("keepalived.pid"), "-r", k.path("vrrp.pid"))
	k.proc = lab.StartProc(t, k.node, k.name, k.path("keepalived.log"), argv...)
	if !lab.Poll(20*time.Second, 10*time.Millisecond, func() bool { return k.pid() != 0 || !k.proc.Running() }) || !k.proc.Running() {
		t.Fatalf("%s did not start:\n%s", k.name, lab.Tail(lab.ReadFile(k.path("keepalived.log")), 30))
	}
}

// openFIFO reads the notify FIFO for the test's life.
func (k *kaPeer) openFIFO(t testing.TB) {
	if k.fifo != nil {
		return
	}
	k.fifo = interop.NotifyFIFO(t, k.path("notify.fifo"), func(line string) {
		name, state, ok := interop.NotifyState(line)
		if !ok {
			return
		}
		k.mu.Lock()
		if k.states[name] != state {
			k.states[name] = state
			k.lines++
		}
		k.mu.Unlock()
	}, nil)
}

// pid is the VRRP child's, 0 until it wrote its pid file.
func (k *kaPeer) pid() int {
	p, err := readPidFile(k.path("vrrp.pid"))
	if err != nil {
		return 0
	}
	return p
}

func (k *kaPeer) parentPID() int { return k.proc.PID() }

// Stop implements interop.Peer: SIGTERM to the parent, which stops the VRRP
// child (priority-0 adverts, VIPs removed).
func (k *kaPeer) Stop(t testing.TB) {
	if k.proc != nil {
		k.proc.Stop(t, syscall.SIGTERM)
	}
	k.mu.Lock()
	clear(k.states)
	k.mu.Unlock()
}

func (k *kaPeer) stop(t testing.TB)  { k.Stop(t) }
func (k *kaPeer) start(t *testing.T) { k.Start(t) }

// Kill implements interop.Peer.
func (k *kaPeer) Kill(t testing.TB) {
	if k.proc != nil {
		k.proc.Kill(t)
	}
	k.mu.Lock()
	clear(k.states)
	k.mu.Unlock()
}

// Running implements interop.Peer.
func (k *kaPeer) Running() bool { return k.proc != nil && k.proc.Running() }

// State implements interop.Peer (eth0, IPv4).
func (k *kaPeer) State(key interop.VRKey) (interop.State, error) {
	if !k.Running() {
		return interop.Unknown, fmt.Errorf("%s: not running", k.name)
	}
	if key.Family != interop.IPv4 {
		return interop.Unknown, fmt.Errorf("%s: IPv4 only", k.name)
	}
	k.mu.Lock()
	st := k.states[fmt.Sprintf("VI_0_%d", key.VRID)]
	k.mu.Unlock()
	switch st {
	case "MASTER":
		return interop.Master, nil
	case "BACKUP":
		return interop.Backup, nil
	case "FAULT":
		return interop.Fault, nil
	}
	return interop.Unknown, nil
}

// SetPriority implements interop.Peer; the benchmark never changes priorities.
func (k *kaPeer) SetPriority(t testing.TB, vrid, prio uint8) {
	t.Fatalf("%s: SetPriority is not used by the benchmark", k.name)
}

// Source implements interop.Peer.
func (k *kaPeer) Source(key interop.VRKey) (netip.Addr, error) { return k.node.V4.Addr(), nil }

// Logs implements interop.Peer.
func (k *kaPeer) Logs() string { b, _ := os.ReadFile(k.path("keepalived.log")); return string(b) }

// Dump implements interop.Peer.
func (k *kaPeer) Dump() string {
	m, b, _ := k.counts()
	return fmt.Sprintf("%d MASTER, %d BACKUP of %d instances (notify FIFO)", m, b, len(k.vrs))
}

func (k *kaPeer) counts() (m, b int, err error) {
	if !k.Running() {
		return 0, 0, fmt.Errorf("%s: not running", k.name)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.states {
		switch s {
		case "MASTER":
			m++
		case "BACKUP":
			b++
		}
	}
	return m, b, nil
}

func (k *kaPeer) markWindow() {
	k.mu.Lock()
	k.mark = k.lines
	k.mu.Unlock()
}

func (k *kaPeer) transitionsSinceMark() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lines - k.mark
}
