package interop

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"govrrp/bfd"
	"govrrp/bfd/session"
	"govrrp/internal/bfdrun"
	"govrrp/internal/lab"
	"govrrp/internal/testenv"
)

// bfdChanges collects a runner's state changes; await consumes them per
// session, in order.
type bfdChanges struct {
	mu   sync.Mutex
	all  []bfdrun.Change
	seen map[string]int // per session: how far await has read all
}

func (c *bfdChanges) notify(ch bfdrun.Change) {
	c.mu.Lock()
	c.all = append(c.all, ch)
	c.mu.Unlock()
}

// await waits for the next change of session name to state to.
func (c *bfdChanges) await(t *testing.T, name string, to bfd.State, d time.Duration) bfdrun.Change {
	t.Helper()
	var got bfdrun.Change
	ok := lab.Poll(d, time.Millisecond, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i := c.seen[name]; i < len(c.all); i++ {
			if ch := c.all[i]; ch.Name == name {
				c.seen[name] = i + 1
				if ch.To == to {
					got = ch
					return true
				}
			}
		}
		return false
	})
	if !ok {
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Fatalf("%s: no change to %v within %v (seen %+v)", name, to, d, c.all)
	}
	return got
}

func (c *bfdChanges) count(name string, to bfd.State) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ch := range c.all {
		if ch.Name == name && ch.To == to {
			n++
		}
	}
	return n
}

func bfdStatus(t *testing.T, r *bfdrun.Runner, name string) bfdrun.Status {
	t.Helper()
	for _, s := range r.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no session %s", name)
	return bfdrun.Status{}
}

