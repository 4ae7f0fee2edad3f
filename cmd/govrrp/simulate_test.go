package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/fsm"
)

func simFile(name string) string { return filepath.Join("testdata", "simulate", name) }

// partitionExample is the scenario the package ships as an example
// (/usr/share/doc/govrrp/examples, named by govrrp help simulate).
const partitionExample = "../../dist/examples/simulate-partition.yaml"

func TestSimulateGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		// The demo's scenario: election, cable pull, preemption, graceful stop.
		{"simulate", []string{"simulate"}, 0},
		// Every time exact, to the nanosecond where the RFC's arithmetic needs it.
		{"simulate-10ms", []string{"simulate", "--interval", "10ms"}, 0},
		{"simulate-v2", []string{"simulate", "--version", "2", "--routers", "100,100,90", "--interval", "2s"}, 0},
		{"simulate-ipv6-loss", []string{"simulate", "--family", "ipv6", "--loss", "0.3", "--delay", "2ms", "--seed", "3", "--preempt-delay", "5s"}, 0},
		{"simulate-adverts", []string{"simulate", "--adverts", "--routers", "255,100", "--interval", "500ms", "--duration", "8s"}, 0},
		{"simulate-partition", []string{"simulate", "-f", partitionExample}, 0},
		{"simulate-mixed", []string{"simulate", "--file", simFile("mixed.yaml")}, 0},
		{"simulate-whatif", []string{"simulate", "-f", simFile("whatif.yaml")}, 0},
		// Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p): 1 s adverts, BFD
		// 10 ms × 3; the successor takes over about 30 ms after the crash.
		{"simulate-bfd", []string{"simulate", "-f", simFile("bfd.yaml")}, 0},
		{"simulate-help", []string{"help", "simulate"}, 0},
		{"simulate-bad-file", []string{"simulate", "-f", simFile("bad.yaml")}, 2},
		{"simulate-syntax", []string{"simulate", "-f", simFile("syntax.yaml")}, 2},
		{"simulate-late", []string{"simulate", "-f", simFile("late.yaml")}, 2},
		// govrrpd.yaml's keys in a scenario file.
		{"simulate-config-keys", []string{"simulate", "-f", simFile("configkeys.yaml")}, 0},
		// Two govrrpd configurations, one box each: what if r1 dies?
		{"simulate-configs", []string{"simulate", "-c", simFile("r1.yaml"), "-c", simFile("r2.yaml"), "--fail", "r1"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
			golden(t, tc.name, transcript(tc.args, code, out, errOut))
		})
	}
}

// simJSONOut mirrors the JSON the tests read.
type simJSONOut struct {
	DurationMS float64 `json:"duration_ms"`
	Routers    []struct {
		Name         string  `json:"name"`
		MasterDownMS float64 `json:"master_down_ms"`
		SkewMS       float64 `json:"skew_ms"`
		FinalState   string  `json:"final_state"`
	} `json:"routers"`
	Timeline []struct {
		AtMS        float64  `json:"at_ms"`
		Type        string   `json:"type"`
		Router      string   `json:"router"`
		Action      string   `json:"action"`
		From        string   `json:"from"`
		To          string   `json:"to"`
		Reason      string   `json:"reason"`
		Priority    *int     `json:"priority"`
		After       string   `json:"after"`
		AfterRouter string   `json:"after_router"`
		TookMS      *float64 `json:"took_ms"`
		Timer       string   `json:"timer"`
		TimerMS     *float64 `json:"timer_ms"`
		NoMasterMS  *float64 `json:"no_master_ms"`
	} `json:"timeline"`
	Phases []struct {
		AtMS    float64  `json:"at_ms"`
		Events  []string `json:"events"`
		Masters []struct {
			Router string `json:"router"`
		} `json:"masters"`
	} `json:"phases"`
	Masters []struct {
		Router string `json:"router"`
	} `json:"masters"`
}

