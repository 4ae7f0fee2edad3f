package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
)

// cli runs govrrp -s SOCK ARGS... against p and returns its exit status and
// output.
func (p *proc) cli(args ...string) (code int, stdout, stderr string) {
	p.t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin.govrrp, append([]string{"-s", p.Sock}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		p.t.Fatalf("govrrp %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// lastTransition is the router's latest transition.
func lastTransition(t *testing.T, d api.RouterDetail) api.Event {
	t.Helper()
	if len(d.Transitions) == 0 {
		t.Fatalf("%s has no transitions", d.Name)
	}
	return d.Transitions[len(d.Transitions)-1]
}

// govrrp disable on the Master: it resigns with priority 0
// [5798-6.4.3-g] and releases its addresses, and the Backup takes over
// after Skew_Time [5798-6.4.2-h], not Master_Down_Interval; while disabled
// the router sends nothing. govrrp enable is the Startup event
// [5798-6.4.1-b]: it comes back as Backup and, with the higher priority and
// preemption on, takes over again [5798-6.4.2-j].
func TestDisableEnable(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	p1, p2 := startPair(t, r1, r2, "", "10.77.0.254/24")
	code, out, errOut := p1.cli("disable", "gw")
	if code != 0 || !strings.HasPrefix(out, "gw: disabled, now Initialize") {
		t.Fatalf("govrrp disable gw: exit %d, %q %q", code, out, errOut)
	}
	// The answer comes once the addresses are withdrawn.
	if hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("the disabled master still holds the VIP")
	}
	d2 := p2.waitState("gw", "Master", 3*time.Second)
	d1, err := p1.Detail("gw")
	if err != nil {
		t.Fatal(err)
	}
	off, took := lastTransition(t, d1), lastTransition(t, d2)
	if off.Reason != "admin-disabled" || !d1.Disabled || d1.State != "Initialize" {
		t.Fatalf("disabled router: %s, last transition %+v", d1.State, off)
	}
	if took.Reason != "priority-zero-advert" {
		t.Fatalf("[5798-6.4.2-h] the backup took over for %q, want priority-zero-advert", took.Reason)
	}
	// Both stamps are this box's clock: the resignation (the priority-0
	// advert leaves in the same step) and the takeover. Skew_Time is 61 ms
	// at priority 100 and 100 ms adverts, Master_Down_Interval 361 ms; the
	// tolerance covers a loaded box and the race detector, and stays well
	// under Master_Down_Interval.
	skew := time.Duration(d2.SkewMS * float64(time.Millisecond))
	const tolerance = 200 * time.Millisecond
	gap := took.Time.Sub(off.Time)
	t.Logf("takeover %v after the disable (Skew_Time %v)", gap, skew)
	if gap < skew-10*time.Millisecond || gap > skew+tolerance {
		t.Fatalf("[5798-6.4.2-h] the backup took over %v after the disable; want Skew_Time %v (+%v)", gap, skew, tolerance)
	}
	if !hasAddr(t, r2, "eth0", "10.77.0.254") {
		t.Fatal("the new master does not hold the VIP")
	}
	// While disabled it sends nothing: no advert in three intervals.
	sent := d1.Counters["adverts_sent"]
	time.Sleep(300 * time.Millisecond)
	if d1, _ = p1.Detail("gw"); d1.Counters["adverts_sent"] != sent || d1.State != "Initialize" {
		t.Fatalf("disabled: %d adverts sent, state %s", d1.Counters["adverts_sent"]-sent, d1.State)
	}
	if _, out, _ := p1.cli("status"); !strings.Contains(out, "Initialize (admin-disabled)") {
		t.Fatalf("govrrp status does not say admin-disabled:\n%s", out)
	}
	if code, _, errOut := p1.cli("disable", "nope"); code != 1 || !strings.Contains(errOut, `no router named "nope"`) {
		t.Fatalf("disable nope: exit %d, %q", code, errOut)
	}

	if code, out, errOut := p1.cli("enable", "gw"); code != 0 || !strings.HasPrefix(out, "gw: enabled, now Backup") {
		t.Fatalf("govrrp enable gw: exit %d, %q %q", code, out, errOut)
	}
	d1 = p1.waitState("gw", "Master", 3*time.Second)
	p2.waitState("gw", "Backup", 3*time.Second)
	var path []string
	for _, e := range d1.Transitions {
		path = append(path, e.To+"("+e.Reason+")")
	}
	if got := strings.Join(path[len(path)-3:], " "); got != "Initialize(admin-disabled) Backup(admin-enabled) Master(preempted)" {
		t.Fatalf("transitions %s", got)
	}
	if d1.Disabled {
		t.Fatal("still disabled after enable")
	}
}

// A reload keeps a disabled router disabled even when its configuration
// changed; a restart of govrrpd does not.
func TestDisableAcrossReloadAndRestart(t *testing.T) {
	l := newLab(t, 1)
	p := startGW(t, l.Nodes[0])
	if code, _, errOut := p.cli("disable", "gw"); code != 0 {
		t.Fatalf("disable: %s", errOut)
	}
	p.writeConfig(routerYAML("gw", "52", 120, "100ms", "", "10.77.0.254/24")) // a new VRID: a restart of the router
	if code, out, errOut := p.cli("reload"); code != 0 || !strings.Contains(out, "restarted  gw") {
		t.Fatalf("reload: exit %d, %q %q", code, out, errOut)
	}
	d, err := p.Detail("gw")
	if err != nil || !d.Disabled || d.State != "Initialize" || d.VRID != 52 {
		t.Fatalf("after the reload: %+v %v", d.RouterStatus, err)
	}
	p.stop()
	p.launch()
	p.waitState("gw", "Master", 5*time.Second)
}

// govrrp log-level changes the level of the running daemon: debug lines
// (each run of a tracking script, every 100 ms) stop after `log-level
// info`, and come back after `log-level debug`, not before; a reload with
// log.level unchanged keeps the level set at run time.
func TestRuntimeLogLevel(t *testing.T) {
	l := newLab(t, 1)
	p := start(t, l.Nodes[0], routerYAML("gw", "51", 150, "100ms", "    track: {scripts: [{name: chk, weight: -10}]}\n", "10.77.0.254/24")+
		"scripts:\n  chk: {exec: [/bin/true], interval: 100ms, timeout: 100ms}\n")
	p.waitState("gw", "Master", 5*time.Second)
	const line = `msg="track script ran"`
	waitFor(t, 3*time.Second, "a debug line at the configured level debug", func() (bool, string) {
		return strings.Contains(p.Logs(), line), "none yet"
	})
	if code, out, _ := p.cli("log-level", "info"); code != 0 || out != "log level: info\n" {
		t.Fatalf("log-level info: exit %d, %q", code, out)
	}
	// A line being written as the level changed may still land: count
	// from a moment later.
	time.Sleep(50 * time.Millisecond)
	mark := len(p.Logs())
	time.Sleep(300 * time.Millisecond) // three runs of the script
	if after := p.Logs()[mark:]; strings.Contains(after, line) || strings.Contains(after, "level=DEBUG") {
		t.Fatalf("debug lines at level info:\n%s", after)
	}
	if code, out, _ := p.cli("log-level"); code != 0 || out != "log level: info\n" {
		t.Fatalf("log-level: exit %d, %q", code, out)
	}
	if code, _, errOut := p.cli("log-level", "verbose"); code != 2 || !strings.Contains(errOut, "debug, info, warn, error") {
		t.Fatalf("log-level verbose: exit %d, %q", code, errOut)
	}
	if code, _, errOut := p.cli("reload"); code != 0 {
		t.Fatalf("reload: exit %d, %q", code, errOut)
	}
	if _, out, _ := p.cli("log-level"); out != "log level: info\n" {
		t.Fatalf("after a reload with log.level unchanged: %q", out)
	}
	if code, out, _ := p.cli("log-level", "debug"); code != 0 || out != "log level: debug\n" {
		t.Fatalf("log-level debug: exit %d, %q", code, out)
	}
	waitFor(t, 3*time.Second, "a debug line after log-level debug", func() (bool, string) {
		return strings.Contains(p.Logs()[mark:], line), "none yet"
	})
}

// A reload that changed keys only a start applies applies the rest, lists
// them (file:line:col, key, why) and exits 3.
func TestReloadReportsSkippedKeys(t *testing.T) {
	l := newLab(t, 1)
	p := startGW(t, l.Nodes[0])
	p.top = "metrics_listen: 127.0.0.1:19624\n"
	p.writeConfig(routerYAML("gw", "51", 160, "100ms", "", "10.77.0.254/24"))
	code, out, errOut := p.cli("reload")
	want := p.Conf + ":3:17: metrics_listen: the metrics listener is opened once, at start"
	if code != 3 || !strings.Contains(out, "updated  gw") || !strings.Contains(errOut, want) {
		t.Fatalf("reload: exit %d\n%s%s\nwant exit 3, gw updated and %q", code, out, errOut, want)
	}
	code, out, _ = p.cli("reload", "--json")
	var res api.ReloadResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 3 || len(res.Skipped) != 1 || res.Skipped[0].Key != "metrics_listen" {
		t.Fatalf("reload --json: exit %d, %+v %v", code, res, err)
	}
	if d, _ := p.Detail("gw"); d.Priority != 160 {
		t.Fatalf("the rest of the file was not applied: priority %d", d.Priority)
	}
}
