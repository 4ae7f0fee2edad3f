package bench

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/test/interop"
)

// scaleCase is one steady-state case: VRs spread evenly over interfaces
// (VRIDs 1.. on each), all at one advert interval.
type scaleCase struct {
	Name       string        // "50x10ms"
	VRs        int           // in all
	Interfaces int           // eth0..eth<k-1>, each pair on its own bridge
	Interval   time.Duration // advert interval
	Window     time.Duration // measurement window of one run (full mode)
	Runs       int           // runs (fresh daemons each) in full mode
}

// scaleCases are the steady-state rows. The 5- and 10-minute
// windows run fewer times than the others (flag -long-runs), or a full
// bench would take hours.
func scaleCases(window time.Duration, runs, longRuns int) []scaleCase {
	return []scaleCase{
		{"50x10ms", 50, 1, 10 * time.Millisecond, window, runs},
		// 30 s: at 1 s adverts 15 s is only a few dozen clock ticks of CPU.
		{"255x1s", 255, 1, time.Second, max(window, 30*time.Second), runs},
		{"1000x100ms", 1000, 4, 100 * time.Millisecond, 5 * time.Minute, longRuns},
		{"4080x1s", 4080, 16, time.Second, 10 * time.Minute, longRuns},
	}
}

// ScaleSide is one router's daemon during the measurement window. For
// keepalived every figure is both its processes (parent + VRRP child)
// unless named Child/Parent.
type ScaleSide struct {
	Role          string    `json:"role"` // master | backup
	PID           int       `json:"pid"`
	CPUPerSec     float64   `json:"cpu_seconds_per_second"` // utime+stime / wall, median over runs
	CPURuns       []float64 `json:"cpu_runs,omitempty"`     // one per run
	ChildCPU      float64   `json:"child_cpu_seconds_per_second,omitempty"`
	ParentCPU     float64   `json:"parent_cpu_seconds_per_second,omitempty"`
	PeakRSSKB     uint64    `json:"peak_rss_kb"` // VmHWM, summed over the processes
	RSSKB         uint64    `json:"rss_kb"`      // VmRSS at the end
	ChildRSSKB    uint64    `json:"child_peak_rss_kb,omitempty"`
	ParentRSSKB   uint64    `json:"parent_peak_rss_kb,omitempty"`
	RssAnonKB     uint64    `json:"rss_anon_kb"` // at the end: heap, stacks
	RssFileKB     uint64    `json:"rss_file_kb"` // at the end: mapped binary and libraries
	Threads       int       `json:"threads"`
	CtxSwPerAdvt  float64   `json:"context_switches_per_advert"` // all threads, voluntary + not; a proxy for wake-ups (hops) per advert
	Transitions   int       `json:"transitions"`                 // state changes during the windows, all runs
	WrongState    int       `json:"wrong_state"`                 // VRs not in the expected state at the end, worst run
	Mallocs       int64     `json:"mallocs,omitempty"`           // govrrpd: heap allocations in the window, scrape cost removed
	AllocsPerAdvt float64   `json:"allocs_per_advert"`           // Mallocs / adverts sent (master) or received (backup)
	HeapAlloc     uint64    `json:"heap_alloc_bytes,omitempty"`  // govrrpd: live heap at the end
	ScrapeMallocs int64     `json:"memstats_scrape_mallocs,omitempty"`
	Profile       string    `json:"cpu_profile,omitempty"` // govrrpd -cpuprofile of the last run
	LogBytes      int64     `json:"log_bytes_in_window"`   // written to the daemon's stdout/stderr log during the window
}

// ScaleResult is one implementation × case (all its runs).
type ScaleResult struct {
	Impl            string      `json:"impl"`
	Mode            string      `json:"mode,omitempty"` // keepalived: how it was started (kaPlain...)
	Case            string      `json:"case"`
	VRs             int         `json:"vrs"`
	Interfaces      int         `json:"interfaces"`
	IntervalMS      float64     `json:"advert_interval_ms"`
	WindowS         float64     `json:"window_s"`
	Runs            int         `json:"runs"`
	Sides           []ScaleSide `json:"sides"`
	AdvertsPerSec   float64     `json:"adverts_per_second_eth0"` // from a capture of br0
	ExpectedPerSec  float64     `json:"expected_per_second_eth0"`
	CaptureWindowS  float64     `json:"capture_window_s"`
	NonMasterAdvert int         `json:"adverts_from_backup"` // adverts with priority > 0 from the backup in the capture
	BusyCores       float64     `json:"machine_busy_cores"`  // whole machine during the window (median over runs): noise
	StealCores      float64     `json:"machine_steal_cores"` // of which stolen by the hypervisor
	Errors          []string    `json:"errors,omitempty"`
}

