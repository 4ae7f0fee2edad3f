package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A virtual address that is already the host's (here the router's own
// 10.77.0.1 on eth0) is refused at reload and at start, with file:line and
// the interface that has it, and the address stays: a non-owner would
// delete it when it leaves Master, and did at start as a "stale VIP"
// (issue 12). A reload while Master, whose own VIP is on eth0, is accepted.
func TestHostAddressAsVIPRefused(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	gw := gwYAML
	p := startGW(t, r1)
	if !hasAddr(t, r1, "eth0", "10.77.0.254") || !hasAddr(t, r1, "eth0", "10.77.0.1") {
		t.Fatal("the VIP or the router's own address is missing before the reload")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The Master's own VIP on eth0 is not the host's: accepted.
	p.writeConfig(strings.Replace(gw, "priority: 150", "priority: 160", 1))
	if res, err := p.Client.Reload(ctx); err != nil || !res.OK || strings.Join(res.Updated, ",") != "gw" {
		t.Fatalf("reload while Master: %+v %v", res, err)
	}

	// The typo: the router's own address as a VIP (config line 15).
	p.writeConfig(gw + routerYAML("typo", "52", 100, "100ms", "", "10.77.0.1/24"))
	res, err := p.Client.Reload(ctx)
	if err != nil || res.OK || !strings.Contains(res.Error, "govrrpd.yaml:15:17: 10.77.0.1 is already an address of eth0") {
		t.Fatalf("reload with the host's address as a VIP: %+v %v", res, err)
	}
	p.Signal(syscall.SIGHUP)
	waitFor(t, 5*time.Second, "the second refusal in the log", func() (bool, string) {
		n := strings.Count(p.Logs(), "reload refused")
		return n == 2, fmt.Sprintf("%d refusals logged", n)
	})
	if d := p.waitState("gw", "Master", time.Second); d.Priority != 160 {
		t.Fatalf("after the refused reloads: %+v", d)
	}
	for _, a := range []string{"10.77.0.1", "10.77.0.254"} {
		if !hasAddr(t, r1, "eth0", a) {
			t.Fatalf("%s was removed from eth0", a)
		}
	}
	p.stop()

	// At start: refused, exit 1, and nothing deleted.
	conf := filepath.Join(t.TempDir(), "govrrpd.yaml")
	os.WriteFile(conf, []byte("control_socket: "+filepath.Join(filepath.Dir(conf), "s.sock")+"\nrouters:\n"+routerYAML("typo", "52", 100, "100ms", "", "10.77.0.1/24")), 0o644)
	out, err := exec.Command("ip", "netns", "exec", r1.Name, bin.govrrpd, "-c", conf).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "govrrpd.yaml:8:17: 10.77.0.1 is already an address of eth0") {
		t.Fatalf("start: exit %d, output %s", code, out)
	}
	out, err = exec.Command("ip", "netns", "exec", r1.Name, bin.govrrpd, "-check", "-c", conf).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "10.77.0.1 is already an address of eth0") {
		t.Fatalf("-check: exit %d, output %s", code, out)
	}
	if !hasAddr(t, r1, "eth0", "10.77.0.1") {
		t.Fatal("10.77.0.1 was removed from eth0 at start")
	}
	// A missing interface is a warning: -check passes, as govrrp validate does.
	os.WriteFile(conf, []byte("control_socket: "+filepath.Join(filepath.Dir(conf), "s.sock")+"\nrouters:\n"+strings.Replace(routerYAML("later", "52", 100, "100ms", "", "10.77.0.52/24"), "eth0", "eth9", 1)), 0o644)
	out, err = exec.Command("ip", "netns", "exec", r1.Name, bin.govrrpd, "-check", "-c", conf).CombinedOutput()
	if code := exitCode(err); code != 0 || !strings.Contains(string(out), `govrrpd.yaml:4:16: interface "eth9": no such interface; the router waits in Fault`) || !strings.Contains(string(out), "(warning)") {
		t.Fatalf("-check with a missing interface: exit %d, output %s", code, out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// The file: 1.4 MB, 200k YAML aliases of one router. Loaded with
// SIGHUP into a running Master it took RSS from 13 MB to 4.2 GB, kept it,
// and wrote two 49 MB log lines. Now it is refused at once: one bounded log
// line, the Master keeps running, and memory returns to where it was. The
// release build: the race detector's memory is not the daemon's.
func TestReloadAliasBomb(t *testing.T) {
	l := newLab(t, 1)
	p := startGW(t, l.Nodes[0], bin.govrrpdRelease)
	before, err := p.resources()
	if err != nil {
		t.Fatal(err)
	}
	p.writeConfig("  - &r {interface: eth0, vrid: 1, addresses: [10.77.0.1/24]}\n" + strings.Repeat("  - *r\n", 200000))
	if fi, _ := os.Stat(p.Conf); fi.Size() < 1400000 {
		t.Fatalf("the file is %d bytes", fi.Size())
	}
	begin := time.Now()
	p.Signal(syscall.SIGHUP)
	waitFor(t, 30*time.Second, "the refusal in the log", func() (bool, string) {
		return strings.Contains(p.Logs(), "reload refused"), ""
	})
	took := time.Since(begin)
	var refusals []string
	for line := range strings.Lines(p.Logs()) {
		if strings.Contains(line, "reload refused") {
			refusals = append(refusals, line)
		}
	}
	if len(refusals) != 1 || len(refusals[0]) > 2048 || !strings.Contains(refusals[0], "1 error: ") || !strings.Contains(refusals[0], "YAML aliases add more than") {
		t.Fatalf("%d refusal lines, the first %d bytes: %.300s", len(refusals), len(refusals[0]), refusals[0])
	}
	p.waitState("gw", "Master", time.Second)
	// The memory goes back right after the log line.
	var after resources
	waitFor(t, 5*time.Second, "RSS back within 8 MiB of before", func() (bool, string) {
		after, err = p.resources()
		return err == nil && after.RSS <= before.RSS+8<<20, fmt.Sprint(after, err)
	})
	t.Logf("refused in %v; before %v; after %v", took, before, after)
}

// The VIPs a running govrrpd installed are not the host's: govrrp validate
// of its file passes while it is Master, and after a kill -9 leaves them on
// eth0 the next start takes them for its own (the record of its network
// namespace under /run/govrrpd) and runs.
func TestKilledDaemonRestartsOverItsVIPs(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	p := startGW(t, r1)
	out, err := exec.Command("ip", "netns", "exec", r1.Name, bin.govrrp, "validate", p.Conf).CombinedOutput()
	if code := exitCode(err); code != 0 {
		t.Fatalf("validate while Master: exit %d: %s", code, out)
	}
	p.kill()
	if !hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("the VIP went with the killed daemon; nothing to test")
	}
	p.launch()
	p.waitState("gw", "Master", 5*time.Second)
}

// Each configuration mistake of issue 12 is refused, or warned about, the
// same way by govrrp validate, govrrpd --check and a reload of a running
// daemon, which keeps its configuration when it refuses. On the old main
// validate and -check passed all but the MTU case and a reload applied
// them (the second document silently ignored).
func TestConfigMistakesAgreeEverywhere(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	gw := gwYAML
	p := startGW(t, r1)

	var v6 []string
	for i := range 100 { // 48 + 100×16 bytes: more than eth0's 1500
		v6 = append(v6, fmt.Sprintf("fd77::1:%x/64", i+1))
	}
	for _, tc := range []struct {
		name, top, routers string
		warn               bool   // valid, with a warning
		want               string // in every refusal or warning
	}{
		{"same VIP in two routers", "", gw + routerYAML("two", "52", 100, "100ms", "", "10.77.0.254/24"), false, "10.77.0.254 is also a virtual address of \"gw\""},
		{"advert larger than the MTU", "", gw + routerYAML("big", "53", 100, "100ms", "", append([]string{"fe80::53"}, v6...)...), false, "MTU"},
		{"unknown control_group", "control_group: no-such-group-here\n", gw, false, "no-such-group-here"},
		{"metrics port out of range", "metrics_listen: 127.0.0.1:99999\n", gw, false, "99999"},
		{"second YAML document", "", gw + "---\nrouters: []\n", false, "document"},
		{"missing track script", "scripts:\n  chk: {exec: [/nonexistent/check-gw]}\n", gw + "    track: {scripts: [{name: chk, weight: -10}]}\n", true, "/nonexistent/check-gw"},
		{"missing notify command", "", gw + "    notify: [/nonexistent/notify-gw]\n", true, "/nonexistent/notify-gw"},
		// eth0 has 10.77.0.1/24 only: the VIP would be the source into its
		// subnet, and accept: false drops the replies [5798-6.4.3-f].
		{"VIP outside the interface's subnets with accept off", "", gw + routerYAML("out", "54", 100, "100ms", "", "10.78.0.254/24"), true, "10.78.0.254/24 would be a primary address"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			p.top = tc.top
			p.writeConfig(tc.routers)
			defer func() { p.top = ""; p.writeConfig(gw) }()
			wantCode := 1
			if tc.warn {
				wantCode = 0
			}
			for _, argv := range [][]string{{bin.govrrp, "validate", p.Conf}, {bin.govrrpd, "-check", "-c", p.Conf}} {
				out, err := exec.Command("ip", append([]string{"netns", "exec", r1.Name}, argv...)...).CombinedOutput()
				if code := exitCode(err); code != wantCode || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "govrrpd.yaml:") {
					t.Errorf("%s: exit %d, want %d with file:line and %q; output:\n%s", filepath.Base(argv[0]), code, wantCode, tc.want, out)
				}
			}
			warned := func() int {
				n := 0
				for line := range strings.Lines(p.Logs()) {
					if strings.Contains(line, "msg=configuration") && strings.Contains(line, tc.want) {
						n++
					}
				}
				return n
			}
			before := warned()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := p.Client.Reload(ctx)
			if err != nil || res.OK != tc.warn || (!tc.warn && !strings.Contains(res.Error, tc.want)) {
				t.Errorf("reload: %+v %v", res, err)
			}
			if tc.warn {
				// The daemon's check is validate's: its log has the warning.
				waitFor(t, 5*time.Second, "the warning in govrrpd's log", func() (bool, string) {
					return warned() > before, p.Logs()
				})
				return
			}
			if d := p.waitState("gw", "Master", time.Second); d.Priority != 150 {
				t.Errorf("after the refused reload: %+v", d)
			}
		})
	}
}

