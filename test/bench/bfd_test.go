package bench

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/bfd"
	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/pcapfile"
	"govrrp/test/interop"
)

// BFD cases (issue 16): every session at 10 ms × 3, the pace.
const (
	bfdTx   = 10 * time.Millisecond
	bfdMult = 3
	// bfdPace is a session's timers in govrrpd's YAML.
	bfdPace = "min_tx: 10ms, min_rx: 10ms, multiplier: 3"
	// bfdMasterYAML is routers[].bfd_master (Master–Backup detection), the
	// Backup the successor: with two routers it takes over at once.
	bfdMasterYAML = "bfd_master: {" + bfdPace + ", successor: true}"
)

// BFDDetectResult is one detector's detection of a dying peer, over runs.
type BFDDetectResult struct {
	Detector string    `json:"detector"` // govrrp | frr-bfdd
	Peer     string    `json:"peer"`     // the dying side
	TxMS     float64   `json:"tx_ms"`
	Mult     int       `json:"multiplier"`
	DetectMS []float64 `json:"detect_ms"` // the peer's last packet on the bridge → the detector's Down
	Method   string    `json:"method"`    // where the Down time comes from
	Errors   []string  `json:"errors,omitempty"`
}

// BFDFalseResult is a window of two govrrpd with a session between them,
// and two FRR bfdd with one in the same window, under the same load.
type BFDFalseResult struct {
	Load      string   `json:"load"` // idle | 2 CPU hogs
	WindowS   float64  `json:"window_s"`
	Downs     int      `json:"downs"`           // failures + AdminDowns, both sides
	Sides     []int    `json:"downs_by_side"`   // router 1, router 2
	Diags     []string `json:"diags,omitempty"` // each side's last diagnostic after a Down
	PacketsRx uint64   `json:"packets_rx"`      // both sides, in the window
	// HostStalls is govrrpd's host_stalls, both sides: the stalls that
	// moved a detection timer instead of failing the session.
	HostStalls uint64 `json:"host_stalls"`
	// FRRDowns is bfdd's session-down count, both sides (nil: not measured).
	FRRDowns *int `json:"frr_bfdd_downs,omitempty"`
	// Stalls is how often a thread of the bench sleeping 1 ms at a time
	// woke 30 ms or more late (as long as the detection time), StallMaxMS
	// the latest: how long this machine left a runnable thread unrun.
	Stalls     int      `json:"stalls_30ms"`
	StallMaxMS float64  `json:"stall_max_ms"`
	BusyCores  float64  `json:"machine_busy"` // whole machine during the window
	Steal      float64  `json:"machine_steal"`
	Errors     []string `json:"errors,omitempty"`
}

// BFDCPUResult is govrrpd against FRR bfdd with n sessions at 10 ms × 3,
// measured in the same window.
type BFDCPUResult struct {
	Sessions     int      `json:"sessions"`
	WindowS      float64  `json:"window_s"`
	GovrrpCPU    float64  `json:"govrrp_cpu_seconds_per_second"`
	FRRCPU       float64  `json:"frr_bfdd_cpu_seconds_per_second"`
	Packets      uint64   `json:"govrrp_packets"` // sent + received in the window
	Mallocs      int64    `json:"govrrp_mallocs"` // in the window, the cost of reading memstats removed
	AllocsPerPkt float64  `json:"govrrp_allocs_per_packet"`
	BusyCores    float64  `json:"machine_busy"`
	Errors       []string `json:"errors,omitempty"`
}

// bfdPacket is one BFD control packet of a capture.
type bfdPacket struct {
	Time     time.Time
	Src, Dst netip.Addr
	State    bfd.State
}

