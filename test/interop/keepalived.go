package interop

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// Keepalived runs keepalived (2.2.7, VRRP only) in a router namespace:
//
//	ip netns exec NS keepalived -n -l -P -f DIR/keepalived.conf -p PID -r VRRP_PID
//
// One vrrp_instance per VR, named VI_<vrid>_<4|6>. State comes from the
// notify FIFO (vrrp_notify_fifo), which keepalived writes a line to on every
// transition: INSTANCE "VI_51_4" MASTER 150. The harness holds the FIFO open
// read-write for the peer's life, so keepalived never blocks on it.
type Keepalived struct {
	peerBase // mu also guards states and events

	states map[string]State // instance name -> last notified state
	events []string         // FIFO lines with receive times

	proc    *lab.Proc
	fifo    *os.File
	fifoEnd string // why the FIFO reader stopped, for Dump

	// Set before Start:
	Top   string // more top-level configuration after global_defs (vrrp_script blocks: keepalived ignores a track_script of a script defined later)
	Group string // more lines in each vrrp_sync_group (its track_script, track_interface)
	// conf, when set (UseConfig), is a keepalived.conf of the test's own
	// that Start runs unchanged instead of rendering the VRs.
	conf string
}

// UseConfig makes Start run conf as it is, a keepalived.conf the VRs only
// describe (with each instance's name in VR.Name). It has no notify FIFO,
// so states come from the log; SetPriority cannot rewrite it.
func (k *Keepalived) UseConfig(conf string) { k.conf = conf }

// NewKeepalived prepares a keepalived peer in nd, keeping its files under
// dir/<node>-keepalived. It fails the test for VRs keepalived cannot run.
func NewKeepalived(t testing.TB, nd *lab.Node, dir string, vrs ...VR) *Keepalived {
	t.Helper()
	testenv.RequireTool(t, "keepalived")
	checkVRs(t, "keepalived", vrs, func(v VR) string {
		switch {
		case v.AuthPass != "" && v.Version != 2:
			return "auth_pass needs VRRPv2"
		case v.PlainChecksum:
			// 2.2.7 always sends and expects the pseudo-header form
			// (v3_checksum_as_v2 came later).
			return "keepalived 2.2.7 has no plain-checksum (RFC 9568) setting"
		case v.V2Compat:
			return "keepalived has no v2/v3 interoperation mode (a VR is version 2 or 3)"
		case v.BFDMaster != "":
			return "keepalived's BFD is tracking only, no Master–Backup detection"
		}
		return ""
	})
	k := &Keepalived{}
	k.init(t, nd, "keepalived", vrs, dir, 0o755)
	return k
}

// instanceName is v's vrrp_instance: its own name, or VI_<vrid>_<4|6>.
func instanceName(v VR) string {
	if v.Name != "" {
		return v.Name
	}
	return fmt.Sprintf("VI_%d_%d", v.VRID, int(v.Family))
}

// Config renders keepalived.conf for the current VRs.
func (k *Keepalived) Config() string {
	if k.conf != "" {
		return k.conf
	}
	k.mu.Lock()
	vrs := append([]VR(nil), k.vrs...)
	k.mu.Unlock()
	var b strings.Builder
	ver := 3
	if len(vrs) > 0 {
		ver = vrs[0].Version
	}
	fmt.Fprintf(&b, `global_defs {
  router_id %s
  vrrp_version %d
  vrrp_notify_fifo %s
  vrrp_garp_master_delay 1
  vrrp_garp_master_repeat 3
  vrrp_garp_master_refresh 0
}
`, strings.ReplaceAll(k.name, "/", "-"), ver, k.path("notify.fifo"))
	b.WriteString(k.Top)
	for _, v := range vrs {
		fmt.Fprintf(&b, "\nvrrp_instance %s {\n", instanceName(v))
		fmt.Fprintf(&b, "  state BACKUP\n  interface %s\n", v.ifname())
		fmt.Fprintf(&b, "  virtual_router_id %d\n  priority %d\n  version %d\n", v.VRID, v.Priority, v.Version)
		fmt.Fprintf(&b, "  advert_int %s\n", secs(v.Interval))
		if v.Family == IPv6 {
			b.WriteString("  native_ipv6\n")
		}
		if v.NoPreempt {
			b.WriteString("  nopreempt\n")
		}
		if v.PreemptDelay > 0 {
			fmt.Fprintf(&b, "  preempt_delay %s\n", secs(v.PreemptDelay))
		}
		if v.VMAC {
			fmt.Fprintf(&b, "  use_vmac vrrp%d.%d\n", int(v.Family), v.VRID)
			if len(v.Unicast) > 0 {
				b.WriteString("  vmac_xmit_base\n")
			}
		}
		if v.AuthPass != "" {
			fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", v.AuthPass)
		}
		if v.Source.IsValid() && len(v.Unicast) > 0 {
			fmt.Fprintf(&b, "  unicast_src_ip %v\n", v.Source)
		} else if v.Source.IsValid() {
			fmt.Fprintf(&b, "  mcast_src_ip %v\n", v.Source)
		}
		if v.CheckUnicastSrc {
			b.WriteString("  check_unicast_src\n")
		}
		if len(v.Unicast) > 0 {
			b.WriteString("  unicast_peer {\n")
			for _, a := range v.Unicast {
				fmt.Fprintf(&b, "    %v\n", a)
			}
			b.WriteString("  }\n")
		}
		// IPv6: the virtual link-local first, as RFC 9568 §5.2.9 wants
		// (unless NoLinkLocal); keepalived drops adverts whose address
		// count differs from its own list, so both sides list the same.
		b.WriteString("  virtual_ipaddress {\n")
		for _, p := range v.addresses() {
			fmt.Fprintf(&b, "    %v\n", p)
		}
		b.WriteString("  }\n}\n")
	}
	names, members := syncGroups(vrs)
	for _, g := range names {
		fmt.Fprintf(&b, "\nvrrp_sync_group %s {\n  group {\n", g)
		for _, v := range members[g] {
			fmt.Fprintf(&b, "    %s\n", instanceName(v))
		}
		b.WriteString("  }\n" + k.Group + "}\n")
	}
	return b.String()
}