// Our BFD sessions against FRR 8.4's bfdd, IPv4 and IPv6 (fd77:: and
// link-local),
// 10 ms × 3 both ways:
//   - they come Up and both sides settle on 10 ms (FRR's `show bfd peers
//     json`) [5880-6.2] [5880-6.8.3];
//   - FRR changing its intervals Polls; we answer Final and follow
//     without going Down [5880-6.5];
//   - packets with TTL 254 are dropped and counted [5881-5];
//   - FRR's `shutdown` is AdminDown: we go Down with diag Neighbor
//     Signaled Down, not a failure [5882-3.2], and Up again after
//     `no shutdown`;
//   - bfdd killed: Down with Control Detection Time Expired, within the
//     detection time of its last packet [5880-6.8.4].
func TestBFDWithFRR(t *testing.T) {
	lan := lab.NewLAN(t, 2)
	us, them := lan.Nodes[0], lan.Nodes[1]
	dir := bfdDir(t)
	llUs, err := us.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	llThem, err := them.LinkLocal("eth0")
	if err != nil {
		t.Fatal(err)
	}
	frr := NewFRRBFD(t, them, dir, frrBFDConf(llUs))
	frr.Start(t)
	defer func() {
		if t.Failed() {
			t.Logf("bfdd:\n%s", frr.Logs())
		}
	}()

	sessions := []bfdrun.SessionConfig{
		{Name: "frr4", Interface: "eth0", Peer: them.V4.Addr(), Local: us.V4.Addr(), Config: fastBFD},
		{Name: "frr6", Interface: "eth0", Peer: them.V6.Addr(), Local: us.V6.Addr(), Config: fastBFD},
		{Name: "frr6ll", Interface: "eth0", Peer: llThem, Local: llUs, Config: fastBFD},
	}
	r, c := startBFD(t, us, sessions)

	// Both sides at 10 ms.
	for _, s := range sessions {
		if !lab.Poll(2*time.Second, 10*time.Millisecond, func() bool {
			p, err := frr.PeerState(s.Local.String())
			st := bfdStatus(t, r, s.Name)
			return err == nil && p.Status == "up" && p.TransmitInterval == 10 && p.ReceiveInterval == 10 &&
				p.RemoteTransmit == 10 && p.RemoteReceive == 10 && p.RemoteMultiplier == 3 &&
				st.TxInterval == 10*time.Millisecond && st.Detection == 30*time.Millisecond && !st.Polling
		}) {
			p, err := frr.PeerState(s.Local.String())
			t.Fatalf("%s: not settled at 10 ms: FRR %+v %v; us %+v", s.Name, p, err, bfdStatus(t, r, s.Name).Status)
		}
	}
	t.Logf("Up at 10 ms both ways, IPv4, IPv6 and IPv6 link-local")

	// FRR slows to 20 ms: a Poll; we answer Final and follow.
	if _, err := frr.Vtysh("configure terminal", "bfd", "peer 10.77.0.1 interface eth0", "transmit-interval 20", "receive-interval 20"); err != nil {
		t.Fatal(err)
	}
	if !lab.Poll(2*time.Second, 10*time.Millisecond, func() bool {
		st := bfdStatus(t, r, "frr4")
		p, err := frr.PeerState("10.77.0.1")
		return err == nil && p.Status == "up" && p.TransmitInterval == 20 && p.ReceiveInterval == 20 &&
			st.RemoteMinRx == 20*time.Millisecond && st.RemoteMinTx == 20*time.Millisecond &&
			st.TxInterval == 20*time.Millisecond && st.Detection == 60*time.Millisecond
	}) {
		p, _ := frr.PeerState("10.77.0.1")
		t.Fatalf("after FRR's Poll: us %+v, FRR %+v", bfdStatus(t, r, "frr4").Status, p)
	}
	if n := c.count("frr4", bfd.Down); n != 0 {
		t.Fatalf("went Down %d times during the Poll", n)
	}
	t.Logf("FRR's Poll to 20 ms answered: %+v", bfdStatus(t, r, "frr4").Status)

	// TTL 254 from FRR's namespace: dropped and counted.
	discr := bfdStatus(t, r, "frr4").LocalDiscr
	var buf [bfd.HeaderLen]byte
	(&bfd.Packet{State: bfd.Down, DetectMult: 3, MyDiscr: 99, YourDiscr: discr, DesiredMinTx: 1e6, RequiredMinRx: 1e6}).Encode(buf[:])
	them.MustDo(t, func() error { return sendUDPTTL(them.V4.Addr(), us.V4.Addr(), 254, buf[:], 3) })
	if !lab.Poll(time.Second, 10*time.Millisecond, func() bool { return r.Drops()["eth0/ipv4"]["ttl"] == 3 }) {
		t.Fatalf("TTL 254 drops: %v", r.Drops())
	}
	if st := bfdStatus(t, r, "frr4"); st.State != bfd.Up {
		t.Fatalf("a TTL 254 Down packet changed the session: %v", st.State)
	}

	// FRR's shutdown: AdminDown, not a failure.
	if _, err := frr.Vtysh("configure terminal", "bfd", "peer 10.77.0.1 interface eth0", "shutdown"); err != nil {
		t.Fatal(err)
	}
	ch := c.await(t, "frr4", bfd.Down, 2*time.Second)
	if ch.Diag != bfd.DiagNeighborDown || !ch.PeerAdminDown || ch.Failure {
		t.Fatalf("FRR's shutdown: %+v", ch)
	}
	// FRR 8.4 says state AdminDown with diag 0 on `shutdown`: the state,
	// not the diagnostic, is what tells (RFC 5880 §6.8.6).
	if st := bfdStatus(t, r, "frr4"); st.RemoteState != bfd.AdminDown || st.Failures != 0 {
		t.Fatalf("after FRR's shutdown: %+v", st.Status)
	}
	if _, err := frr.Vtysh("configure terminal", "bfd", "peer 10.77.0.1 interface eth0", "no shutdown"); err != nil {
		t.Fatal(err)
	}
	c.await(t, "frr4", bfd.Up, 5*time.Second)
	t.Logf("FRR's shutdown: Down, diag %v, peer admin down, not a failure; Up again after no shutdown", ch.Diag)

	// bfdd killed: detection.
	lab.Poll(time.Second, 10*time.Millisecond, func() bool { return !bfdStatus(t, r, "frr4").Polling })
	frr.Kill(t)
	detected(t, r, c, sessions, "bfdd")
}

