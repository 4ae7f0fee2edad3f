package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagReport    = flag.Bool("bench-report", false, "run the network benchmark and write the report (needs root, keepalived, tcpdump)")
	flagQuick     = flag.Bool("quick", false, "development mode: 3 runs per failover case, one short run (seconds) of every other case")
	flagRuns      = flag.Int("runs", 10, "failovers per case (implementation × interval × failure kind)")
	flagScale     = flag.String("scale", "50x10ms,255x1s,1000x100ms,4080x1s", "scale cases to run (names of scaleCases)")
	flagScaleRuns = flag.Int("scale-runs", 5, "runs (fresh daemons) of the scale cases with short windows; the report gives medians")
	flagLongRuns  = flag.Int("long-runs", 1, "runs of the 5- and 10-minute scale cases (1000x100ms, 4080x1s)")
	flagWindow    = flag.Duration("window", 15*time.Second, "CPU measurement window of the short scale cases (255x1s uses at least 30s)")
	flagKaModes   = flag.String("ka-modes", kaPlain+","+kaConsole, "keepalived command lines compared at 50x10ms (plain, console, console+detail)")
	flagKaRuns    = flag.Int("ka-mode-runs", 5, "runs per keepalived mode, alternated so that load from other work hits both alike")
	flagFloodRate = flag.Int("flood-rate", 150000, "flood packets per second")
	flagFloodFor  = flag.Duration("flood-for", 30*time.Second, "flood duration")
	flagOut       = flag.String("out", "../../docs", "directory for BENCHMARKS.md and benchmarks.json")
	flagMicro     = flag.String("micro", "", "file with the output of the Go micro-benchmarks to include")
	flagImpls     = flag.String("impls", "govrrp,keepalived,frr", "implementations to run (frr: FRR's vrrpd, in the bfdfailover case only)")
	flagCases     = flag.String("cases", strings.Join(allCases, ","), "parts to run")
	flagBFDFalse  = flag.Duration("bfd-false-for", 10*time.Minute, "bfdfalse: each window (idle, CPU hogs)")
	flagBFDCPU    = flag.Duration("bfd-cpu-window", time.Minute, "bfdcpu: the CPU window")
	flagRender    = flag.Bool("render", false, "only rewrite BENCHMARKS.md from the benchmarks.json in -out")
	flagMerge     = flag.Bool("merge", false, "keep the sections of the cases not in -cases from the benchmarks.json in -out (rerun part of a full run)")
	flagGovrrpd   = flag.String("govrrpd", "", "govrrpd binary to measure (default: built from this tree)")
	flagProfile   = flag.String("profile", "", "directory for govrrpd CPU profiles of the scale, loaded and flood cases (govrrpd -cpuprofile)")
)

const (
	implGovrrp     = "govrrp"
	implKeepalived = "keepalived"
	implFRR        = "frr" // FRR 8.4's vrrpd: the BFD failover case only
)

var profileDir string

// Report is benchmarks.json.
type Report struct {
	Date     time.Time        `json:"date"`
	Machine  Machine          `json:"machine"`
	Commands []string         `json:"commands"`
	Mode     string           `json:"mode"`
	Failover []FailoverResult `json:"failover"`
	Scale    []ScaleResult    `json:"scale"`
	KaModes  []ScaleResult    `json:"keepalived_modes,omitempty"` // 50x10ms keepalived started different ways
	Flood    []FloodResult    `json:"flood,omitempty"`
	// BFD (issue 16).
	BFDDetect   []BFDDetectResult `json:"bfd_detection,omitempty"`
	BFDFalse    []BFDFalseResult  `json:"bfd_false_downs,omitempty"`
	BFDCPU      []BFDCPUResult    `json:"bfd_cpu,omitempty"`
	BFDFailover []FailoverResult  `json:"bfd_failover,omitempty"`
	Profiles    string            `json:"profiles,omitempty"` // -profile directory of the run
	// Carried names the cases kept from an earlier run by -merge, with
	// that run's date and mode.
	Carried []string      `json:"carried,omitempty"`
	Micro   []MicroResult `json:"micro,omitempty"`
}

// Machine describes where the numbers come from.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryMB   int    `json:"memory_mb"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	Keepalived string `json:"keepalived"`
	Govrrp     string `json:"govrrp"`
}

// MicroResult is one line of `go test -bench -benchmem`.
type MicroResult struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op"`
	AllocsPerOp float64 `json:"allocs_per_op"`
}