// Files past the input limits: one over the size limit is refused without
// being parsed, and a file with hundreds of mistakes prints the first 50
// and a count, from validate, -check and a refused reload alike (issue 12;
// the old main parsed any size and printed every error).
func TestConfigLimitsAgreeEverywhere(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	gw := gwYAML
	p := startGW(t, r1)

	var many strings.Builder
	for i := range 300 { // each: an unknown key
		fmt.Fprintf(&many, "    bogus_key_%d: 1\n", i)
	}
	for _, tc := range []struct {
		name, top, routers string
		want               string
		maxLines           int
	}{
		{"over the size limit", "# " + strings.Repeat("x", 5<<20) + "\n", gw, "the file is larger than 4 MiB", 5},
		{"300 mistakes", "", gw + many.String(), "and 250 more", 60},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			p.top = tc.top
			p.writeConfig(tc.routers)
			defer func() { p.top = ""; p.writeConfig(gw) }()
			for _, argv := range [][]string{{bin.govrrp, "validate", p.Conf}, {bin.govrrpd, "-check", "-c", p.Conf}} {
				out, err := exec.Command("ip", append([]string{"netns", "exec", r1.Name}, argv...)...).CombinedOutput()
				if code, lines := exitCode(err), strings.Count(string(out), "\n"); code != 1 || !strings.Contains(string(out), tc.want) || lines > tc.maxLines {
					t.Errorf("%s: exit %d, %d lines, want 1, at most %d lines and %q; output:\n%.3000s", filepath.Base(argv[0]), code, lines, tc.maxLines, tc.want, out)
				}
			}
			before := len(p.Logs())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if res, err := p.Client.Reload(ctx); err != nil || res.OK || !strings.Contains(res.Error, tc.want) {
				t.Errorf("reload: %.500s %v", fmt.Sprintf("%+v", res), err)
			}
			logged := p.Logs()[before:]
			if n := strings.Count(logged, "reload refused"); n != 1 || len(logged) > 4096 {
				t.Errorf("the refused reload logged %d refusals in %d bytes, want one bounded line:\n%.2000s", n, len(logged), logged)
			}
			if d := p.waitState("gw", "Master", time.Second); d.Priority != 150 {
				t.Errorf("after the refused reload: %+v", d)
			}
		})
	}
}

