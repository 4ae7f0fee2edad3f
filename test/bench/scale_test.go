package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/linux/netnstest"
	"govrrp/test/interop"
)

// ScaleSide is one router's process during the measurement window.
type ScaleSide struct {
	Role          string  `json:"role"` // master | backup
	PID           int     `json:"pid"`
	CPUPerSec     float64 `json:"cpu_seconds_per_second"` // utime+stime / wall
	PeakRSSKB     uint64  `json:"peak_rss_kb"`            // VmHWM
	RssAnonKB     uint64  `json:"rss_anon_kb"`            // at the end: heap, stacks
	RssFileKB     uint64  `json:"rss_file_kb"`            // at the end: mapped binary and libraries
	ParentCPU     float64 `json:"parent_cpu_seconds_per_second,omitempty"`
	ParentRSSKB   uint64  `json:"parent_peak_rss_kb,omitempty"`
	Transitions   int     `json:"transitions"`                       // state changes during the windows
	WrongState    int     `json:"wrong_state"`                       // VRs not in the expected state at the end
	Mallocs       int64   `json:"mallocs,omitempty"`                 // govrrpd: heap allocations in the window, scrape cost removed
	AllocsPerAdvt float64 `json:"allocs_per_advert"`                 // Mallocs / adverts sent (master) or received (backup)
	HeapAlloc     uint64  `json:"heap_alloc_bytes,omitempty"`        // govrrpd: live heap at the end
	ScrapeMallocs int64   `json:"memstats_scrape_mallocs,omitempty"` // cost of one memstats read, subtracted
}

// ScaleResult is one implementation × number of VRs.
type ScaleResult struct {
	Impl            string      `json:"impl"`
	VRs             int         `json:"vrs"`
	Interfaces      int         `json:"interfaces"`
	IntervalMS      float64     `json:"advert_interval_ms"`
	WindowS         float64     `json:"window_s"`
	Sides           []ScaleSide `json:"sides"`
	AdvertsPerSec   float64     `json:"adverts_per_second_eth0"` // from a capture of br0
	ExpectedPerSec  float64     `json:"expected_per_second_eth0"`
	CaptureWindowS  float64     `json:"capture_window_s"`
	NonMasterAdvert int         `json:"adverts_from_backup"` // adverts with priority > 0 from the backup in the capture
	Errors          []string    `json:"errors,omitempty"`
}

// scaleDaemon is one side of a scale case.
type scaleDaemon interface {
	start(t *testing.T)
	// counts returns how many VRs are Master and Backup.
	counts() (master, backup int, err error)
	pid() int
	parentPID() int // keepalived's parent, 0 for govrrpd
	markWindow()    // remember where the window starts
	transitionsSinceMark() int
	stop(t testing.TB)
}

type vrSpec struct {
	ifc  int // eth<ifc>
	vrid int
}

func specs(n int) []vrSpec {
	out := make([]vrSpec, n)
	for i := range out {
		out[i] = vrSpec{ifc: i / 255, vrid: i%255 + 1}
	}
	return out
}

func vipOf(s vrSpec) string { return fmt.Sprintf("10.78.%d.%d", s.ifc, s.vrid) }

// addInterfaces gives every router eth1..eth<k-1>, each on its own bridge
// br1.. in the bridge namespace (VRIDs repeat per interface, so the
// interfaces must be separate segments), with 10.77.<k>.<index>/24.
func addInterfaces(t *testing.T, lan *netnstest.LAN, k int) {
	for i := 1; i < k; i++ {
		br := "br" + strconv.Itoa(i)
		lan.Bridge.MustIP(t, "link", "add", br, "type", "bridge", "mcast_snooping", "0")
		lan.Bridge.MustIP(t, "link", "set", br, "up")
		for _, nd := range lan.Nodes {
			port, eth := fmt.Sprintf("p%de%d", nd.Index, i), "eth"+strconv.Itoa(i)
			lan.Bridge.MustIP(t, "link", "add", port, "type", "veth", "peer", "name", eth, "netns", nd.Name)
			lan.Bridge.MustIP(t, "link", "set", port, "master", br, "up")
			nd.MustIP(t, "addr", "add", fmt.Sprintf("10.77.%d.%d/24", i, nd.Index), "dev", eth)
			nd.MustIP(t, "link", "set", eth, "up")
		}
	}
}