// secs formats d in seconds with the decimals keepalived accepts.
func secs(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", d.Seconds()), "0"), ".")
}

func (k *Keepalived) writeConfig(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(k.path("keepalived.conf"), []byte(k.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Start implements Peer.
func (k *Keepalived) Start(t testing.TB) {
	t.Helper()
	if k.Running() {
		t.Fatalf("%s: already running", k.name)
	}
	k.writeConfig(t)
	if k.conf == "" {
		k.openFIFO(t)
	}
	for _, f := range []string{"keepalived.pid", "vrrp.pid"} {
		_ = os.Remove(k.path(f))
	}
	k.proc = lab.StartProc(t, k.node, k.name, k.path("keepalived.log"),
		"keepalived", "-n", "-l", "-P", "-D",
		"-f", k.path("keepalived.conf"), "-p", k.path("keepalived.pid"), "-r", k.path("vrrp.pid"))
	// Running = the VRRP child has written its pid file.
	if !lab.Poll(10*time.Second, 10*time.Millisecond, func() bool {
		_, err := os.Stat(k.path("vrrp.pid"))
		return err == nil || !k.proc.Running()
	}) || !k.proc.Running() {
		t.Fatalf("%s did not start:\n%s", k.name, lab.Tail(lab.ReadFile(k.proc.LogPath), 30))
	}
}

// openFIFO creates the notify FIFO (once) and reads it until the test ends.
func (k *Keepalived) openFIFO(t testing.TB) {
	t.Helper()
	if k.fifo != nil {
		return
	}
	k.states = map[string]State{}
	k.fifo = NotifyFIFO(t, k.path("notify.fifo"), k.notified, func(err error) {
		k.mu.Lock()
		k.fifoEnd = fmt.Sprintf("reader stopped: %v", err)
		k.mu.Unlock()
	})
}

// NotifyFIFO creates keepalived's notify FIFO at path and hands each line
// it reads to line until the test ends, then calls end (may be nil) with
// the reader's error. It is opened O_RDWR: open never blocks, and the
// reader never sees EOF between keepalived runs.
func NotifyFIFO(t testing.TB, path string, line func(string), end func(error)) *os.File {
	t.Helper()
	if err := unix.Mkfifo(path, 0o600); err != nil && err != unix.EEXIST {
		t.Fatalf("mkfifo: %v", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line(sc.Text())
		}
		if end != nil {
			end(sc.Err())
		}
	}()
	t.Cleanup(func() { f.Close(); <-done })
	return f
}

// notified records one FIFO line: TYPE "NAME" STATE PRIORITY.
func (k *Keepalived) notified(line string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, time.Now().Format("15:04:05.000")+" "+line)
	name, state, ok := NotifyState(line)
	if !ok {
		return
	}
	st := Unknown
	switch state {
	case "MASTER":
		st = Master
	case "BACKUP":
		st = Backup
	case "FAULT":
		st = Fault
	}
	k.states[name] = st
}

// Notified is every line keepalived wrote to its notify FIFO, in order,
// since the harness opened it: TYPE "NAME" STATE PRIORITY. keepalived writes
// them itself, one at a time, whereas it forks notify scripts without
// waiting, so their calls may land in another order.
func (k *Keepalived) Notified() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(k.events))
	for i, e := range k.events {
		_, out[i], _ = strings.Cut(e, " ") // the receive time
	}
	return out
}