// frrBFDConf is bfdd's configuration on router 2: sessions to router 1
// over IPv4 and IPv6 at 10 ms × 3;
// peers adds sessions to other addresses of router 1 (its link-local).
func frrBFDConf(peers ...netip.Addr) string {
	var b strings.Builder
	b.WriteString("bfd\n")
	for _, p := range append([]netip.Addr{netip.MustParseAddr("10.77.0.1"), netip.MustParseAddr("fd77::1")}, peers...) {
		fmt.Fprintf(&b, " peer %v", p)
		if p == netip.MustParseAddr("fd77::1") {
			b.WriteString(" local-address fd77::2")
		}
		b.WriteString(" interface eth0\n  receive-interval 10\n  transmit-interval 10\n  detect-multiplier 3\n !\n")
	}
	return b.String() + "!\n"
}

// govrrpd's top-level bfd sessions come up against FRR bfdd at 10 ms
// (FRR's `show bfd peers json`), IPv4 and IPv6; a reload slowing one to
// 20 ms goes through our Poll without a Down [5880-6.8.3], and one removing
// the other says AdminDown; so does govrrpd's SIGTERM, and FRR reports it
// as such [5880-6.8.16].
func TestBFDDaemonWithFRR(t *testing.T) {
	l := NewLab(t, 2)
	us, them := l.Routers[0], l.Routers[1]
	frr := NewFRRBFD(t, them, l.Dir, frrBFDConf())
	frr.Start(t)
	g := NewGovrrp(t, us, l.Dir)
	conf := func(tx string, v6 bool) string {
		c := `routers:
  - {name: vr1, interface: eth0, vrid: 1, addresses: [10.77.0.254/24]}
bfd:
  - {name: frr4, peer: 10.77.0.2, interface: eth0, local_address: 10.77.0.1, min_tx: ` + tx + `, min_rx: 10ms}
`
		if v6 {
			c += "  - {name: frr6, peer: fd77::2, interface: eth0, local_address: fd77::1, min_tx: 10ms, min_rx: 10ms}\n"
		}
		return c
	}
	g.UseImported(conf("10ms", true))
	g.Start(t)
	up := func(peer string, tx int) func() bool {
		return func() bool {
			p, err := frr.PeerState(peer)
			return err == nil && p.Status == "up" && p.RemoteTransmit == tx && p.RemoteReceive == 10 &&
				p.TransmitInterval == 10 && p.ReceiveInterval == 10
		}
	}
	for _, peer := range []string{"10.77.0.1", "fd77::1"} {
		if !lab.Poll(5*time.Second, 20*time.Millisecond, up(peer, 10)) {
			p, err := frr.PeerState(peer)
			t.Fatalf("FRR's session to %s: %+v %v\nbfdd: %s\ngovrrpd: %s", peer, p, err, frr.Logs(), lab.Tail(g.Logs(), 20))
		}
	}
	before, _ := frr.PeerState("10.77.0.1")

	// Reload: frr4 to 20 ms (our Poll, FRR's Final, no Down on either
	// side), frr6 removed (AdminDown to FRR).
	g.UseImported(conf("20ms", false))
	g.writeConfig(t)
	if res, err := g.Client().Reload(context.Background()); err != nil || !res.OK {
		t.Fatalf("reload: %+v %v", res, err)
	}
	if !lab.Poll(2*time.Second, 20*time.Millisecond, up("10.77.0.1", 20)) {
		p, _ := frr.PeerState("10.77.0.1")
		t.Fatalf("after the reload FRR says %+v", p)
	}
	if after, _ := frr.PeerState("10.77.0.1"); after.ID != before.ID || after.RemoteID != before.RemoteID || strings.Contains(g.Logs(), "bfd session down") {
		t.Fatalf("the session restarted or went down: %+v → %+v\n%s", before, after, lab.Tail(g.Logs(), 20))
	}

	adminDown := func(peer string) func() bool {
		return func() bool {
			p, err := frr.PeerState(peer)
			return err == nil && p.Status == "down" && strings.Contains(p.RemoteDiagnostic, "administratively")
		}
	}
	if !lab.Poll(2*time.Second, 20*time.Millisecond, adminDown("fd77::1")) {
		p, err := frr.PeerState("fd77::1")
		t.Fatalf("after removing frr6 FRR says %+v %v", p, err)
	}

	// SIGTERM: AdminDown to FRR.
	g.Stop(t)
	for _, peer := range []string{"10.77.0.1"} {
		if !lab.Poll(2*time.Second, 20*time.Millisecond, adminDown(peer)) {
			p, err := frr.PeerState(peer)
			t.Fatalf("after govrrpd's SIGTERM FRR says %+v %v", p, err)
		}
	}
	for _, line := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(line, "bfd session") {
			t.Log(line)
		}
	}
}