func simulateJSON(t *testing.T, args ...string) simJSONOut {
	t.Helper()
	code, out, errOut := runCmd(append([]string{"simulate", "--json"}, args...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
	}
	var got simJSONOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return got
}

func msOf(d time.Duration) float64 { return float64(d) / 1e6 }

// The demo's scenario, run on the real state machine, gives the RFC's
// numbers for every version and interval: the best router wins
// Master_Down_Interval after startup [5798-6.4.1-b] [5798-6.4.2-g]; after a
// cable pull the next best takes over Master_Down_Interval after the last
// advert [5798-6.4.2-g]; back, the best preempts [5798-6.4.2-j] and the
// other yields [5798-6.4.3-j]; after a graceful stop's priority-0 advert
// [5798-6.4.3-g] the next best takes over in Skew_Time [5798-6.4.2-h].
func TestSimulateDemoFollowsTheRFC(t *testing.T) {
	for _, tc := range []struct {
		version  uint8
		interval time.Duration
		family   string
	}{
		{3, time.Second, "ipv4"}, {3, 10 * time.Millisecond, "ipv6"}, {3, 40950 * time.Millisecond, "ipv4"},
		{2, time.Second, "ipv4"}, {2, 3 * time.Second, "ipv4"},
	} {
		iv := tc.interval
		got := simulateJSON(t, "--version", string('0'+rune(tc.version)), "--interval", iv.String(), "--family", tc.family)
		gap := 10 * iv
		mdi := func(p uint8) float64 { return msOf(fsm.MasterDownInterval(tc.version, p, iv)) }
		type tr struct {
			at             float64
			router, reason string
		}
		var masters []tr
		var takeovers []float64
		for _, e := range got.Timeline {
			switch {
			case e.Type == "transition" && e.To == "Master":
				masters = append(masters, tr{e.AtMS, e.Router, e.Reason})
			case e.Type == "takeover":
				if *e.TookMS != *e.TimerMS {
					t.Errorf("v%d %v: %s took %v ms, its timer is %v ms", tc.version, iv, e.Router, *e.TookMS, *e.TimerMS)
				}
				takeovers = append(takeovers, *e.TookMS)
			}
		}
		// r1's last advert before the cable pull at gap.
		up := fsm.MasterDownInterval(tc.version, 200, iv)
		last := up + (gap-up-1)/iv*iv
		want := []tr{
			{msOf(up), "r1", "master-no-response"},
			{msOf(last) + mdi(150), "r2", "master-no-response"},
			{msOf(2*gap) + mdi(200), "r1", "preempted"},
			{msOf(3*gap + fsm.SkewTime(tc.version, 150, iv)), "r2", "priority-zero-advert"},
		}
		if !slices.Equal(masters, want) {
			t.Errorf("v%d %v: became Master\n got %v\nwant %v", tc.version, iv, masters, want)
		}
		if wantT := []float64{mdi(200), mdi(150), mdi(200), msOf(fsm.SkewTime(tc.version, 150, iv))}; !slices.Equal(takeovers, wantT) {
			t.Errorf("v%d %v: takeovers %v, want %v", tc.version, iv, takeovers, wantT)
		}
		var phase []string
		for _, p := range got.Phases {
			if len(p.Masters) != 1 {
				t.Fatalf("v%d %v: phase %v: masters %v", tc.version, iv, p.Events, p.Masters)
			}
			phase = append(phase, p.Masters[0].Router)
		}
		if !slices.Equal(phase, []string{"r1", "r2", "r1", "r2"}) || got.DurationMS != msOf(4*gap) {
			t.Errorf("v%d %v: phases %v, duration %v", tc.version, iv, phase, got.DurationMS)
		}
	}
}

// Without preemption the router that comes back stays Backup
// [5798-6.4.2-i], and takes over again only after the graceful stop.
func TestSimulateNoPreempt(t *testing.T) {
	got := simulateJSON(t, "--preempt=false")
	var phase []string
	for _, p := range got.Phases {
		phase = append(phase, p.Masters[0].Router)
	}
	if !slices.Equal(phase, []string{"r1", "r2", "r2", "r1"}) {
		t.Errorf("phases %v", phase)
	}
}

// The outage is measured from the failure, not from the last advert.
func TestSimulateOutage(t *testing.T) {
	got := simulateJSON(t)
	var noMaster []float64
	for _, e := range got.Timeline {
		if e.NoMasterMS != nil {
			noMaster = append(noMaster, *e.NoMasterMS)
		}
	}
	// Cable pulled at 10 s, r2 Master at 9.21875 + 3.4140625 s; stop at 30 s, r2 after its skew.
	if !slices.Equal(noMaster, []float64{2632.8125, 414.0625}) {
		t.Errorf("no-master spans %v", noMaster)
	}
	// A crash leaves the Master silent; the LAN has no Master until r2's timer.
	got = simulateJSON(t, "-f", partitionExample)
	var crash, partitioned bool
	for _, e := range got.Timeline {
		if e.Type == "takeover" && e.Router == "core1" && e.AfterRouter == "core2" {
			crash = *e.NoMasterMS == 3164.0625 // crashed at 40 s, core2's last advert at 39.6328125 s
		}
		if e.Type == "takeover" && e.Router == "core2" && e.AtMS == 12632.8125 {
			partitioned = e.NoMasterMS == nil // core1 is still Master on its side
		}
	}
	if !crash || !partitioned {
		t.Errorf("crash %v, partition %v", crash, partitioned)
	}
	if p := got.Phases[1]; len(p.Masters) != 2 {
		t.Errorf("partitioned: masters %v, want both sides", p.Masters)
	}
}

// Same flags, same output; the seed changes the losses.
func TestSimulateDeterministic(t *testing.T) {
	args := []string{"simulate", "--loss", "0.4", "--delay", "1ms", "--interval", "100ms", "--routers", "200,150,150,100"}
	_, a, _ := runCmd(args...)
	_, b, _ := runCmd(args...)
	_, c, _ := runCmd(append(args, "--seed", "2")...)
	if a != b {
		t.Error("same flags, different output")
	}
	if a == c {
		t.Error("the seed has no effect")
	}
}

// Flags beside -f override the file's top-level settings.
func TestSimulateFlagsOverrideFile(t *testing.T) {
	got := simulateJSON(t, "-f", partitionExample, "--interval", "100ms", "--duration", "55s")
	if got.DurationMS != 55000 || got.Routers[0].MasterDownMS != 321.875 {
		t.Errorf("duration %v, r1 Master_Down_Interval %v", got.DurationMS, got.Routers[0].MasterDownMS)
	}
}

// Two real configurations, one per box: their routers with the same
// interface, VRID and family are one LAN, the backup takes over when the
// Master's box dies, and the keys the simulator leaves out are said.
func TestSimulateConfigs(t *testing.T) {
	args := []string{"simulate", "--json", "-c", simFile("r1.yaml"), "-c", "b2=" + simFile("r2.yaml"), "--fail", "r1@5s", "--stop", "b2@9s"}
	code, out, errOut := runCmd(args...)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var doc struct {
		LANs []struct {
			simJSONOut
			VRID  int      `json:"vrid"`
			Notes []string `json:"notes"`
		} `json:"lans"`
		Notes []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.LANs) != 1 {
		t.Fatalf("%d LANs, want 1", len(doc.LANs))
	}
	got := doc.LANs[0]
	var names, finals []string
	for _, r := range got.Routers {
		names, finals = append(names, r.Name), append(finals, r.FinalState)
	}
	if got.VRID != 51 || !slices.Equal(names, []string{"r1", "b2"}) || !slices.Equal(finals, []string{"Master", "Initialize"}) {
		t.Errorf("vrid %d, routers %v, final states %v", got.VRID, names, finals)
	}
	var masters []string
	for _, e := range got.Timeline {
		if e.Type == "transition" && e.To == "Master" {
			masters = append(masters, fmt.Sprintf("%s@%v", e.Router, e.AtMS))
		}
	}
	// r1 at its Master_Down_Interval [5798-6.4.2-g]; b2 one Master_Down_Interval after
	// r1's last advert before 5s (4.21875s).
	if want := []string{"r1@3218.75", "b2@7632.8125"}; !slices.Equal(masters, want) {
		t.Errorf("became Master: %v, want %v", masters, want)
	}
	for _, want := range []string{"r1.yaml:10:7: node r1, router gw: track is not simulated", "r2.yaml:8:11: node b2, router gw: vmac is not simulated"} {
		for _, notes := range [][]string{got.Notes, doc.Notes} {
			if !strings.Contains(errOut, want) || !slices.ContainsFunc(notes, func(n string) bool { return strings.HasSuffix(n, want) }) {
				t.Errorf("note %q missing: stderr %q, notes %q", want, errOut, notes)
			}
		}
	}
}

// With -c, --json prints one JSON document however many LANs the
// configurations make (here two: web on eth0, db on eth1), so that a script
// can read it with one json.load; each LAN is the object -f prints.
func TestSimulateConfigsJSONIsOneDocument(t *testing.T) {
	code, out, errOut := runCmd("simulate", "--json", "-c", simFile("lans-a.yaml"), "-c", simFile("lans-b.yaml"), "--fail", "lans-a")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var doc struct {
		LANs []struct {
			Scenario string `json:"scenario"`
			VRID     int    `json:"vrid"`
			Masters  []struct {
				Router string `json:"router"`
			} `json:"masters"`
		} `json:"lans"`
		Notes []string `json:"notes"`
	}
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out)
	}
	var got []string
	for _, l := range doc.LANs {
		var ms []string
		for _, m := range l.Masters {
			ms = append(ms, m.Router)
		}
		got = append(got, fmt.Sprintf("%d:%s", l.VRID, strings.Join(ms, ",")))
	}
	if want := []string{"10:lans-b", "20:lans-b"}; !slices.Equal(got, want) {
		t.Errorf("LANs (VRID:Masters at the end) %v, want %v", got, want)
	}
	if doc.Notes == nil {
		t.Errorf("notes: null, want [] so that scripts need not test for it")
	}
}

func TestSimulateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--routers", "200,0"}, `--routers "200,0": "0" is not a priority 1..255`},
		{[]string{"--routers", "a"}, `"a" is not a priority`},
		{[]string{"--interval", "15ms"}, "VRRPv3 advert interval 15ms: must be 10ms..40.95s in 10ms steps"},
		{[]string{"--version", "2", "--interval", "500ms"}, "VRRPv2 advert interval 500ms"},
		{[]string{"--version", "2", "--family", "ipv6"}, "VRRPv2 is IPv4 only"},
		{[]string{"--version", "4"}, "--version 4: must be 2 or 3"},
		{[]string{"--family", "ipx"}, `--family "ipx"`},
		{[]string{"--loss", "-0.1"}, "--loss -0.1: must be a probability 0..1"},
		{[]string{"--delay", "-1s"}, "--delay -1s: must be 0 or more"},
		{[]string{"--duration", "0s"}, "--duration 0s: must be positive"},
		{[]string{"--interval", "10ms", "--duration", "3h"}, "more than 1000000 advert intervals"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-f", partitionExample, "--routers", "1"}, "--routers and -f do not mix"},
		{[]string{"-f", simFile("missing.yaml")}, "missing.yaml: no such file"},
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-c", simFile("r1.yaml"), "--fail", "r3"}, `no node is named "r3"; the nodes are r1`},
		{[]string{"-c", simFile("r1.yaml"), "--fail", "r1@soon"}, `--fail "r1@soon": write NODE or NODE@TIME`},
		{[]string{"-c", simFile("r1.yaml"), "--interval", "2s"}, "--interval and -c do not mix"},
		{[]string{"-c", simFile("r1.yaml"), "-c", simFile("r1.yaml")}, `node "r1" is given twice`},
		{[]string{"-c", simFile("bad.yaml")}, "bad.yaml:2:1: unknown key"},
		{[]string{"--fail", "r1"}, "--fail and --stop name nodes of -c configurations"},
	} {
		code, out, errOut := runCmd(append([]string{"simulate"}, tc.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	// A scenario file's or a configuration's errors are FILE:LINE:COL lines
	// as govrrp validate prints them, whether -f or -c read the file; what
	// is not about a place in a file says which command speaks.
	for _, args := range [][]string{{"-f", simFile("bad.yaml")}, {"-c", simFile("bad.yaml")}} {
		_, _, errOut := runCmd(append([]string{"simulate"}, args...)...)
		for _, l := range strings.Split(strings.TrimSuffix(errOut, "\n"), "\n") {
			if !strings.HasPrefix(l, simFile("bad.yaml")+":") {
				t.Errorf("%v: line %q, want FILE:LINE:COL: first", args, l)
			}
		}
	}
	for _, args := range [][]string{{"-f", simFile("missing.yaml")}, {"-c", simFile("missing.yaml")}, {"-c", simFile("r1.yaml"), "-c", simFile("r1.yaml")}} {
		if _, _, errOut := runCmd(append([]string{"simulate"}, args...)...); !strings.HasPrefix(errOut, "govrrp simulate: ") {
			t.Errorf("%v: %q, want govrrp simulate: first", args, errOut)
		}
	}
	if code, _, errOut := runCmd("simulate", "-h"); code != 0 || !strings.Contains(errOut, "Usage: govrrp simulate") {
		t.Errorf("-h: exit %d, %q", code, errOut)
	}
}