// TestBenchmarkReport is the network benchmark of `make bench`. It runs only
// with -bench-report.
func TestBenchmarkReport(t *testing.T) {
	if *flagRender {
		b, err := os.ReadFile(filepath.Join(*flagOut, "benchmarks.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*flagOut, "BENCHMARKS.md"), []byte(markdown(&rep)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !*flagReport {
		t.Skip("network benchmark: run with -bench-report (make bench)")
	}
	runs, scaleRuns, longRuns, window := *flagRuns, *flagScaleRuns, *flagLongRuns, *flagWindow
	kaRuns, floodFor := *flagKaRuns, *flagFloodFor
	bfdFalseFor, bfdCPUWindow := *flagBFDFalse, *flagBFDCPU
	mode := "full"
	if *flagQuick {
		runs, scaleRuns, longRuns, kaRuns, floodFor, mode = 3, 1, 1, 1, 5*time.Second, "quick"
		bfdFalseFor, bfdCPUWindow = 20*time.Second, 10*time.Second
	}
	profileDir = *flagProfile
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	allImpls := strings.Split(*flagImpls, ",")
	// The cases before issue 16 compare govrrp with keepalived only.
	impls := slices.DeleteFunc(slices.Clone(allImpls), func(s string) bool { return s == implFRR })
	rep := Report{Date: time.Now().UTC(), Machine: machine(), Mode: mode, Profiles: profileDir}
	rep.Commands = []string{
		"make bench",
		"go test -run='^$' -bench=. -benchmem ./...",
		"go test -count=1 -timeout 150m -v -run '^TestBenchmarkReport$' ./test/bench " + strings.Join(ownArgs(), " "),
		"(as root; BENCHFLAGS=-quick for a development pass: 3 failovers per case, one run of seconds of every other case)",
	}
	if *flagMicro != "" {
		rep.Micro = parseMicro(*flagMicro)
	}
	cases := strings.Split(*flagCases, ",")
	// -merge reads the earlier report first, so that a bad one fails
	// before an hour of measurements rather than after.
	var old *Report
	if *flagMerge {
		b, err := os.ReadFile(filepath.Join(*flagOut, "benchmarks.json"))
		if err != nil {
			t.Fatalf("-merge: %v", err)
		}
		old = new(Report)
		if err := json.Unmarshal(b, old); err != nil {
			t.Fatalf("-merge: %v", err)
		}
	}
	failoverTo := func(out *[]FailoverResult, name string, iv time.Duration, kind, impl string, load, withBFD bool) {
		var r FailoverResult
		ok := t.Run(name, func(t *testing.T) { runFailover(t, &r, impl, iv, kind, runs, load, withBFD) })
		if r.Impl == "" {
			if ok {
				return // filtered out by -run
			}
			r = FailoverResult{Impl: impl, Kind: kind, IntervalMS: ms(iv)}
		}
		if !ok {
			r.Errors = append(r.Errors, "case aborted by a harness failure: see the test log")
		}
		*out = append(*out, r)
	}
	failover := func(name string, iv time.Duration, kind, impl string, load bool) {
		failoverTo(&rep.Failover, name, iv, kind, impl, load, false)
	}
	if slices.Contains(cases, "failover") {
		for _, iv := range []time.Duration{10 * time.Millisecond, time.Second} {
			for _, kind := range []string{kindCable, kindSIGTERM} {
				for _, impl := range impls {
					failover(fmt.Sprintf("failover/%s/%v/%s", impl, iv, strings.ReplaceAll(kind, " ", "_")), iv, kind, impl, false)
				}
			}
		}
	}
	if slices.Contains(cases, "loaded") {
		for _, kind := range []string{kindCable, kindSIGTERM} {
			for _, impl := range impls {
				failover(fmt.Sprintf("loaded/%s/10ms/%s", impl, strings.ReplaceAll(kind, " ", "_")), 10*time.Millisecond, kind, impl, true)
			}
		}
	}
	if slices.Contains(cases, "kamodes") && slices.Contains(impls, implKeepalived) {
		rep.KaModes = runKaModes(t, strings.Split(*flagKaModes, ","), kaRuns, *flagQuick, window)
	}
	if slices.Contains(cases, "scale") {
		want := strings.Split(*flagScale, ",")
		for _, sc := range scaleCases(window, scaleRuns, longRuns) {
			if !slices.Contains(want, sc.Name) {
				continue
			}
			w, n := sc.Window, sc.Runs
			if *flagQuick {
				w, n = quickWindow(sc), 1
			}
			rep.Scale = append(rep.Scale, runScaleCase(t, impls, sc, w, n)...)
		}
	}
	if slices.Contains(cases, "flood") {
		for _, impl := range impls {
			var r FloodResult
			ok := t.Run("flood/"+impl, func(t *testing.T) { runFlood(t, &r, impl, *flagFloodRate, floodFor) })
			if r.Impl == "" {
				if ok {
					continue
				}
				r = FloodResult{Impl: impl}
			}
			if !ok {
				r.Errors = append(r.Errors, "case aborted by a harness failure: see the test log")
			}
			rep.Flood = append(rep.Flood, r)
		}
	}
	runBFDCases(t, &rep, cases, allImpls, runs, bfdFalseFor, bfdCPUWindow, failoverTo)
	if old != nil {
		ran := slices.Clone(cases)
		if !slices.Contains(impls, implKeepalived) {
			ran = slices.DeleteFunc(ran, func(c string) bool { return c == "kamodes" })
		}
		mergeReport(&rep, old, ran, allImpls)
	}
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(*flagOut, "benchmarks.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	md := markdown(&rep)
	if err := os.WriteFile(filepath.Join(*flagOut, "BENCHMARKS.md"), []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + md)
}

// ownArgs are the benchmark's flags from the command line (not -test.*).
func ownArgs() []string {
	var out []string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.HasPrefix(a, "-test."), strings.HasPrefix(a, "-micro="):
		case a == "-micro":
			i++ // a temporary file of make bench
		default:
			out = append(out, a)
		}
	}
	return out
}

// quickWindow is a case's window under -quick: long enough for a handful
// of adverts per VR, short enough for a development pass.
func quickWindow(sc scaleCase) time.Duration {
	if sc.Interval >= time.Second {
		return 10 * time.Second
	}
	return 5 * time.Second
}

// runKaModes runs keepalived at 50 VRs × 10 ms started each way in turn
// (mode A, B, A, B, ...) so that noise from other work on the machine lands
// on all modes alike; one result per mode, medians over its runs.
func runKaModes(t *testing.T, modes []string, runs int, quick bool, window time.Duration) []ScaleResult {
	sc := scaleCases(window, runs, 1)[0]
	if quick {
		window = quickWindow(sc)
	}
	per := map[string][]ScaleResult{}
	for run := range runs {
		for _, mode := range modes {
			var r ScaleResult
			ok := t.Run(fmt.Sprintf("kamodes/%s/run%d", mode, run), func(t *testing.T) { runScale(t, &r, implKeepalived, mode, sc, window, run) })
			if r.Impl == "" {
				continue
			}
			if !ok {
				r.Errors = append(r.Errors, "run aborted by a harness failure: see the test log")
			}
			if len(r.Sides) > 0 {
				per[mode] = append(per[mode], r)
			}
		}
	}
	var out []ScaleResult
	for _, mode := range modes {
		if rs := per[mode]; len(rs) > 0 {
			out = append(out, mergeRuns(rs))
		}
	}
	return out
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// govrrpdBin builds govrrpd from this tree once (no race detector: its
// overhead would be measured).
func govrrpdBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if *flagGovrrpd != "" {
			binPath, buildErr = *flagGovrrpd, nil
			return
		}
		dir, err := os.MkdirTemp("", "govrrp-bench-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "govrrpd")
		// As `make build` ships it.
		out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", binPath, "govrrp/cmd/govrrpd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build govrrpd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binPath != "" && *flagGovrrpd == "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if kb, err := statusKBFile("/proc/meminfo", "MemTotal"); err == nil {
		m.MemoryMB = int(kb / 1024)
	}
	if out, err := exec.Command("keepalived", "--version").CombinedOutput(); err == nil || len(out) > 0 {
		m.Keepalived = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	if out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		m.Govrrp = strings.TrimSpace(string(out))
	}
	return m
}

func statusKBFile(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return strconv.ParseUint(f[0], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

// parseMicro reads `go test -bench -benchmem` output (pkg: lines, then
// Benchmark lines).
func parseMicro(path string) []MicroResult {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []MicroResult
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fs := strings.Fields(line)
		r := MicroResult{Package: pkg, Name: strings.TrimSuffix(fs[0], "-"+strconv.Itoa(runtime.GOMAXPROCS(0)))}
		for i := 1; i+1 < len(fs); i++ {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				continue
			}
			switch fs[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "B/op":
				r.BytesPerOp = v
			case "allocs/op":
				r.AllocsPerOp = v
			}
		}
		out = append(out, r)
	}
	return out
}

// stats: median, p90 (nearest rank) and max.
func stats(xs []float64) (med, p90, mx float64, ok bool) {
	if len(xs) == 0 {
		return 0, 0, 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		med = s[n/2]
	} else {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	rank := int(math.Ceil(0.9*float64(n))) - 1
	return med, s[max(rank, 0)], s[n-1], true
}

// allCases are the parts of -cases, in the order they run.
var allCases = []string{"failover", "loaded", "scale", "kamodes", "flood", "bfd", "bfdfalse", "bfdcpu", "bfdfailover"}

// mergeReport completes rep, which ran only cases with impls, with old's
// results of every other case, and of the implementations this run left
// out in the cases it ran; it names what it kept in rep.Carried, with the
// run each part comes from (an earlier merge's label is kept). failover and
// loaded share one list, told apart by Load.
func mergeReport(rep, old *Report, cases, impls []string) {
	from := fmt.Sprintf("%s run of %s", old.Mode, old.Date.Format("2006-01-02 15:04 MST"))
	label := func(part string) string {
		for _, c := range old.Carried {
			if strings.HasPrefix(c, part+" (") {
				return c
			}
		}
		return part + " (" + from + ")"
	}
	// carried reports whether case c was not run, recording it if so.
	carried := func(c string) bool {
		if slices.Contains(cases, c) {
			return false
		}
		rep.Carried = append(rep.Carried, label(c))
		// The parts of it an earlier merge kept from a run before.
		for _, e := range old.Carried {
			if strings.HasPrefix(e, c+": ") {
				rep.Carried = append(rep.Carried, e)
			}
		}
		return true
	}
	// others notes the implementations of a run case kept from old.
	others := func(c string, kept []string) {
		slices.Sort(kept)
		for _, impl := range slices.Compact(kept) {
			rep.Carried = append(rep.Carried, label(c+": "+impl))
		}
	}
	// keep merges one list: old's rows when the case did not run, else
	// old's rows of implementations this run left out, then the new rows.
	keep := func(c string, oldRows []string, idx func(i int) bool) []int {
		var out []int
		notRun := carried(c)
		var kept []string
		for i, impl := range oldRows {
			if !idx(i) {
				continue
			}
			if notRun || !slices.Contains(impls, impl) {
				out = append(out, i)
				if !notRun {
					kept = append(kept, impl)
				}
			}
		}
		others(c, kept)
		return out
	}
	implsOf := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	foImpls := implsOf(len(old.Failover), func(i int) string { return old.Failover[i].Impl })
	var fo []FailoverResult
	for _, i := range keep("failover", foImpls, func(i int) bool { return old.Failover[i].Load == "" }) {
		fo = append(fo, old.Failover[i])
	}
	for _, i := range keep("loaded", foImpls, func(i int) bool { return old.Failover[i].Load != "" }) {
		fo = append(fo, old.Failover[i])
	}
	rep.Failover = append(fo, rep.Failover...)
	all := func(int) bool { return true }
	// A scale case left out by -scale keeps its rows whole.
	ran := map[string]bool{}
	for _, r := range rep.Scale {
		ran[r.Case] = true
	}
	var sc []ScaleResult
	scaleRows := implsOf(len(old.Scale), func(i int) string { return old.Scale[i].Impl })
	scaleRan := slices.Contains(cases, "scale")
	for _, i := range keep("scale", scaleRows, func(i int) bool { return !scaleRan || ran[old.Scale[i].Case] }) {
		sc = append(sc, old.Scale[i])
	}
	var other []string
	for _, r := range old.Scale {
		if scaleRan && !ran[r.Case] {
			sc = append(sc, r)
			other = append(other, r.Case)
		}
	}
	slices.Sort(other)
	for _, c := range slices.Compact(other) {
		rep.Carried = append(rep.Carried, label("scale "+c))
	}
	rep.Scale = append(sc, rep.Scale...)
	var fl []FloodResult
	for _, i := range keep("flood", implsOf(len(old.Flood), func(i int) string { return old.Flood[i].Impl }), all) {
		fl = append(fl, old.Flood[i])
	}
	rep.Flood = append(fl, rep.Flood...)
	var bf []FailoverResult
	for _, i := range keep("bfdfailover", implsOf(len(old.BFDFailover), func(i int) string { return old.BFDFailover[i].Impl }), all) {
		bf = append(bf, old.BFDFailover[i])
	}
	rep.BFDFailover = append(bf, rep.BFDFailover...)
	// The Go micro-benchmarks come with -micro; without it, the earlier.
	if len(rep.Micro) == 0 && len(old.Micro) > 0 {
		rep.Micro = old.Micro
		rep.Carried = append(rep.Carried, label("micro-benchmarks"))
	}
	// These compare fixed pairs in one run: kept or replaced whole.
	if carried("kamodes") {
		rep.KaModes = old.KaModes
	}
	if carried("bfd") {
		rep.BFDDetect = old.BFDDetect
	}
	if carried("bfdfalse") {
		rep.BFDFalse = old.BFDFalse
	}
	if carried("bfdcpu") {
		rep.BFDCPU = old.BFDCPU
	}
}
