package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// advertTimes collects (arrival time, source, priority) of VRRP adverts a
// sniffer sees, until stop is closed.
type seenAdvert struct {
	at   time.Time
	src  string
	vrid uint8
	prio uint8
}

func collectAdverts(s *lab.Sniffer, stop <-chan struct{}) <-chan []seenAdvert {
	out := make(chan []seenAdvert, 1)
	go func() {
		var got []seenAdvert
		for {
			select {
			case <-stop:
				out <- got
				return
			default:
			}
			f, err := s.Next(50*time.Millisecond, func(f []byte) bool {
				return len(f) >= 14+20+8 && lab.EtherType(f) == 0x0800 && f[14+9] == vrrp.IPProtocol
			})
			if err != nil {
				continue
			}
			ihl := int(f[14]&0x0f) * 4
			got = append(got, seenAdvert{at: time.Now(), src: fmt.Sprintf("%d.%d.%d.%d", f[26], f[27], f[28], f[29]), vrid: f[14+ihl+1], prio: f[14+ihl+2]})
		}
	}()
	return out
}

// A tracked interface losing carrier lowers the priority by its weight and
// moves mastership; its return restores both.
func TestTrackInterface(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	r1.MustIP(t, "link", "add", "up0", "type", "veth", "peer", "name", "up1")
	r1.MustIP(t, "link", "set", "up0", "up")
	r1.MustIP(t, "link", "set", "up1", "up")
	track := "    track: {interfaces: [{name: up0, weight: -60}]}\n"
	p1, p2 := startTracked(t, r1, r2, track, "")

	r1.MustIP(t, "link", "set", "up1", "down") // up0 loses carrier
	p2.waitState("gw", "Master", 3*time.Second)
	d := p1.waitState("gw", "Backup", 3*time.Second)
	if d.EffectivePriority != 90 || d.Priority != 150 {
		t.Fatalf("priority %d, effective %d; want 150 and 150-60=90", d.Priority, d.EffectivePriority)
	}
	if len(d.Tracked) != 1 || !d.Tracked[0].Failed {
		t.Fatalf("tracked: %+v", d.Tracked)
	}
	r1.MustIP(t, "link", "set", "up1", "up")
	p1.waitState("gw", "Master", 3*time.Second)
	if d, _ := p1.Detail("gw"); d.EffectivePriority != 150 {
		t.Fatalf("effective priority %d after recovery", d.EffectivePriority)
	}
}

// A tracking script lowers the priority only after `fall` failures in a row
// and restores it after `rise` successes.
func TestTrackScript(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	dir := t.TempDir()
	okFile := filepath.Join(dir, "healthy")
	runs := filepath.Join(dir, "runs")
	script := filepath.Join(dir, "check")
	os.WriteFile(okFile, nil, 0o644)
	os.WriteFile(script, []byte("#!/bin/sh\necho x >> "+runs+"\n[ -e "+okFile+" ]\n"), 0o755)
	p1, p2 := startTracked(t, r1, r2, "    track: {scripts: [{name: chk, weight: -60}]}\n",
		fmt.Sprintf("scripts:\n  chk: {exec: [%s], interval: 100ms, timeout: 100ms, rise: 3, fall: 4}\n", script))

	lines := func() int { b, _ := os.ReadFile(runs); return strings.Count(string(b), "\n") }
	os.Remove(okFile)
	failedAt := lines()
	p2.waitState("gw", "Master", 5*time.Second)
	// Four failures in a row are needed; the run that started before the
	// removal may have passed, so at least 4 and at most 5 more runs.
	if n := lines() - failedAt; n < 4 {
		t.Fatalf("mastership moved after %d failed runs, want fall=4", n)
	}
	if d, _ := p1.Detail("gw"); d.EffectivePriority != 90 {
		t.Fatalf("effective priority %d, want 90", d.EffectivePriority)
	}
	os.WriteFile(okFile, nil, 0o644)
	recoveredAt := lines()
	p1.waitState("gw", "Master", 5*time.Second)
	if n := lines() - recoveredAt; n < 3 {
		t.Fatalf("priority restored after %d passing runs, want rise=3", n)
	}
}

// Notify hooks run on every transition, in order, with ROUTER FROM TO
// REASON as arguments and in the environment.
func TestNotifyHooks(t *testing.T) {
	b := hookCalls(t, `echo "$1 $2 $3 $4 | $GOVRRP_ROUTER $GOVRRP_TO $GOVRRP_VRID"`, func(hook string) string {
		return "    notify: [" + hook + "]\n"
	})
	want := "gw Initialize Backup startup | gw Backup 51\n" +
		"gw Backup Master master-no-response | gw Master 51\n" +
		"gw Master Initialize shutdown | gw Initialize 51\n"
	if b != want {
		t.Fatalf("hook calls:\n%s\nwant:\n%s", b, want)
	}
}