// A configured VIP that govrrpd has not installed (its router waits for
// its interface) and that the host has since given eth0 is the host's: a
// reload and govrrp validate refuse it, while the Master's installed VIP
// stays exempt (issue 12; on the old main the record file and the reload
// exempted every configured VIP, so both passed and the router's start
// would have deleted it).
func TestReloadRefusesConfiguredVIPTakenByHost(t *testing.T) {
	l := newLab(t, 1)
	r1 := l.Nodes[0]
	routers := gwYAML +
		"  - {name: late, interface: govrrp-nx0, vrid: 52, priority: 100, advert_interval: 100ms, addresses: [10.77.0.253/24]}\n"
	p := start(t, r1, routers)
	p.waitState("gw", "Master", 5*time.Second)
	r1.MustIP(t, "addr", "add", "10.77.0.253/24", "dev", "eth0") // the operator's
	const want = "10.77.0.253 is already an address of eth0"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := p.Client.Reload(ctx); err != nil || res.OK || !strings.Contains(res.Error, want) {
		t.Fatalf("reload: %+v %v", res, err)
	}
	out, err := exec.Command("ip", "netns", "exec", r1.Name, bin.govrrp, "validate", p.Conf).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), want) || strings.Contains(string(out), "10.77.0.254 is already") {
		t.Fatalf("validate: exit %d: %s", code, out)
	}
	p.waitState("gw", "Master", time.Second)
	if !hasAddr(t, r1, "eth0", "10.77.0.253") {
		t.Fatal("the host's address was removed")
	}
}
