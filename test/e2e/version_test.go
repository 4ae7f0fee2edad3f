package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A pair that split its brain over the VRRP version: keepalived (and a
// govrrpd with `version: 2`) sends VRRPv2 for IPv4, govrrpd's default is
// VRRPv3. Each drops the other's adverts at the version check [5798-7.1-b],
// so both become Master; each says so once, naming the peer, both
// versions and what to write, and shows it in govrrp show and /metrics.
func TestVersionMismatchReported(t *testing.T) {
	const vip = "10.77.0.254/24"
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	p1 := startMetrics(t, r1, routerYAML("gw", "51", 200, "1s", "    version: 2\n", vip))
	p2 := startMetrics(t, r2, routerYAML("gw", "51", 100, "100ms", "", vip))
	p2.waitState("gw", "Master", 5*time.Second)
	p1.waitState("gw", "Master", 6*time.Second)
	for _, p := range []*proc{p1, p2} {
		waitFor(t, 5*time.Second, "the mismatch in status", func() (bool, string) {
			d, err := p.Detail("gw")
			return err == nil && d.VersionMismatch != nil, fmt.Sprint(d.VersionMismatch, err)
		})
	}
	time.Sleep(2 * time.Second) // adverts go on; the report does not repeat
	for i, c := range []struct {
		p          *proc
		peer       string
		peerV, ver uint8
		fix        string
	}{
		{p1, "10.77.0.2", 3, 2, "version: 3"},
		{p2, "10.77.0.1", 2, 3, "version: 2"},
	} {
		d, err := c.p.Detail("gw")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != "Master" {
			t.Errorf("r%d is %s, want Master: the split brain this reports", i+1, d.State)
		}
		if vm := d.VersionMismatch; vm == nil || !vm.Active || vm.Episodes != 1 || vm.Peer != c.peer || vm.PeerVersion != c.peerV || vm.Version != c.ver {
			t.Errorf("r%d version_mismatch %+v, want one active episode with %s on v%d", i+1, vm, c.peer, c.peerV)
		}
		if d.Counters["version_mismatch"] < 2 || d.Discards["version"] < d.Counters["version_mismatch"] {
			t.Errorf("r%d counters %v discards %v: want the mismatches counted and still discarded", i+1, d.Counters, d.Discards)
		}
		log := c.p.Logs()
		if n := strings.Count(log, "VRRP version mismatch"); n != 1 {
			t.Errorf("r%d: %d mismatch log lines, want 1:\n%s", i+1, n, log)
		}
		line := regexp.MustCompile(`.*VRRP version mismatch.*`).FindString(log)
		for _, want := range []string{"router=gw", "peer=" + c.peer, "peer_version=" + strconv.Itoa(int(c.peerV)), "version=" + strconv.Itoa(int(c.ver)), c.fix} {
			if !strings.Contains(line, want) {
				t.Errorf("r%d: the log line lacks %q: %s", i+1, want, line)
			}
		}
		if strings.Contains(log, "reason=version") {
			t.Errorf("r%d: the mismatched adverts were also logged as drops:\n%s", i+1, log)
		}
		show, err := exec.Command(bin.govrrp, "show", "-s", c.p.Sock, "gw").CombinedOutput()
		if err != nil || !strings.Contains(string(show), fmt.Sprintf("version mismatch  NOW: %s sends VRRPv%d", c.peer, c.peerV)) {
			t.Errorf("r%d: govrrp show (%v):\n%s", i+1, err, show)
		}
		m := regexp.MustCompile(`govrrp_router_version_mismatch_total\{family="ipv4",interface="eth0",router="gw",vrid="51"\} (\d+)`).FindStringSubmatch(scrape(t, c.p.Node, "127.0.0.1:9624"))
		if m == nil || m[1] == "0" {
			t.Errorf("r%d: /metrics has %v", i+1, m)
		}
	}
}