// scaleDaemon is one side of a scale case.
type scaleDaemon interface {
	start(t *testing.T)
	// counts returns how many VRs are Master and Backup.
	counts() (master, backup int, err error)
	pid() int       // the process doing the protocol work
	parentPID() int // keepalived's parent, 0 for govrrpd
	markWindow()    // remember where the window starts
	transitionsSinceMark() int
	stop(t testing.TB)
}

func pidsOf(d scaleDaemon) []int {
	if pp := d.parentPID(); pp != 0 {
		return []int{d.pid(), pp}
	}
	return []int{d.pid()}
}

type vrSpec struct {
	ifc      int // eth<ifc>
	vrid     int
	interval time.Duration
	vip      netip.Prefix
}

// specs spreads n VRs evenly over k interfaces, VRIDs from 1 on each.
func specs(n, k int, interval time.Duration) []vrSpec {
	per := (n + k - 1) / k
	out := make([]vrSpec, n)
	for i := range out {
		ifc, vrid := i/per, i%per+1
		out[i] = vrSpec{ifc: ifc, vrid: vrid, interval: interval, vip: vipOf(ifc, vrid)}
	}
	return out
}

func vipOf(ifc, vrid int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 78, byte(ifc), byte(vrid)}), 32)
}

func kaVRs(vrs []vrSpec, prio int) []kaVR {
	out := make([]kaVR, len(vrs))
	for i, s := range vrs {
		out[i] = kaVR{ifc: s.ifc, vrid: s.vrid, prio: prio, interval: s.interval, vip: s.vip}
	}
	return out
}

// addInterfaces gives every router eth1..eth<k-1>, each on its own bridge
// br1.. in the bridge namespace (VRIDs repeat per interface, so the
// interfaces must be separate segments), with 10.77.<k>.<index>/24.
func addInterfaces(t *testing.T, lan *lab.LAN, k int) {
	for i := 1; i < k; i++ {
		br := "br" + strconv.Itoa(i)
		lan.Bridge.MustIP(t, "link", "add", br, "type", "bridge", "mcast_snooping", "0")
		lan.Bridge.MustIP(t, "link", "set", br, "up")
		for _, nd := range lan.Nodes {
			if nd.Index >= 100 {
				continue // the Lab's host: eth0 only
			}
			port, eth := fmt.Sprintf("p%de%d", nd.Index, i), "eth"+strconv.Itoa(i)
			lan.Bridge.MustIP(t, "link", "add", port, "type", "veth", "peer", "name", eth, "netns", nd.Name)
			lan.Bridge.MustIP(t, "link", "set", port, "master", br, "up")
			nd.MustIP(t, "addr", "add", fmt.Sprintf("10.77.%d.%d/24", i, nd.Index), "dev", eth)
			nd.MustIP(t, "link", "set", eth, "up")
		}
	}
}