// hookCalls runs router gw alone through its start, election and stop with
// a hook script (its command's output is what it records) that extra wires
// into the router's configuration, and returns what the hook recorded.
func hookCalls(t *testing.T, command string, extra func(hook string) string) string {
	t.Helper()
	l := newLab(t, 1)
	dir := t.TempDir()
	out := filepath.Join(dir, "hook.log")
	hook := filepath.Join(dir, "hook")
	os.WriteFile(hook, []byte("#!/bin/sh\n"+command+" >> "+out+"\n"), 0o755)
	p := start(t, l.Nodes[0], routerYAML("gw", "51", 150, "100ms", extra(hook), "10.77.0.254/24"))
	p.waitState("gw", "Master", 5*time.Second)
	p.stop()
	b, _ := os.ReadFile(out)
	return string(b)
}

// Reloading a change that does not concern a router (a new router beside
// it) causes no transition and no gap in its adverts above 1.5 intervals; a
// priority change of the master is applied in place with no transition
// either.
func TestReloadWithoutFlap(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	gw := gwYAML
	p1, _ := startBoth(t, r1, r2, gw, routerYAML("gw", "51", 100, "100ms", "", "10.77.0.254/24"))
	before, _ := p1.Detail("gw")

	sniff := lab.Sniff(t, l.host, "eth0")
	stop := make(chan struct{})
	adverts := collectAdverts(sniff, stop)
	time.Sleep(500 * time.Millisecond) // real adverts before the reload
	p1.writeConfig(gw + routerYAML("other", "52", 100, "100ms", "", "10.77.0.250/24"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p1.Client.Reload(ctx)
	if err != nil || !res.OK || strings.Join(res.Unchanged, ",") != "gw" || strings.Join(res.Added, ",") != "other" {
		t.Fatalf("reload: %+v %v", res, err)
	}
	time.Sleep(500 * time.Millisecond)
	p1.writeConfig(strings.Replace(gw, "priority: 150", "priority: 160", 1) + routerYAML("other", "52", 100, "100ms", "", "10.77.0.250/24"))
	res, err = p1.Client.Reload(ctx)
	if err != nil || !res.OK || strings.Join(res.Updated, ",") != "gw" {
		t.Fatalf("second reload: %+v %v", res, err)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	seen := <-adverts

	after, _ := p1.Detail("gw")
	if after.State != "Master" || len(after.Transitions) != len(before.Transitions) {
		t.Fatalf("reload caused transitions: %+v", after.Transitions[len(before.Transitions):])
	}
	if after.EffectivePriority != 160 {
		t.Fatalf("priority %d after reload, want 160", after.EffectivePriority)
	}
	var last time.Time
	var lastPrio uint8
	n := 0
	for _, a := range seen {
		if a.src != "10.77.0.1" || a.vrid != 51 {
			continue
		}
		lastPrio = a.prio
		if !last.IsZero() {
			if gap := a.at.Sub(last); gap > 150*time.Millisecond {
				t.Errorf("advert gap of %v around the reload (limit 1.5 × 100ms)", gap)
			}
		}
		last = a.at
		n++
	}
	if n < 10 {
		t.Fatalf("saw only %d master adverts in 1.5s", n)
	}
	if lastPrio != 160 {
		t.Fatalf("last advert priority %d, want the reloaded 160", lastPrio)
	}
}

// A reload with an invalid file is refused with the file's errors and the
// running configuration stays (SIGHUP and the API alike).
func TestInvalidReloadKeepsRunning(t *testing.T) {
	l := newLab(t, 1)
	p := startGW(t, l.Nodes[0])
	os.WriteFile(p.Conf, []byte("routers:\n  - interface: eth0\n    vrid: 51\n    priorty: 10\n"), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.Client.Reload(ctx)
	if err != nil || res.OK || !strings.Contains(res.Error, `:4:5: unknown key "priorty"`) {
		t.Fatalf("reload of a bad file: %+v %v", res, err)
	}
	p.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	d := p.waitState("gw", "Master", time.Second)
	if d.Priority != 150 || len(d.Transitions) != 2 {
		t.Fatalf("after refused reloads: %+v", d)
	}
}

// SIGTERM: the master sends priority 0, and the backup takes over after
// Skew_Time, not Master_Down_Interval [5798-6.4.3-g][5798-6.4.2-h].
func TestSIGTERMHandsOverInSkewTime(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	p1, p2 := startPair(t, r1, r2, "", "10.77.0.254/24")
	sniff := lab.Sniff(t, l.host, "eth0")
	stop := make(chan struct{})
	adverts := collectAdverts(sniff, stop)
	// An open event stream (govrrp watch) must not delay the resignation.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go p1.Client.Events(watchCtx, 0, func(api.Event) {})
	time.Sleep(300 * time.Millisecond)
	termAt := time.Now()
	p1.stop()
	p2.waitState("gw", "Master", 2*time.Second)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	seen := <-adverts
	var zeroAt, takeoverAt time.Time
	for _, a := range seen {
		if a.src == "10.77.0.1" && a.prio == 0 && zeroAt.IsZero() {
			zeroAt = a.at
		}
		if a.src == "10.77.0.2" && !zeroAt.IsZero() && takeoverAt.IsZero() {
			takeoverAt = a.at
		}
	}
	if zeroAt.IsZero() || takeoverAt.IsZero() {
		t.Fatalf("no priority-0 advert or no takeover seen: %+v", seen)
	}
	// Skew_Time at priority 100, 100ms: 60.9375ms; Master_Down_Interval:
	// 360.9375ms. Anything clearly below the latter proves the skew path.
	if d := takeoverAt.Sub(zeroAt); d > 250*time.Millisecond {
		t.Fatalf("takeover %v after the priority-0 advert; Skew_Time is 60.9ms", d)
	}
	if d := zeroAt.Sub(termAt); d > time.Second {
		t.Fatalf("the priority-0 advert left %v after SIGTERM", d)
	}
	if hasAddr(t, r1, "eth0", "10.77.0.254") {
		t.Fatal("stopped master kept its VIP")
	}
}

// govrrpd needs CAP_NET_RAW and CAP_NET_ADMIN, not full root: run it with
// only those (as the systemd unit does) and it still elects and installs.
func TestRunsWithTwoCapabilities(t *testing.T) {
	l := newLab(t, 1)
	p := newProc(t, l.Nodes[0], bin.govrrpd, "")
	p.Files("s") // a short socket path
	p.writeConfig(routerYAML("gw", "51", 150, "100ms", "    vmac: true\n", "10.77.0.254/24"))
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv (util-linux) is needed")
	}
	// Wrap the binary: drop every capability but the two from all sets.
	wrapper := filepath.Join(p.Dir, "govrrpd-caps")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+setpriv+" --bounding-set -all,+net_raw,+net_admin --inh-caps -all,+net_raw,+net_admin --ambient-caps -all,+net_raw,+net_admin "+bin.govrrpd+" \"$@\"\n"), 0o755)
	p.Bin = wrapper
	p.launch()
	p.waitState("gw", "Master", 5*time.Second)
	if out, _ := l.Nodes[0].IP("-o", "addr", "show", "type", "macvlan"); !strings.Contains(out, " 10.77.0.254/24 ") {
		t.Fatalf("VIP not installed on the VMAC macvlan:\n%s", out)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if !strings.Contains(string(status), "CapEff:\t0000000000003000") {
		t.Fatalf("effective capabilities are not exactly NET_ADMIN|NET_RAW:\n%s", grepLines(string(status), "Cap"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The CLI against a real daemon: `govrrp status --json` lists the router
// with its state and master.
func TestCLIStatus(t *testing.T) {
	l := newLab(t, 1)
	p := startGW(t, l.Nodes[0])
	out, err := exec.Command(bin.govrrp, "status", "--json", "-s", p.Sock).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rs []api.RouterStatus
	if err := json.Unmarshal(out, &rs); err != nil || len(rs) != 1 {
		t.Fatalf("%s: %v", out, err)
	}
	if r := rs[0]; r.Name != "gw" || r.State != "Master" || r.Master != "10.77.0.1" || r.VRID != 51 || r.Family != "ipv4" || r.Version != 3 || r.EffectivePriority != 150 {
		t.Fatalf("status: %+v", r)
	}
	table, err := exec.Command(bin.govrrp, "status", "-s", p.Sock).Output()
	if err != nil || !strings.Contains(string(table), "Master") {
		t.Fatalf("table: %s %v", table, err)
	}
}

// With metrics_listen set, /metrics serves the router's state, priorities
// and counters for Prometheus, the Master's address (ours), the
// transitions by reason and the build.
func TestMetrics(t *testing.T) {
	l := newLab(t, 1)
	nd := l.Nodes[0]
	p := startMetrics(t, nd, gwYAML)
	p.waitState("gw", "Master", 5*time.Second)
	ask := func(req string) string { return httpAsk(t, nd, "127.0.0.1:9624", req) }
	body := ask("GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
	for _, want := range []string{
		`govrrp_router_state{family="ipv4",interface="eth0",router="gw",state="Master",vrid="51"} 1`,
		`govrrp_router_effective_priority{family="ipv4",interface="eth0",router="gw",vrid="51"} 150`,
		`govrrp_router_master_transitions_total{family="ipv4",interface="eth0",router="gw",vrid="51"} 1`,
		`govrrp_router_master_down_interval_seconds{family="ipv4",interface="eth0",router="gw",vrid="51"} 0.3414`,
		`govrrp_router_master_info{family="ipv4",interface="eth0",master="` + nd.V4.Addr().String() + `",router="gw",vrid="51"} 1`,
		`govrrp_router_transitions_total{family="ipv4",from="Initialize",interface="eth0",reason="startup",router="gw",to="Backup",vrid="51"} 1`,
		`govrrp_router_transitions_total{family="ipv4",from="Backup",interface="eth0",reason="master-no-response",router="gw",to="Master",vrid="51"} 1`,
		`govrrp_send_errors_total{family="ipv4",interface="eth0",router="gw",vrid="51"} 0`,
		"govrrp_event_streams_dropped_total 0\n",
		`govrrp_build_info{goversion="` + runtime.Version() + `",`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The endpoint is reachable from the network: it serves reads only.
	if post := ask("POST /metrics HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n"); !strings.Contains(strings.SplitN(post, "\r\n", 2)[0], " 405 ") {
		t.Errorf("POST /metrics answered %.100q, want 405", post)
	}
	if t.Failed() {
		t.Log(body)
	}
}

// startMetrics is start with metrics_listen: 127.0.0.1:9624 (the
// namespace's own loopback).
func startMetrics(t *testing.T, nd *lab.Node, routers string) *proc {
	t.Helper()
	return startTop(t, nd, "metrics_listen: 127.0.0.1:9624\n", routers)
}

// scrape fetches /metrics from addr inside nd's namespace.
func scrape(t *testing.T, nd *lab.Node, addr string) string {
	t.Helper()
	return httpAsk(t, nd, addr, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
}

// httpAsk sends one raw HTTP request to addr inside nd's namespace and
// returns the whole answer.
func httpAsk(t *testing.T, nd *lab.Node, addr, req string) (answer string) {
	t.Helper()
	nd.MustDo(t, func() error {
		// Dial on this thread, inside the namespace (an http.Client would
		// dial from another goroutine, outside it).
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(c, req)
		b, err := io.ReadAll(c)
		answer = string(b)
		return err
	})
	return answer
}

// A peer configured with another VRID is invisible on the router (it hears
// nothing and stays Master); its adverts are counted on the interface, with
// the latest VRID and source, and shown by govrrp show and status and in
// /metrics, where docs/INTEROP.md sends the operator [5798-7.1-e].
func TestUnknownVRIDShown(t *testing.T) {
	l := newLab(t, 2)
	nd, peer := l.Nodes[0], l.Nodes[1]
	p := startMetrics(t, nd, gwYAML)
	p.waitState("gw", "Master", 5*time.Second)

	injectVRID(t, peer, 52, 255, 200)
	from := peer.V4.Addr().String()
	want := "5 (last VRID 52 from " + from
	var show string
	waitFor(t, 3*time.Second, "govrrp show to count the unknown VRID", func() (bool, string) {
		out, err := exec.Command(bin.govrrp, "-s", p.Sock, "show", "gw").CombinedOutput()
		show = string(out)
		return err == nil && strings.Contains(show, "unknown VRID      "+want), show
	})
	status, err := exec.Command(bin.govrrp, "-s", p.Sock, "status").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^eth0 +ipv4 +`+regexp.QuoteMeta(want)).Match(status) {
		t.Errorf("govrrp status does not show the unknown VRID (%v):\n%s", err, status)
	}
	body := scrape(t, nd, "127.0.0.1:9624")
	for _, m := range []string{`govrrp_interface_unknown_vrid_total{family="ipv4",interface="eth0"} 5`,
		`govrrp_interface_discards_total{family="ipv4",interface="eth0",reason="vrid"} 5`} {
		if !strings.Contains(body, m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if d, err := p.Detail("gw"); err != nil || d.State != "Master" || len(d.Discards) != 0 {
		t.Errorf("the router was charged or moved by another VRID's adverts: %+v %v", d, err)
	}
	if t.Failed() {
		t.Logf("show:\n%s", show)
	}
}
