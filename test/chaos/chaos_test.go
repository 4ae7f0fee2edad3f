package chaos

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	flagReport = flag.Bool("chaos-report", false, "run the reliability campaign and write its figures into RELIABILITY.md (needs root, ip, nft, tcpdump)")
	flagCases  = flag.String("cases", "", "comma-separated cases to run (default all): bad-input, flood, partition, kill9, reload-storm, config-own-address, config-200k-aliases, config-10MB-file, config-missing-interface, config-unknown-control-group, config-bad-metrics-port, config-duplicate-vip, config-advert-exceeds-mtu, config-second-document, config-missing-script-and-notify")
	flagOut    = flag.String("out", "../../docs", "directory holding RELIABILITY.md")
)

// result is what one case measured and whether govrrpd kept its promise.
type result struct {
	Case    string
	Figures []string // "what: value", in the order measured
	Broken  []string // how the promise was broken
	Aborted string   // the case could not finish (harness failure)
}

func (r *result) fig(format string, args ...any) {
	r.Figures = append(r.Figures, fmt.Sprintf(format, args...))
}

// broke records a broken promise and fails the test (after the report).
func (r *result) broke(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	r.Broken = append(r.Broken, msg)
	t.Errorf("promise broken: %s", msg)
}

func (r *result) verdict() string {
	switch {
	case r.Aborted != "":
		return "not measured"
	case len(r.Broken) > 0:
		return "**broken**"
	}
	return "kept"
}

// chaosCase is one named case; run fills r. Its promise is written in
// docs/RELIABILITY.md under the case's name.
type chaosCase struct {
	name string
	run  func(t *testing.T, r *result)
}

var cases []chaosCase // filled by the case files' init functions

// caseOrder is the order of the report (issue 12's): cases are sorted by
// the first entry their name starts with.
var caseOrder = []string{"bad-input", "flood", "partition", "kill9", "reload-storm", "config-"}

func rank(name string) int {
	for i, p := range caseOrder {
		if strings.HasPrefix(name, p) {
			return i
		}
	}
	return len(caseOrder)
}

// ordered is cases in report order.
func ordered() []chaosCase {
	cs := slices.Clone(cases)
	slices.SortStableFunc(cs, func(a, b chaosCase) int { return rank(a.name) - rank(b.name) })
	return cs
}

// selectCases returns the cases named in list (comma-separated; empty: all)
// in report order. A name that is no case is refused: a typo would run
// nothing and pass.
func selectCases(list string) ([]chaosCase, error) {
	want := map[string]bool{}
	for _, c := range strings.Split(list, ",") {
		if c = strings.TrimSpace(c); c != "" {
			want[c] = true
		}
	}
	var unknown, all []string
	var run []chaosCase
	for _, c := range ordered() {
		all = append(all, c.name)
		if len(want) == 0 || want[c.name] {
			run = append(run, c)
		}
	}
	for name := range want {
		if !slices.Contains(all, name) {
			unknown = append(unknown, strconv.Quote(name))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("-cases: no case %s; the cases are %s", strings.Join(unknown, ", "), strings.Join(all, ", "))
	}
	return run, nil
}

// TestChaos is `make chaos`. It runs only with -chaos-report.
func TestChaos(t *testing.T) {
	if !*flagReport {
		t.Skip("reliability campaign: run with -chaos-report (make chaos)")
	}
	run, err := selectCases(*flagCases)
	if err != nil {
		t.Fatal(err)
	}
	partial := len(run) < len(cases)
	start := time.Now().UTC()
	var results []result
	for _, c := range run {
		r := result{Case: c.name}
		// The machine may be shared: its load says how much the timings
		// can be trusted.
		load := loadAvg()
		t0 := time.Now()
		ok := t.Run(c.name, func(t *testing.T) {
			defer func() {
				if t.Skipped() {
					r.Aborted = "skipped (no root or a tool missing): see the test log"
				}
			}()
			c.run(t, &r)
		})
		if !ok && len(r.Broken) == 0 {
			r.Aborted = "the case stopped early: see the test log"
		}
		r.fig("case time %.0f s, load average %s→%s", time.Since(t0).Seconds(), load, loadAvg())
		t.Logf("%s: %s\n  %s", c.name, r.verdict(), strings.Join(append(r.Figures, r.Broken...), "\n  "))
		results = append(results, r)
	}
	// The document shows one whole run: a partial run (-cases) or one
	// where nothing could run (no root) leaves it alone.
	measured := 0
	for _, r := range results {
		if r.Aborted == "" {
			measured++
		}
	}
	switch {
	case partial:
		t.Logf("-cases given: %s not rewritten", filepath.Join(*flagOut, "RELIABILITY.md"))
	case measured == 0:
		t.Logf("no case could run: %s not rewritten", filepath.Join(*flagOut, "RELIABILITY.md"))
	default:
		if err := writeReport(filepath.Join(*flagOut, "RELIABILITY.md"), start, time.Since(start), results); err != nil {
			t.Error(err)
		}
	}
}

// Markers in RELIABILITY.md between which the figures go; the text around
// them (the promises) is written by hand.
const (
	beginMark = "<!-- chaos:begin (written by make chaos) -->"
	endMark   = "<!-- chaos:end -->"
)

func writeReport(path string, start time.Time, took time.Duration, results []result) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i, j := bytes.Index(doc, []byte(beginMark)), bytes.Index(doc, []byte(endMark))
	if i < 0 || j < i {
		return fmt.Errorf("%s: no %q ... %q markers", path, beginMark, endMark)
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n\n", beginMark)
	w("Run of %s UTC, %.0f s, commit %s, on %s.\n\n", start.Format("2006-01-02 15:04"), took.Seconds(), commit(), machine())
	w("| case | promise | figures | what broke |\n|---|---|---|---|\n")
	for _, r := range results {
		broke := strings.Join(r.Broken, "; ")
		if r.Aborted != "" {
			broke = r.Aborted
		}
		w("| %s | %s | %s | %s |\n", r.Case, r.verdict(), cell(strings.Join(r.Figures, "; ")), cell(broke))
	}
	w("\n")
	out := append([]byte(nil), doc[:i]...)
	out = append(out, b.String()...)
	out = append(out, doc[j:]...)
	return os.WriteFile(path, out, 0o644)
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// loadAvg is the machine's 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f, _, _ := strings.Cut(string(b), " ")
	return f
}

func commit() string {
	out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores, Linux %s, %s", cpu, runtime.NumCPU(), kernel, runtime.Version())
}