// runDir is a temporary directory removed at the end (kept on failure).
func runDir(t *testing.T, prefix string) string {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	unhook := lab.OnInterrupt(func() { os.RemoveAll(dir) })
	t.Cleanup(func() {
		unhook()
		if t.Failed() {
			t.Logf("run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// procSample is what /proc says about a daemon's processes at one moment.
type procSample struct {
	cpu         []float64 // per pid, seconds
	hwm, rss    uint64    // kB, summed
	anon, file  uint64
	threads     int
	ctxSwitches uint64
	childHWM    uint64
	parentHWM   uint64
	err         error
}

func sampleProcs(pids []int) procSample {
	var s procSample
	for i, pid := range pids {
		c, err := lab.CPUSeconds(pid)
		if err != nil && s.err == nil {
			s.err = err
		}
		s.cpu = append(s.cpu, c)
		hwm, _ := lab.StatusKB(pid, "VmHWM")
		rss, _ := lab.StatusKB(pid, "VmRSS")
		anon, _ := lab.StatusKB(pid, "RssAnon")
		file, _ := lab.StatusKB(pid, "RssFile")
		thr, _ := lab.StatusKB(pid, "Threads")
		s.hwm += hwm
		s.rss += rss
		s.anon += anon
		s.file += file
		s.threads += int(thr)
		s.ctxSwitches += ctxSwitches(pid)
		if i == 0 {
			s.childHWM = hwm
		} else {
			s.parentHWM += hwm
		}
	}
	return s
}

func (s procSample) total() float64 {
	t := 0.0
	for _, c := range s.cpu {
		t += c
	}
	return t
}

// scaleDaemons builds the master (150) and backup (100) of vrs for impl.
func scaleDaemons(t *testing.T, impl, mode string, lan *lab.LAN, dir string, vrs []vrSpec, profileTag string) (m, b scaleDaemon) {
	mk := func(nd *lab.Node, prio int) scaleDaemon {
		if impl == implGovrrp {
			return newGovrrpScale(t, nd, dir, vrs, prio, profileTag)
		}
		return newKaPeer(t, nd, dir, mode, kaVRs(vrs, prio))
	}
	return mk(lan.Nodes[0], 150), mk(lan.Nodes[1], 100)
}

// waitCounts waits until d has wantM Masters and wantB Backups.
func waitCounts(t *testing.T, d scaleDaemon, name string, wantM, wantB int, settle time.Duration) {
	t.Helper()
	var gm, gb int
	var err error
	if !lab.Poll(settle, 200*time.Millisecond, func() bool {
		gm, gb, err = d.counts()
		return err == nil && gm == wantM && gb == wantB
	}) {
		t.Fatalf("%s: %d Master, %d Backup (want %d, %d) after %v: %v", name, gm, gb, wantM, wantB, settle, err)
	}
}

// runScale is one run of a scale case: a fresh LAN and daemon pair, a
// CPU/memory window once everything has settled, a 5 s capture of eth0's
// segment, then state checks.
func runScale(t *testing.T, res *ScaleResult, impl, mode string, sc scaleCase, window time.Duration, run int) {
	n, interval := sc.VRs, sc.Interval
	*res = ScaleResult{Impl: impl, Case: sc.Name, VRs: n, Interfaces: sc.Interfaces, IntervalMS: ms(interval), WindowS: window.Seconds(), Runs: 1}
	if impl == implKeepalived {
		res.Mode = mode
	}
	errorf := func(format string, args ...any) { logError(t, &res.Errors, format, args...) }
	lan := lab.NewLAN(t, 2)
	addInterfaces(t, lan, sc.Interfaces)
	dir := runDir(t, "govrrp-bench-scale-")
	vrs := specs(n, sc.Interfaces, interval)
	m, b := scaleDaemons(t, impl, mode, lan, dir, vrs, fmt.Sprintf("%s-run%d", sc.Name, run))
	settle := 60*time.Second + 10*interval + time.Duration(n)*10*time.Millisecond
	m.start(t)
	waitCounts(t, m, impl+" master", n, 0, settle)
	b.start(t)
	waitCounts(t, b, impl+" backup", 0, n, settle)
	waitCounts(t, m, impl+" master", n, 0, settle)
	time.Sleep(2*time.Second + 3*interval)

	sides := []struct {
		role string
		d    scaleDaemon
	}{{"master", m}, {"backup", b}}
	type mark struct {
		s                 procSample
		haveMem           bool
		mallocsA, mallocB uint64
		logSize           int64
	}
	marks := make([]mark, len(sides))
	logSize := func(d scaleDaemon) int64 {
		p := ""
		switch d := d.(type) {
		case *kaPeer:
			p = d.path("keepalived.log")
		case *govrrpScale:
			p = d.g.LogPath()
		}
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	for i, s := range sides {
		marks[i].logSize = logSize(s.d)
		s.d.markWindow()
		if g, ok := s.d.(*govrrpScale); ok {
			_, _, _, err0 := memstats(g.g, g.metrics) // warm-up
			a, _, _, err1 := memstats(g.g, g.metrics)
			bb, _, _, err2 := memstats(g.g, g.metrics)
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
	mt0 := readMachineTicks()
	for i, s := range sides {
		marks[i].s = sampleProcs(pidsOf(s.d))
	}
	time.Sleep(window)
	wall := time.Since(start).Seconds()
	res.BusyCores, res.StealCores = busyCores(mt0, readMachineTicks(), wall)
	adverts := float64(n) * wall / interval.Seconds()
	for i, s := range sides {
		side := ScaleSide{Role: s.role, PID: s.d.pid(), LogBytes: logSize(s.d) - marks[i].logSize}
		e := sampleProcs(pidsOf(s.d))
		if e.err != nil {
			errorf("%s: %v", s.role, e.err)
		}
		side.CPUPerSec = (e.total() - marks[i].s.total()) / wall
		side.CPURuns = []float64{side.CPUPerSec}
		if len(e.cpu) == 2 && len(marks[i].s.cpu) == 2 {
			side.ChildCPU = (e.cpu[0] - marks[i].s.cpu[0]) / wall
			side.ParentCPU = (e.cpu[1] - marks[i].s.cpu[1]) / wall
			side.ChildRSSKB, side.ParentRSSKB = e.childHWM, e.parentHWM
		}
		side.PeakRSSKB, side.RSSKB, side.RssAnonKB, side.RssFileKB, side.Threads = e.hwm, e.rss, e.anon, e.file, e.threads
		side.CtxSwPerAdvt = float64(e.ctxSwitches-marks[i].s.ctxSwitches) / adverts
		if g, ok := s.d.(*govrrpScale); ok && marks[i].haveMem {
			m1, _, heap, err := memstats(g.g, g.metrics)
			if err != nil {
				errorf("%s memstats: %v", s.role, err)
			} else {
				scrape := int64(marks[i].mallocB - marks[i].mallocsA)
				side.ScrapeMallocs = scrape
				side.Mallocs = int64(m1-marks[i].mallocB) - scrape
				side.HeapAlloc = heap
				side.AllocsPerAdvt = float64(side.Mallocs) / (float64(n) * time.Since(start).Seconds() / interval.Seconds())
			}
			side.Profile = g.profile
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
	perIfc := 0
	for _, s := range vrs {
		if s.ifc == 0 {
			perIfc++
		}
	}
	res.ExpectedPerSec = float64(perIfc) / interval.Seconds()

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
	t.Logf("%s %s run %d: %+v", impl, sc.Name, run, *res)
}

// mergeRuns folds runs of one case into one result: medians of the rates
// and sizes, transitions summed, the worst wrong-state count.
func mergeRuns(rs []ScaleResult) ScaleResult {
	if len(rs) == 0 {
		return ScaleResult{}
	}
	out := rs[len(rs)-1]
	out.Runs = len(rs)
	out.Errors = nil
	var aps, busy, steal []float64
	for _, r := range rs {
		out.Errors = append(out.Errors, r.Errors...)
		aps = append(aps, r.AdvertsPerSec)
		busy = append(busy, r.BusyCores)
		steal = append(steal, r.StealCores)
	}
	out.AdvertsPerSec, _, _, _ = stats(aps)
	out.BusyCores, _, _, _ = stats(busy)
	out.StealCores, _, _, _ = stats(steal)
	out.Sides = nil
	for i := range rs[len(rs)-1].Sides {
		side := rs[len(rs)-1].Sides[i]
		var cpu, ccpu, pcpu, hwm, rss, cs, apa []float64
		side.CPURuns, side.Transitions, side.WrongState = nil, 0, 0
		for _, r := range rs {
			if i >= len(r.Sides) {
				continue
			}
			s := r.Sides[i]
			cpu = append(cpu, s.CPUPerSec)
			ccpu = append(ccpu, s.ChildCPU)
			pcpu = append(pcpu, s.ParentCPU)
			hwm = append(hwm, float64(s.PeakRSSKB))
			rss = append(rss, float64(s.RSSKB))
			cs = append(cs, s.CtxSwPerAdvt)
			apa = append(apa, s.AllocsPerAdvt)
			side.CPURuns = append(side.CPURuns, s.CPUPerSec)
			side.Transitions += s.Transitions
			side.WrongState = max(side.WrongState, s.WrongState)
		}
		med := func(xs []float64) float64 { m, _, _, _ := stats(xs); return m }
		side.CPUPerSec, side.ChildCPU, side.ParentCPU = med(cpu), med(ccpu), med(pcpu)
		side.PeakRSSKB, side.RSSKB = uint64(med(hwm)), uint64(med(rss))
		side.CtxSwPerAdvt, side.AllocsPerAdvt = med(cs), med(apa)
		out.Sides = append(out.Sides, side)
	}
	return out
}

// runScaleCase runs a case `runs` times for every implementation, the
// implementations taking turns within each run so that load from other work
// on the machine lands on all of them alike, and merges each one's runs.
func runScaleCase(t *testing.T, impls []string, sc scaleCase, window time.Duration, runs int) []ScaleResult {
	per := map[string][]ScaleResult{}
	for run := range runs {
		for _, impl := range impls {
			var r ScaleResult
			ok := t.Run(fmt.Sprintf("scale/%s/%s/run%d", impl, sc.Name, run), func(t *testing.T) { runScale(t, &r, impl, kaPlain, sc, window, run) })
			if r.Impl == "" {
				if ok {
					continue // filtered out by -run
				}
				r = ScaleResult{Impl: impl, Case: sc.Name, VRs: sc.VRs, Interfaces: sc.Interfaces, IntervalMS: ms(sc.Interval)}
			}
			if !ok {
				r.Errors = append(r.Errors, fmt.Sprintf("run %d aborted by a harness failure: see the test log", run))
			}
			if rs := per[impl]; len(r.Sides) == 0 && len(rs) > 0 {
				rs[len(rs)-1].Errors = append(rs[len(rs)-1].Errors, r.Errors...)
				continue
			}
			per[impl] = append(per[impl], r)
		}
	}
	var out []ScaleResult
	for _, impl := range impls {
		if rs := per[impl]; len(rs) > 0 {
			m := mergeRuns(rs)
			if impl == implGovrrp {
				m.Mode = ""
			}
			out = append(out, m)
		}
	}
	return out
}

// ctxSwitches sums voluntary and involuntary context switches over the
// threads of pid (/proc/PID/status counts the main thread only).
func ctxSwitches(pid int) uint64 {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var n uint64
	for _, e := range ents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, k := range []string{"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"} {
				if v, ok := strings.CutPrefix(line, k); ok {
					x, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
					n += x
				}
			}
		}
	}
	return n
}

// govrrpScale runs N routers in one govrrpd.
type govrrpScale struct {
	g       *interop.Govrrp
	metrics string // its metrics_listen
	mark    time.Time
	profile string // -cpuprofile file, "" without -profile
}

// govrrpRouters is the routers section for vrs at priority prio; VR 51 on
// eth0 is named as the failover cases name it (vrName).
func govrrpRouters(vrs []vrSpec, prio int) string {
	// accept: true, as keepalived's default beside it; the failover runs
	// probe VR 51's VIP.
	var b strings.Builder
	for _, s := range vrs {
		name := fmt.Sprintf("e%dv%d", s.ifc, s.vrid)
		if s.ifc == 0 && s.vrid == 51 {
			name = vrName(vr51(0, 0))
		}
		fmt.Fprintf(&b, "  - {name: %s, interface: eth%d, vrid: %d, version: 3, priority: %d, advert_interval: %v, preempt: true, accept: true, addresses: [%s], announce: {repeat: 1, delay: 0s}}\n",
			name, s.ifc, s.vrid, prio, s.interval, s.vip)
	}
	return b.String()
}

func newGovrrpScale(t *testing.T, nd *lab.Node, dir string, vrs []vrSpec, prio int, profileTag string) *govrrpScale {
	g := newGovrrpd(t, govrrpdBin(t), nd, dir)
	g.Routers = govrrpRouters(vrs, prio)
	s := &govrrpScale{g: g, metrics: "127.0.0.1:9624"}
	g.Top = "metrics_listen: " + s.metrics + "\n"
	if profileDir != "" {
		role := "backup"
		if prio > 100 {
			role = "master"
		}
		s.profile = filepath.Join(profileDir, fmt.Sprintf("govrrpd-%s-%s.pprof", profileTag, role))
		g.Daemon().Args = []string{"-cpuprofile", s.profile, "-memprofile", strings.TrimSuffix(s.profile, ".pprof") + ".heap"}
	}
	return s
}

func (s *govrrpScale) start(t *testing.T) { s.g.Start(t) }
func (s *govrrpScale) pid() int           { return s.g.Proc().PID() }
func (s *govrrpScale) parentPID() int     { return 0 }
func (s *govrrpScale) markWindow()        { s.mark = time.Now() }
func (s *govrrpScale) stop(t testing.TB)  { s.g.Stop(t) }

func (s *govrrpScale) counts() (m, b int, err error) {
	rs, err := s.g.Daemon().Routers(context.Background())
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
	rs, err := s.g.Daemon().Routers(context.Background())
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
		d, err := s.g.Client().Router(ctx, r.Name)
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