func runScale(t *testing.T, res *ScaleResult, impl string, n int, interval, window time.Duration) {
	nifs := (n + 254) / 255
	*res = ScaleResult{Impl: impl, VRs: n, Interfaces: nifs, IntervalMS: ms(interval), WindowS: window.Seconds()}
	errorf := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		t.Log(msg)
		res.Errors = append(res.Errors, msg)
	}
	lan := netnstest.NewLAN(t, 2)
	addInterfaces(t, lan, nifs)
	dir, err := os.MkdirTemp("", "govrrp-bench-scale-")
	if err != nil {
		t.Fatal(err)
	}
	unhook := netnstest.OnInterrupt(func() { os.RemoveAll(dir) })
	t.Cleanup(func() {
		unhook()
		if t.Failed() {
			t.Logf("run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	vrs := specs(n)
	mk := func(nd *netnstest.Node, prio int) scaleDaemon {
		if impl == implGovrrp {
			return newGovrrpScale(t, nd, dir, vrs, prio, interval)
		}
		return newKeepalivedScale(t, nd, dir, vrs, prio, interval)
	}
	m, b := mk(lan.Nodes[0], 150), mk(lan.Nodes[1], 100)
	settle := 60*time.Second + 10*interval
	waitCounts := func(d scaleDaemon, name string, wantM, wantB int) {
		var gm, gb int
		var err error
		if !poll(settle, 200*time.Millisecond, func() bool {
			gm, gb, err = d.counts()
			return err == nil && gm == wantM && gb == wantB
		}) {
			t.Fatalf("%s %s: %d Master, %d Backup (want %d, %d) after %v: %v", impl, name, gm, gb, wantM, wantB, settle, err)
		}
	}
	m.start(t)
	waitCounts(m, "master", n, 0)
	b.start(t)
	waitCounts(b, "backup", 0, n)
	waitCounts(m, "master", n, 0)
	time.Sleep(2*time.Second + 3*interval)

	sides := []struct {
		role string
		d    scaleDaemon
	}{{"master", m}, {"backup", b}}
	type mark struct {
		cpu, pcpu         float64
		haveMem           bool
		mallocsA, mallocB uint64
	}
	marks := make([]mark, len(sides))
	for i, s := range sides {
		s.d.markWindow()
		if g, ok := s.d.(*govrrpScale); ok {
			_, _, _, err0 := g.g.memstats() // warm-up
			a, _, _, err1 := g.g.memstats()
			bb, _, _, err2 := g.g.memstats()
			if err1 == nil {
				err1 = err0
			}
			if err1 == nil && err2 == nil {
				marks[i].haveMem, marks[i].mallocsA, marks[i].mallocB = true, a, bb
			} else {
				errorf("%s memstats: %v %v", s.role, err1, err2)
			}
		}
	}
	start := time.Now()
	for i, s := range sides {
		marks[i].cpu, _ = cpuSeconds(s.d.pid())
		if pp := s.d.parentPID(); pp != 0 {
			marks[i].pcpu, _ = cpuSeconds(pp)
		}
	}
	time.Sleep(window)
	wall := time.Since(start).Seconds()
	for i, s := range sides {
		side := ScaleSide{Role: s.role, PID: s.d.pid()}
		c, err := cpuSeconds(s.d.pid())
		if err != nil {
			errorf("%s cpu: %v", s.role, err)
		}
		side.CPUPerSec = (c - marks[i].cpu) / wall
		side.PeakRSSKB, _ = statusKB(s.d.pid(), "VmHWM")
		side.RssAnonKB, _ = statusKB(s.d.pid(), "RssAnon")
		side.RssFileKB, _ = statusKB(s.d.pid(), "RssFile")
		if pp := s.d.parentPID(); pp != 0 {
			pc, _ := cpuSeconds(pp)
			side.ParentCPU = (pc - marks[i].pcpu) / wall
			side.ParentRSSKB, _ = statusKB(pp, "VmHWM")
		}
		if g, ok := s.d.(*govrrpScale); ok && marks[i].haveMem {
			m1, _, heap, err := g.g.memstats()
			if err != nil {
				errorf("%s memstats: %v", s.role, err)
			} else {
				scrape := int64(marks[i].mallocB - marks[i].mallocsA)
				side.ScrapeMallocs = scrape
				side.Mallocs = int64(m1-marks[i].mallocB) - scrape
				side.HeapAlloc = heap
				adverts := float64(n) * time.Since(start).Seconds() / interval.Seconds()
				side.AllocsPerAdvt = float64(side.Mallocs) / adverts
			}
		}
		res.Sides = append(res.Sides, side)
	}

	// Adverts on the wire: a short capture of eth0's segment.
	capPath := filepath.Join(dir, fmt.Sprintf("%s-%d.pcap", impl, n))
	c := interop.StartCapture(t, lan.Bridge, "br0", capPath, "ip proto 112")
	capWin := 5 * time.Second
	time.Sleep(capWin + 500*time.Millisecond)
	c.Stop()
	as, err := c.Adverts()
	if err != nil {
		errorf("capture: %v", err)
	}
	if len(as) > 0 {
		// A whole number of intervals inside the span the capture really
		// covered: VRs started together advertise in bursts, so any other
		// window counts one burst more or less than its length says.
		from := as[0].Time.Add(250 * time.Millisecond)
		span := as[len(as)-1].Time.Add(-250 * time.Millisecond).Sub(from)
		to := from.Add(max(span/interval, 1) * interval)
		count := 0
		for _, a := range as.Between(from, to) {
			switch {
			case a.Src == lan.Nodes[0].V4.Addr() && a.Priority > 0:
				count++
			case a.Src == lan.Nodes[1].V4.Addr() && a.Priority > 0:
				res.NonMasterAdvert++
			}
		}
		res.CaptureWindowS = to.Sub(from).Seconds()
		res.AdvertsPerSec = float64(count) / res.CaptureWindowS
	}
	res.ExpectedPerSec = float64(min(n, 255)) / interval.Seconds()

	for i, s := range sides {
		res.Sides[i].Transitions = s.d.transitionsSinceMark()
		gm, gb, err := s.d.counts()
		if err != nil {
			errorf("%s: %v", s.role, err)
		}
		if s.role == "master" {
			res.Sides[i].WrongState = n - gm
		} else {
			res.Sides[i].WrongState = n - gb
		}
	}
	b.stop(t)
	m.stop(t)
	t.Logf("%s N=%d: %+v", impl, n, *res)
}

// govrrpScale runs N routers in one govrrpd.
type govrrpScale struct {
	g    *govrrpd
	mark time.Time
}

func newGovrrpScale(t *testing.T, nd *netnstest.Node, dir string, vrs []vrSpec, prio int, interval time.Duration) *govrrpScale {
	g := newGovrrpd(t, govrrpdBin(t), nd, dir)
	var b strings.Builder
	for _, s := range vrs {
		fmt.Fprintf(&b, "  - {name: e%dv%d, interface: eth%d, vrid: %d, version: 3, priority: %d, advert_interval: %v, preempt: true, addresses: [%s], announce: {repeat: 1, delay: 0s}}\n",
			s.ifc, s.vrid, s.ifc, s.vrid, prio, interval, vipOf(s))
	}
	g.routers = b.String()
	g.metrics = "127.0.0.1:9624"
	if profileDir != "" {
		g.args = []string{"-cpuprofile", filepath.Join(profileDir, fmt.Sprintf("govrrpd-%s-%d-prio%d.pprof", nd.Name[strings.LastIndexByte(nd.Name, '-')+1:], len(vrs), prio))}
	}
	return &govrrpScale{g: g}
}

func (s *govrrpScale) start(t *testing.T) { s.g.Start(t) }
func (s *govrrpScale) pid() int           { return s.g.proc.PID() }
func (s *govrrpScale) parentPID() int     { return 0 }
func (s *govrrpScale) markWindow()        { s.mark = time.Now() }
func (s *govrrpScale) stop(t testing.TB)  { s.g.proc.Stop(t, syscall.SIGTERM) }

func (s *govrrpScale) counts() (m, b int, err error) {
	rs, err := s.g.statuses()
	for _, r := range rs {
		switch r.State {
		case "Master":
			m++
		case "Backup":
			b++
		}
	}
	return m, b, err
}

func (s *govrrpScale) transitionsSinceMark() int {
	rs, err := s.g.statuses()
	if err != nil {
		return -1
	}
	n := 0
	for _, r := range rs {
		if !r.Since.After(s.mark) {
			continue
		}
		n++ // at least one; count them all from the detail
		ctx, cancel := ctxTimeout()
		d, err := s.g.client.Router(ctx, r.Name)
		cancel()
		if err != nil {
			continue
		}
		k := 0
		for _, ev := range d.Transitions {
			if ev.Time.After(s.mark) {
				k++
			}
		}
		n += max(k-1, 0)
	}
	return n
}

// keepalivedScale runs N vrrp_instances in one keepalived.
type keepalivedScale struct {
	node    *netnstest.Node
	dir     string
	proc    *interop.Proc
	names   []string
	logMark int
}

func newKeepalivedScale(t *testing.T, nd *netnstest.Node, dir string, vrs []vrSpec, prio int, interval time.Duration) *keepalivedScale {
	short := nd.Name[strings.LastIndexByte(nd.Name, '-')+1:]
	k := &keepalivedScale{node: nd, dir: filepath.Join(dir, short+"-keepalived")}
	if err := os.MkdirAll(k.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  vrrp_version 3\n  vrrp_garp_master_delay 0\n  vrrp_garp_master_repeat 1\n  vrrp_garp_master_refresh 0\n  vrrp_garp_lower_prio_repeat 1\n}\n", short)
	for _, s := range vrs {
		name := fmt.Sprintf("VI_%d_%d", s.ifc, s.vrid)
		k.names = append(k.names, name)
		fmt.Fprintf(&b, "vrrp_instance %s {\n  state BACKUP\n  interface eth%d\n  virtual_router_id %d\n  priority %d\n  advert_int %s\n  virtual_ipaddress {\n    %s\n  }\n}\n",
			name, s.ifc, s.vrid, prio, strconv.FormatFloat(interval.Seconds(), 'f', -1, 64), vipOf(s))
	}
	if err := os.WriteFile(k.path("keepalived.conf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *keepalivedScale) path(f string) string { return filepath.Join(k.dir, f) }

func (k *keepalivedScale) start(t *testing.T) {
	k.proc = interop.StartProc(t, k.node, k.node.Name+"/keepalived", k.path("keepalived.log"),
		"keepalived", "-n", "-l", "-P", "-f", k.path("keepalived.conf"), "-p", k.path("keepalived.pid"), "-r", k.path("vrrp.pid"))
	if !poll(20*time.Second, 20*time.Millisecond, func() bool { return k.pid() != 0 || !k.proc.Running() }) || !k.proc.Running() {
		t.Fatalf("keepalived did not start:\n%s", tailFile(k.path("keepalived.log"), 30))
	}
}

// pid is the VRRP child's (the one that does the protocol work).
func (k *keepalivedScale) pid() int {
	p, err := readPidFile(k.path("vrrp.pid"))
	if err != nil {
		return 0
	}
	return p
}

func (k *keepalivedScale) parentPID() int    { return k.proc.PID() }
func (k *keepalivedScale) stop(t testing.TB) { k.proc.Stop(t, syscall.SIGTERM) }

func (k *keepalivedScale) log() string {
	b, _ := os.ReadFile(k.path("keepalived.log"))
	return string(b)
}

func (k *keepalivedScale) counts() (m, b int, err error) {
	st := map[string]string{}
	for _, line := range strings.Split(k.log(), "\n") {
		_, rest, ok := strings.Cut(line, "(VI_")
		if !ok {
			continue
		}
		name, rest, ok := strings.Cut(rest, ") Entering ")
		if !ok {
			continue
		}
		st[name], _, _ = strings.Cut(rest, " ")
	}
	for _, s := range st {
		switch s {
		case "MASTER":
			m++
		case "BACKUP":
			b++
		}
	}
	return m, b, nil
}

func (k *keepalivedScale) markWindow() { k.logMark = len(k.log()) }

func (k *keepalivedScale) transitionsSinceMark() int {
	l := k.log()
	if len(l) < k.logMark {
		return -1
	}
	return strings.Count(l[k.logMark:], ") Entering ")
}