// bfdCapture reads the BFD control packets (UDP 3784) of a capture.
func bfdCapture(path string) ([]bfdPacket, error) {
	pkts, err := pcapfile.ReadFile(path)
	if errors.Is(err, pcapfile.ErrTruncatedFile) {
		err = nil // tcpdump is writing the last record
	}
	var out []bfdPacket
	var p bfd.Packet
	for _, k := range pkts {
		if k.Protocol != 17 || len(k.Payload) < 8 || k.Err != nil {
			continue
		}
		if k.Payload[2] != bfd.Port>>8 || k.Payload[3] != bfd.Port&0xff {
			continue
		}
		if p.Decode(k.Payload[8:]) != nil {
			continue
		}
		out = append(out, bfdPacket{Time: k.Time, Src: k.Src, Dst: k.Dst, State: p.State})
	}
	return out, err
}

// bfdDir is a run directory FRR (user frr) can read.
func bfdDir(t *testing.T) string {
	dir := runDir(t, "govrrp-bench-bfd-")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// frrBFDConf is bfdd's sessions to each of peers (local address the
// matching one of locals) on eth0 at 10 ms × 3.
func frrBFDConf(peers, locals []netip.Addr) string {
	var b strings.Builder
	b.WriteString("bfd\n")
	for i, p := range peers {
		fmt.Fprintf(&b, " peer %v local-address %v interface eth0\n  receive-interval 10\n  transmit-interval 10\n  detect-multiplier 3\n !\n", p, locals[i])
	}
	return b.String() + "!\n"
}

// govrrpBFDTop is govrrpd's top-level bfd: sessions to peers from locals.
func govrrpBFDTop(peers, locals []netip.Addr) string {
	var b strings.Builder
	b.WriteString("bfd:\n")
	for i, p := range peers {
		fmt.Fprintf(&b, "  - {name: s%d, peer: %v, interface: eth0, local_address: %v, %s}\n", i, p, locals[i], bfdPace)
	}
	return b.String()
}

// bfdSessions is govrrpd's sessions by name.
func bfdSessions(g *interop.Govrrp) (map[string]api.BFDSession, error) {
	ctx, cancel := ctxTimeout()
	defer cancel()
	st, err := g.Client().BFD(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]api.BFDSession{}
	for _, s := range st.Sessions {
		out[s.Name] = s
	}
	return out, nil
}

// govrrpBFDUp says whether all of g's sessions are Up at 10 ms both ways.
func govrrpBFDUp(g *interop.Govrrp, n int) bool {
	ss, err := bfdSessions(g)
	if err != nil || len(ss) < n {
		return false
	}
	for _, s := range ss {
		if s.State != "Up" || s.TxIntervalMS != ms(bfdTx) || s.DetectionMS != ms(bfdMult*bfdTx) {
			return false
		}
	}
	return true
}

// bfdCount sums one counter over g's sessions.
func bfdCount(g *interop.Govrrp, keys ...string) (uint64, error) {
	ss, err := bfdSessions(g)
	var n uint64
	for _, s := range ss {
		for _, k := range keys {
			n += s.Counters[k]
		}
	}
	return n, err
}

// frrBFDUp says whether bfdd's session to peer is up at 10 ms both ways.
func frrBFDUp(f *interop.FRRBFD, peer netip.Addr) bool {
	p, err := f.PeerState(peer.String())
	return err == nil && p.Status == "up" && p.TransmitInterval == 10 && p.ReceiveInterval == 10 &&
		p.RemoteTransmit == 10 && p.RemoteReceive == 10
}

// bfdDetectPeer is the other end of the detection case: FRR bfdd or
// keepalived's bfd_instance, with a session to router 1 at 10 ms × 3.
type bfdDetectPeer interface {
	name() string
	start(t *testing.T)
	kill(t *testing.T)
	// up says its session to router 1 is Up.
	up() bool
}

type frrDetectPeer struct {
	f  *interop.FRRBFD
	us netip.Addr
}

func (p *frrDetectPeer) name() string       { return "frr-bfdd" }
func (p *frrDetectPeer) start(t *testing.T) { p.f.RestartBfdd(t) }
func (p *frrDetectPeer) kill(t *testing.T)  { p.f.Kill(t) }
func (p *frrDetectPeer) up() bool           { return frrBFDUp(p.f, p.us) }

// kaDetectPeer is keepalived 2.2's bfd_instance (its IPv4 session; its
// log, -l -D, says when it enters Up and Down).
type kaDetectPeer struct {
	nd        *lab.Node
	dir, conf string
	proc      *lab.Proc
}

func newKaDetectPeer(t *testing.T, nd *lab.Node, dir string, us netip.Addr) *kaDetectPeer {
	p := &kaDetectPeer{nd: nd, dir: filepath.Join(dir, "keepalived-bfd")}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.conf = filepath.Join(p.dir, "keepalived.conf")
	conf := fmt.Sprintf("global_defs {\n  router_id bfdpeer\n}\nbfd_instance us {\n  neighbor_ip %v\n  source_ip %v\n  min_rx 10\n  min_tx 10\n  multiplier 3\n  hoplimit 255\n}\n",
		us, nd.V4.Addr())
	if err := os.WriteFile(p.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *kaDetectPeer) name() string { return implKeepalived }
func (p *kaDetectPeer) start(t *testing.T) {
	if p.proc != nil && p.proc.Running() {
		p.proc.Kill(t)
	}
	// A killed keepalived leaves its log and pid files behind.
	for _, f := range []string{"keepalived.log", "k.pid", "v.pid", "b.pid"} {
		_ = os.Remove(filepath.Join(p.dir, f))
	}
	p.proc = lab.StartProc(t, p.nd, "keepalived-bfd", filepath.Join(p.dir, "keepalived.log"), "keepalived", "-n", "-l", "-D",
		"-f", p.conf, "-p", filepath.Join(p.dir, "k.pid"), "-r", filepath.Join(p.dir, "v.pid"), "-b", filepath.Join(p.dir, "b.pid"))
}
func (p *kaDetectPeer) kill(t *testing.T) { p.proc.Kill(t) }
func (p *kaDetectPeer) log() string       { return lab.ReadFile(filepath.Join(p.dir, "keepalived.log")) }
func (p *kaDetectPeer) up() bool {
	l := p.log()
	return strings.LastIndex(l, "Entering Up state") > strings.LastIndex(l, "Entering Down state")
}

// runBFDDetect measures detection at 10 ms × 3 both ways between govrrpd
// (router 1, a top-level session) and a peer on router 2: the peer
// killed, govrrpd's Down (the API's Since, the runner's clock at the
// expiry) after the peer's last packet on the bridge; then govrrpd
// killed, the peer's first Down packet on the bridge after govrrpd's last
// packet. tcpdump on the bridge timestamps both packets (kernel receive
// time, the host's clock); the API's time is the same clock.
func runBFDDetect(t *testing.T, gov, peer *BFDDetectResult, peerImpl string, runs int) {
	lan := lab.NewLAN(t, 2)
	us, them := lan.Nodes[0], lan.Nodes[1]
	dir := bfdDir(t)
	capPath := filepath.Join(dir, "bfd.pcap")
	interop.StartCapture(t, lan.Bridge, "br0", capPath, "udp port 3784")
	var p bfdDetectPeer
	if peerImpl == implKeepalived {
		k := newKaDetectPeer(t, them, dir, us.V4.Addr())
		k.start(t)
		p = k
	} else {
		f := interop.NewFRRBFD(t, them, dir, frrBFDConf([]netip.Addr{us.V4.Addr()}, []netip.Addr{them.V4.Addr()}))
		f.Start(t)
		p = &frrDetectPeer{f: f, us: us.V4.Addr()}
	}
	*gov = BFDDetectResult{Detector: implGovrrp, Peer: p.name() + " (SIGKILL)", TxMS: ms(bfdTx), Mult: bfdMult,
		Method: "govrrpd's session Since (GET /v1/bfd, the runner's clock at the expiry) − " + p.name() + "'s last packet on the bridge (tcpdump)"}
	*peer = BFDDetectResult{Detector: p.name(), Peer: "govrrp (SIGKILL)", TxMS: ms(bfdTx), Mult: bfdMult,
		Method: p.name() + "'s first Down packet on the bridge − govrrpd's last packet on the bridge (tcpdump)"}
	g := newGovrrpd(t, govrrpdBin(t), us, dir, vr51(150, time.Second))
	g.Top = govrrpBFDTop([]netip.Addr{them.V4.Addr()}, []netip.Addr{us.V4.Addr()})
	g.Start(t)
	up := func() bool {
		return lab.Poll(10*time.Second, 10*time.Millisecond, func() bool { return govrrpBFDUp(g, 1) && p.up() })
	}
	for run := range runs {
		if !up() {
			gov.errorf(t, "run %d: sessions not Up at 10 ms", run)
			return
		}
		time.Sleep(300 * time.Millisecond)
		killed := time.Now()
		p.kill(t)
		var down api.BFDSession
		if !lab.Poll(2*time.Second, 2*time.Millisecond, func() bool {
			ss, err := bfdSessions(g)
			down = ss["s0"]
			return err == nil && down.State != "Up" && down.Since.After(killed)
		}) {
			gov.errorf(t, "run %d: govrrpd's session still Up after %s was killed", run, p.name())
		} else if pk, err := bfdCapture(capPath); err != nil {
			gov.errorf(t, "run %d: capture: %v", run, err)
		} else if last, ok := lastFrom(pk, them.V4.Addr(), down.Since); !ok {
			gov.errorf(t, "run %d: no packet from %s before govrrpd's Down", run, p.name())
		} else {
			d := down.Since.Sub(last.Time)
			gov.DetectMS = append(gov.DetectMS, ms(d))
			t.Logf("run %d: govrrpd Down (%s) %.2f ms after %s's last packet", run, down.Diag, ms(d), p.name())
		}
		p.start(t)
		if !up() {
			ss, _ := bfdSessions(g)
			gov.errorf(t, "run %d: sessions not Up again after %s's restart (govrrpd: %+v)", run, p.name(), ss["s0"])
			if k, ok := p.(*kaDetectPeer); ok {
				t.Logf("keepalived:\n%s", lab.Tail(k.log(), 30))
			}
			return
		}

		time.Sleep(300 * time.Millisecond)
		killed = time.Now()
		g.Kill(t)
		if !lab.Poll(2*time.Second, 2*time.Millisecond, func() bool { return !p.up() }) {
			peer.errorf(t, "run %d: %s's session still up after govrrpd was killed", run, p.name())
		}
		time.Sleep(50 * time.Millisecond) // let tcpdump write it
		if pk, err := bfdCapture(capPath); err != nil {
			peer.errorf(t, "run %d: capture: %v", run, err)
		} else if d, err := firstDownAfter(pk, us.V4.Addr(), them.V4.Addr(), killed); err != nil {
			peer.errorf(t, "run %d: %v", run, err)
		} else {
			peer.DetectMS = append(peer.DetectMS, ms(d))
			t.Logf("run %d: %s Down %.2f ms after govrrpd's last packet", run, p.name(), ms(d))
		}
		g.Start(t)
	}
}

func (r *BFDDetectResult) errorf(t testing.TB, format string, args ...any) {
	logError(t, &r.Errors, format, args...)
}

// lastFrom is src's last packet before at.
func lastFrom(pk []bfdPacket, src netip.Addr, at time.Time) (bfdPacket, bool) {
	for i := len(pk) - 1; i >= 0; i-- {
		if pk[i].Src == src && pk[i].Time.Before(at) {
			return pk[i], true
		}
	}
	return bfdPacket{}, false
}

// firstDownAfter is the time from dead's last packet (before `after`
// or just after it: SIGKILL takes a moment) to detector's first Down
// packet after it.
func firstDownAfter(pk []bfdPacket, dead, detector netip.Addr, after time.Time) (time.Duration, error) {
	li := -1
	for i, p := range pk {
		if p.Src == dead && p.Time.After(after.Add(-time.Second)) {
			li = i
		}
	}
	if li < 0 {
		return 0, fmt.Errorf("no packet from %v around its kill", dead)
	}
	for _, p := range pk[li+1:] {
		if p.Src == detector && p.State == bfd.Down {
			return p.Time.Sub(pk[li].Time), nil
		}
	}
	return 0, fmt.Errorf("no Down packet from %v after %v's last packet", detector, dead)
}

// runBFDFalse runs two govrrpd with a 10 ms × 3 session between them for
// window idle, then window beside two CPU hogs, counting Downs on both
// sides; two FRR bfdd with a session between them run in the same windows
// on the same LAN, and a 1 ms sleeper in the bench measures how long the
// machine left a runnable thread waiting.
func runBFDFalse(t *testing.T, idle, hogs *BFDFalseResult, window time.Duration) {
	*idle = BFDFalseResult{Load: "idle", WindowS: window.Seconds()}
	*hogs = BFDFalseResult{Load: "2 CPU hogs (busy loops, one in each router's namespace)", WindowS: window.Seconds()}
	lan := lab.NewLAN(t, 4)
	dir := bfdDir(t)
	var gs []*interop.Govrrp
	for i, nd := range lan.Nodes[:2] {
		peer := lan.Nodes[1-i]
		g := newGovrrpd(t, govrrpdBin(t), nd, dir, vr51(uint8(150-50*i), time.Second))
		g.Top = govrrpBFDTop([]netip.Addr{peer.V4.Addr()}, []netip.Addr{nd.V4.Addr()})
		g.Start(t)
		gs = append(gs, g)
	}
	var fs []*interop.FRRBFD
	for i, nd := range lan.Nodes[2:] {
		peer := lan.Nodes[3-i]
		f := interop.NewFRRBFD(t, nd, filepath.Join(dir, nd.Short), frrBFDConf([]netip.Addr{peer.V4.Addr()}, []netip.Addr{nd.V4.Addr()}))
		f.Start(t)
		fs = append(fs, f)
	}
	up := func() bool {
		return govrrpBFDUp(gs[0], 1) && govrrpBFDUp(gs[1], 1) && frrBFDUp(fs[0], lan.Nodes[3].V4.Addr()) && frrBFDUp(fs[1], lan.Nodes[2].V4.Addr())
	}
	if !lab.Poll(20*time.Second, 20*time.Millisecond, up) {
		idle.errorf(t, "sessions not Up at 10 ms")
		return
	}
	// snap reads the counters: each govrrpd's Downs (failures and
	// AdminDowns), and the sums of packets received, host stalls and
	// bfdd's Downs (frrOK false: bfdd's were not read).
	type snapshot struct {
		downs           []uint64
		rx, stalls, frr uint64
		frrOK           bool
	}
	snap := func(r *BFDFalseResult) snapshot {
		sn := snapshot{frrOK: true}
		for _, g := range gs {
			d, err := bfdCount(g, api.BFDCounterFailures, api.BFDCounterAdminDowns)
			rx, err2 := bfdCount(g, api.BFDCounterReceived)
			st, err3 := bfdCount(g, api.BFDCounterHostStalls)
			if err = errors.Join(err, err2, err3); err != nil {
				r.errorf(t, "counters: %v", err)
			}
			sn.downs, sn.rx, sn.stalls = append(sn.downs, d), sn.rx+rx, sn.stalls+st
		}
		for _, f := range fs {
			n, err := f.Downs()
			if err != nil {
				r.errorf(t, "bfdd counters: %v", err)
				sn.frrOK = false
			}
			sn.frr += n
		}
		return sn
	}
	measure := func(r *BFDFalseResult, load func() func()) {
		logFrom := make([]int, len(gs))
		for i, g := range gs {
			logFrom[i] = len(g.Logs())
		}
		s0 := snap(r)
		stop := load()
		probe := startStallProbe()
		start, mt0 := time.Now(), readMachineTicks()
		time.Sleep(window)
		r.BusyCores, r.Steal = busyCores(mt0, readMachineTicks(), time.Since(start).Seconds())
		r.Stalls, r.StallMaxMS = probe.stop()
		stop()
		s1 := snap(r)
		for i, g := range gs {
			n := int(s1.downs[i] - s0.downs[i])
			r.Sides, r.Downs = append(r.Sides, n), r.Downs+n
			if n == 0 {
				continue
			}
			// The session's diag is reset when it comes Up again: the
			// log keeps each Down's.
			logs := g.Logs()[logFrom[i]:]
			r.Diags = append(r.Diags, fmt.Sprintf("router %d: %s", i+1, downDiags(logs)))
			for line := range strings.Lines(logs) {
				if strings.Contains(line, "failure=true") || strings.Contains(line, "did not run") {
					t.Logf("router %d: %s", i+1, strings.TrimSpace(line))
				}
			}
		}
		if s0.frrOK && s1.frrOK {
			n := int(s1.frr - s0.frr)
			r.FRRDowns = &n
		}
		r.PacketsRx, r.HostStalls = s1.rx-s0.rx, s1.stalls-s0.stalls
		t.Logf("%s for %v: %d Downs %v %v, %d packets received, %d host stalls absorbed; bfdd %s Downs; %d stalls ≥ 30 ms (max %.1f ms); %.2f cores busy, %.3f stolen",
			r.Load, window, r.Downs, r.Sides, r.Diags, r.PacketsRx, r.HostStalls, frrDowns(r.FRRDowns), r.Stalls, r.StallMaxMS, r.BusyCores, r.Steal)
	}
	measure(idle, func() func() { return func() {} })
	measure(hogs, func() func() {
		var ps []*lab.Proc
		for _, nd := range lan.Nodes[:2] {
			secs := fmt.Sprint(int(window.Seconds()) + 10)
			ps = append(ps, lab.StartProc(t, nd, "cpu-hog", filepath.Join(dir, nd.Short+"-hog.log"),
				"timeout", secs, "sh", "-c", "while :; do :; done"))
		}
		return func() {
			for _, p := range ps {
				p.Kill(t)
			}
		}
	})
}

func (r *BFDFalseResult) errorf(t testing.TB, format string, args ...any) {
	logError(t, &r.Errors, format, args...)
}

// bfdPair is the i-th (from 0) address pair of the CPU case: router 1
// 10.77.10.(i+1), router 2 10.77.10.(i+101), on eth0.
func bfdPair(i int) (us, them netip.Addr) {
	return netip.AddrFrom4([4]byte{10, 77, 10, byte(i + 1)}), netip.AddrFrom4([4]byte{10, 77, 10, byte(i + 101)})
}

// runBFDCPU measures govrrpd (router 1) and FRR bfdd (router 2) with n
// sessions at 10 ms × 3 between them (one address pair each) over the
// same window: CPU from /proc/PID/stat, govrrpd's heap allocations per
// packet sent or received from runtime memstats.
func runBFDCPU(t *testing.T, res *BFDCPUResult, n int, window time.Duration) {
	*res = BFDCPUResult{Sessions: n, WindowS: window.Seconds()}
	lan := lab.NewLAN(t, 2)
	us, them := lan.Nodes[0], lan.Nodes[1]
	var ours, theirs []netip.Addr
	for i := range n {
		a, b := bfdPair(i)
		us.MustIP(t, "addr", "add", a.String()+"/24", "dev", "eth0")
		them.MustIP(t, "addr", "add", b.String()+"/24", "dev", "eth0")
		ours, theirs = append(ours, a), append(theirs, b)
	}
	dir := bfdDir(t)
	f := interop.NewFRRBFD(t, them, dir, frrBFDConf(ours, theirs))
	f.Start(t)
	g := newGovrrpd(t, govrrpdBin(t), us, dir, vr51(150, time.Second))
	metrics := "127.0.0.1:9624"
	g.Top = "metrics_listen: " + metrics + "\n" + govrrpBFDTop(theirs, ours)
	g.Start(t)
	if !lab.Poll(20*time.Second, 20*time.Millisecond, func() bool {
		if !govrrpBFDUp(g, n) {
			return false
		}
		for _, a := range ours {
			if !frrBFDUp(f, a) {
				return false
			}
		}
		return true
	}) {
		res.errorf(t, "sessions not Up at 10 ms:\n%s", f.Logs())
		return
	}
	time.Sleep(2 * time.Second)
	// The packet counters are read outside the memstats window: an API
	// request allocates.
	p0, err := bfdCount(g, api.BFDCounterSent, api.BFDCounterReceived)
	if err != nil {
		res.errorf(t, "counters: %v", err)
	}
	_, _, _, err0 := memstats(g, metrics)
	m0, _, _, err1 := memstats(g, metrics)
	m1, _, _, err2 := memstats(g, metrics)
	if err := errors.Join(err0, err1, err2); err != nil {
		res.errorf(t, "memstats: %v", err)
	}
	gpid, fpid := g.Proc().PID(), f.BfddPID()
	start, mt0 := time.Now(), readMachineTicks()
	gc0, errA := lab.CPUSeconds(gpid)
	fc0, errB := lab.CPUSeconds(fpid)
	time.Sleep(window)
	gc1, errC := lab.CPUSeconds(gpid)
	fc1, errD := lab.CPUSeconds(fpid)
	wall := time.Since(start).Seconds()
	res.BusyCores, _ = busyCores(mt0, readMachineTicks(), wall)
	if err := errors.Join(errA, errB, errC, errD); err != nil {
		res.errorf(t, "cpu: %v", err)
	}
	res.GovrrpCPU, res.FRRCPU = (gc1-gc0)/wall, (fc1-fc0)/wall
	m2, _, _, err := memstats(g, metrics)
	if err != nil {
		res.errorf(t, "memstats: %v", err)
	}
	p1, err := bfdCount(g, api.BFDCounterSent, api.BFDCounterReceived)
	if err != nil {
		res.errorf(t, "counters: %v", err)
	}
	res.Packets = p1 - p0
	res.Mallocs = int64(m2-m1) - int64(m1-m0)
	if res.Packets > 0 {
		res.AllocsPerPkt = float64(res.Mallocs) / float64(res.Packets)
	}
	t.Logf("%d sessions: govrrpd %.4f CPU s/s, bfdd %.4f; %d packets, %d mallocs; %.2f cores busy",
		n, res.GovrrpCPU, res.FRRCPU, res.Packets, res.Mallocs, res.BusyCores)
}

func (r *BFDCPUResult) errorf(t testing.TB, format string, args ...any) {
	logError(t, &r.Errors, format, args...)
}

// bfdMasterRefused runs `govrrpd --check` on g's configuration in its
// namespace: "" when the daemon takes routers[].bfd_master, else why not
// (a govrrpd built before Master–Backup BFD refuses the key).
func bfdMasterRefused(t *testing.T, g *interop.Govrrp, dir string) string {
	path := filepath.Join(dir, g.Node().Short+"-check.yaml")
	if err := os.WriteFile(path, []byte(g.Config()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ip", "netns", "exec", g.Node().Name, govrrpdBin(t), "--check", "-c", path).CombinedOutput()
	if err == nil {
		return ""
	}
	if strings.Contains(string(out), `unknown key "bfd_master"`) {
		return "not available: this govrrpd has no routers[].bfd_master (Master–Backup BFD)"
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if _, at, ok := strings.Cut(first, ".yaml:"); ok {
		first = at // the position without the run directory
	}
	return "not available: govrrpd --check refuses the configuration: " + first
}

// bfdMasterUps counts the Master–Backup sessions g (the Backup) saw come
// Up (sessions named vrrp/<router>), from its log: a count, where the API
// shows only the current session, tells a new session from the one
// before the last failover.
func bfdMasterUps(g *interop.Govrrp) int {
	n := 0
	for _, line := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(line, "bfd session up") && strings.Contains(line, "vrrp/") {
			n++
		}
	}
	return n
}

// wireRates counts, between from and to, VR 51's adverts (priority > 0)
// and the BFD packets of both directions, per second.
func wireRates(as interop.Adverts, bp []bfdPacket, from, to time.Time) (adverts, bfdPkts float64) {
	s := to.Sub(from).Seconds()
	if s <= 0 {
		return 0, 0
	}
	n := 0
	for _, a := range as.VR(vr51Key).Between(from, to) {
		if a.Priority > 0 {
			n++
		}
	}
	k := 0
	for _, p := range bp {
		if !p.Time.Before(from) && p.Time.Before(to) {
			k++
		}
	}
	return float64(n) / s, float64(k) / s
}

// runBFDCases runs the BFD parts named in cases: bfd (detection both
// ways), bfdfalse (false Downs idle and under CPU hogs), bfdcpu (1 and 10
// sessions against FRR bfdd), bfdfailover (cable pull at 1 s adverts with
// Master–Backup BFD beside keepalived and FRR's vrrpd at 10 ms adverts).
func runBFDCases(t *testing.T, rep *Report, cases, impls []string, runs int, falseFor, cpuWindow time.Duration,
	failoverTo func(out *[]FailoverResult, name string, iv time.Duration, kind, impl string, load, withBFD bool)) {
	aborted := func(ok bool, errs *[]string) {
		if !ok {
			*errs = append(*errs, "case aborted by a harness failure: see the test log")
		}
	}
	if slices.Contains(cases, "bfd") {
		for _, peer := range []string{implFRR, implKeepalived} {
			if !slices.Contains(impls, peer) {
				continue
			}
			var gov, them BFDDetectResult
			ok := t.Run("bfd/detection/"+peer, func(t *testing.T) { runBFDDetect(t, &gov, &them, peer, runs) })
			if gov.Detector != "" {
				aborted(ok, &gov.Errors)
				rep.BFDDetect = append(rep.BFDDetect, gov, them)
			}
		}
	}
	if slices.Contains(cases, "bfdfalse") {
		var idle, hogs BFDFalseResult
		ok := t.Run("bfdfalse", func(t *testing.T) { runBFDFalse(t, &idle, &hogs, falseFor) })
		if idle.Load != "" {
			aborted(ok, &idle.Errors)
			rep.BFDFalse = append(rep.BFDFalse, idle, hogs)
		}
	}
	if slices.Contains(cases, "bfdcpu") {
		for _, n := range []int{1, 10} {
			var r BFDCPUResult
			ok := t.Run(fmt.Sprintf("bfdcpu/%d", n), func(t *testing.T) { runBFDCPU(t, &r, n, cpuWindow) })
			if r.Sessions != 0 {
				aborted(ok, &r.Errors)
				rep.BFDCPU = append(rep.BFDCPU, r)
			}
		}
	}
	if slices.Contains(cases, "bfdfailover") {
		for _, impl := range impls {
			iv, withBFD := 10*time.Millisecond, false
			if impl == implGovrrp {
				iv, withBFD = time.Second, true
			}
			failoverTo(&rep.BFDFailover, fmt.Sprintf("bfdfailover/%s/%v", impl, iv), iv, kindCable, impl, false, withBFD)
		}
	}
}

// downDiags counts the diagnostics of the BFD failures in a govrrpd log
// (text format): "control_detection_time_expired ×2, neighbor_signaled_down ×1".
func downDiags(log string) string {
	n := map[string]int{}
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `msg="bfd session down"`) || !strings.Contains(line, "failure=true") {
			continue
		}
		_, rest, _ := strings.Cut(line, " diag=")
		diag, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n[diag]++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		out = append(out, fmt.Sprintf("%s ×%d", k, n[k]))
	}
	if len(out) == 0 {
		return "no failure logged"
	}
	return strings.Join(out, ", ")
}

// frrDowns is a window's bfdd Downs, "-" when not measured.
func frrDowns(n *int) string {
	if n == nil {
		return "-"
	}
	return fmt.Sprint(*n)
}