// sendUDPTTL sends b n times from local to peer:3784 with the given TTL.
func sendUDPTTL(local, peer netip.Addr, ttl int, b []byte, n int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl); err != nil {
		return err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: local.As4(), Port: 0}); err != nil {
		return err
	}
	for range n {
		if err := unix.Sendto(fd, b, 0, &unix.SockaddrInet4{Addr: peer.As4(), Port: bfd.Port}); err != nil {
			return err
		}
	}
	return nil
}

// Our sessions against keepalived 2.2.7's bfd_instance, IPv4 and IPv6
// (`hoplimit 255`: its IPv6 default of 64 is dropped by RFC 5881 peers), at
// 10 ms × 3: Up with 10 ms negotiated both ways (its Poll after Up answered,
// ours answered) [5880-6.5]; keepalived stopped (it sends no AdminDown) or
// killed is a failure detected in the detection time [5880-6.8.4].
func TestBFDWithKeepalived(t *testing.T) {
	testenv.RequireTool(t, "keepalived")
	lan := lab.NewLAN(t, 2)
	us, them := lan.Nodes[0], lan.Nodes[1]
	dir := bfdDir(t)
	conf := filepath.Join(dir, "keepalived.conf")
	if err := os.WriteFile(conf, []byte(`global_defs {
  router_id bfdpeer
}
bfd_instance us4 {
  neighbor_ip 10.77.0.1
  source_ip 10.77.0.2
  min_rx 10
  min_tx 10
  multiplier 3
  hoplimit 255
}
bfd_instance us6 {
  neighbor_ip fd77::1
  source_ip fd77::2
  min_rx 10
  min_tx 10
  multiplier 3
  hoplimit 255
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "keepalived.log")
	if os.Getenv("GOVRRP_BFD_PCAP") != "" {
		StartCapture(t, us, "eth0", os.Getenv("GOVRRP_BFD_PCAP"), "udp port 3784")
	}
	start := func() *lab.Proc {
		return lab.StartProc(t, them, "keepalived", logPath, "keepalived", "-n", "-l", "-D", "-f", conf,
			"-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"), "-b", filepath.Join(dir, "b.pid"))
	}
	ka := start()
	defer func() {
		if t.Failed() {
			t.Logf("keepalived:\n%s", lab.Tail(lab.ReadFile(logPath), 40))
		}
	}()

	sessions := []bfdrun.SessionConfig{
		{Name: "ka4", Interface: "eth0", Peer: them.V4.Addr(), Local: us.V4.Addr(), Config: fastBFD},
		{Name: "ka6", Interface: "eth0", Peer: them.V6.Addr(), Local: us.V6.Addr(), Config: fastBFD},
	}
	r, c := startBFD(t, us, sessions)
	for _, s := range sessions {
		if !lab.Poll(2*time.Second, 10*time.Millisecond, func() bool {
			st := bfdStatus(t, r, s.Name)
			return st.TxInterval == 10*time.Millisecond && st.Detection == 30*time.Millisecond && !st.Polling &&
				st.RemoteMinRx == 10*time.Millisecond && st.RemoteMinTx == 10*time.Millisecond
		}) {
			t.Fatalf("%s: not at 10 ms: %+v", s.Name, bfdStatus(t, r, s.Name).Status)
		}
	}
	if !lab.Poll(2*time.Second, 20*time.Millisecond, func() bool {
		l := lab.ReadFile(logPath)
		return strings.Contains(l, "(us4) Entering Up state") && strings.Contains(l, "(us6) Entering Up state")
	}) {
		t.Fatalf("keepalived does not say Up")
	}
	t.Logf("Up at 10 ms both ways with keepalived, IPv4 and IPv6")

	// keepalived's own view: flaps under load would show here.
	if n := strings.Count(lab.ReadFile(logPath), "Entering Down state"); n > 0 {
		t.Logf("keepalived went Down %d times while Up (a loaded machine at 10 ms × 3)", n)
	}

	// SIGTERM: keepalived 2.2.7 sends no AdminDown when it stops, so its
	// peers see a failure, detected in the detection time.
	ka.Stop(t, syscall.SIGTERM)
	detected(t, r, c, sessions, "keepalived (SIGTERM)")

	// Back, then SIGKILL: detection.
	ka = start()
	for _, s := range sessions {
		c.await(t, s.Name, bfd.Up, 5*time.Second)
	}
	for _, s := range sessions {
		lab.Poll(2*time.Second, 10*time.Millisecond, func() bool { return !bfdStatus(t, r, s.Name).Polling })
	}
	ka.Kill(t)
	detected(t, r, c, sessions, "keepalived")
}

// fastBFD is 10 ms × 3 both ways, the interop tests' pace.
var fastBFD = session.Config{DesiredMinTx: 10 * time.Millisecond, RequiredMinRx: 10 * time.Millisecond, DetectMult: 3}

// bfdDir is a run directory the peers' daemons (FRR runs as user frr) can
// read, removed at the end.
func bfdDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "govrrp-interop-bfd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBFD runs sessions on a runner in nd, closed at the end, and waits
// until each is Up.
func startBFD(t *testing.T, nd *lab.Node, sessions []bfdrun.SessionConfig) (*bfdrun.Runner, *bfdChanges) {
	t.Helper()
	c := &bfdChanges{seen: map[string]int{}}
	r, err := bfdrun.New(bfdrun.Options{Enter: nd.Do, Notify: c.notify})
	if err != nil {
		t.Fatal(err)
	}
	go r.Run()
	t.Cleanup(r.Close)
	for _, s := range sessions {
		if err := r.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sessions {
		c.await(t, s.Name, bfd.Up, 5*time.Second)
	}
	return r, c
}

// detected checks that each session went Down as a failure, detection
// time expired, within the detection time of the peer's last packet
// [5880-6.8.4], and logs the figure.
func detected(t *testing.T, r *bfdrun.Runner, c *bfdChanges, sessions []bfdrun.SessionConfig, peer string) {
	t.Helper()
	for _, s := range sessions {
		ch := c.await(t, s.Name, bfd.Down, 2*time.Second)
		st := bfdStatus(t, r, s.Name)
		if ch.Diag != bfd.DiagDetectExpired || !ch.Failure {
			t.Fatalf("%s after %s stopped: %+v", s.Name, peer, ch)
		}
		// From the last packet before the Down: a dying peer may send
		// one more after a pause (keepalived killed did, once in CI).
		after := ch.At.Sub(ch.LastReceived)
		if st.LastReceived.After(ch.LastReceived) {
			t.Logf("%s: %s sent again %v after our Down", s.Name, peer, st.LastReceived.Sub(ch.At))
		}
		t.Logf("%s: Down %.1f ms after the last packet of %s (detection time %v)", s.Name, float64(after.Microseconds())/1000, peer, st.Detection)
		if after < st.Detection-time.Millisecond || after > st.Detection+15*time.Millisecond {
			t.Errorf("%s: Down %v after the last packet, detection time %v", s.Name, after, st.Detection)
		}
	}
}