// NotifyState parses a line of keepalived's notify FIFO, `INSTANCE "NAME"
// STATE PRIORITY`, into the instance and its new state (MASTER, BACKUP,
// FAULT or STOP). Lines that are events, not states (MASTER_RX_LOWER_PRI:
// a Master heard a lower priority), and other types report !ok: reading
// one as a state made a running Master look Unknown.
func NotifyState(line string) (name, state string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "INSTANCE" {
		return "", "", false
	}
	switch f[2] {
	case "MASTER", "BACKUP", "FAULT", "STOP":
		return strings.Trim(f[1], `"`), f[2], true
	}
	return "", "", false
}

// Stop implements Peer: SIGTERM; keepalived's VRRP process sends priority 0
// and removes its VIPs.
func (k *Keepalived) Stop(t testing.TB) {
	t.Helper()
	if k.proc != nil {
		k.proc.Stop(t, syscall.SIGTERM)
	}
	k.forget()
}

// Kill implements Peer: SIGKILL to the parent and its VRRP process at once
// (one process group), so the parent cannot respawn the child.
func (k *Keepalived) Kill(t testing.TB) {
	t.Helper()
	if k.proc != nil {
		k.proc.Kill(t)
	}
	k.forget()
}

func (k *Keepalived) forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.states)
}

// Running implements Peer.
func (k *Keepalived) Running() bool { return k.proc != nil && k.proc.Running() }

// State implements Peer, from the notify FIFO; until the FIFO has said
// anything about the instance, from the log of the running process.
func (k *Keepalived) State(key VRKey) (State, error) {
	if !k.Running() {
		return Unknown, fmt.Errorf("%s: not running", k.name)
	}
	k.mu.Lock()
	var name string
	for _, v := range k.vrs {
		if v.Key() == key {
			name = instanceName(v)
		}
	}
	st, ok := k.states[name]
	k.mu.Unlock()
	if name == "" {
		return Unknown, fmt.Errorf("%s: no %v", k.name, key)
	}
	if ok {
		return st, nil
	}
	return k.logState(name), nil
}

// logState is the state of the last "(NAME) Entering X STATE" line the
// current process logged.
func (k *Keepalived) logState(name string) State {
	log := lab.ReadFile(k.path("keepalived.log"))
	if i := strings.LastIndex(log, "\n=== "); i >= 0 {
		log = log[i:] // this run only (startProc marks each start)
	}
	st := Unknown
	for _, line := range strings.Split(log, "\n") {
		_, rest, ok := strings.Cut(line, "("+name+") Entering ")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "MASTER STATE"):
			st = Master
		case strings.HasPrefix(rest, "BACKUP STATE"):
			st = Backup
		case strings.HasPrefix(rest, "FAULT STATE"):
			st = Fault
		}
	}
	return st
}

// SetPriority implements Peer: rewrite the config and reload (SIGHUP). The
// reload is asynchronous; callers wait for its effect on the wire or state.
func (k *Keepalived) SetPriority(t testing.TB, vrid uint8, prio uint8) {
	t.Helper()
	if k.conf != "" {
		t.Fatalf("%s: SetPriority on a keepalived.conf of the test's own", k.name)
	}
	k.setPriority(vrid, prio)
	k.writeConfig(t)
	if err := k.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("%s: reload: %v", k.name, err)
	}
}

// Source implements Peer: eth0's primary IPv4 address, or its link-local
// (the VMAC macvlan's copy of it with use_vmac, which is the same address).
func (k *Keepalived) Source(key VRKey) (netip.Addr, error) {
	for _, v := range k.VRs() {
		if v.Key() == key && v.Source.IsValid() {
			return v.Source, nil // unicast_src_ip, mcast_src_ip
		}
	}
	if key.Family == IPv4 {
		return k.node.V4.Addr(), nil
	}
	dev, err := k.node.Handle.LinkByName("eth0")
	if err != nil {
		return netip.Addr{}, err
	}
	return ownLinkLocal(k.node, dev, key.VRID)
}

// Logs implements Peer.
func (k *Keepalived) Logs() string { return lab.ReadFile(k.path("keepalived.log")) }

// Dump implements Peer: notify events and the addresses keepalived put on
// the interfaces.
func (k *Keepalived) Dump() string {
	k.mu.Lock()
	ev := lab.Tail(strings.Join(k.events, "\n"), 10)
	if k.fifoEnd != "" {
		ev += "\n" + k.fifoEnd
	}
	k.mu.Unlock()
	addrs, err := k.node.IP("-br", "addr")
	if err != nil {
		addrs = err.Error()
	}
	return "notify events:\n" + indent(ev, "  ") + "\naddresses:\n" + indent(addrs, "  ")
}
