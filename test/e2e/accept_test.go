package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"govrrp/internal/lab"
)

// Accept_Mode false, the default [5798-6.4.3-f] [5798-6.1-g]
// [3768-6.4.3-b]: a non-owner Master does not accept packets addressed to
// its VIPs: a host's ping, TCP and UDP to them get nothing back (not even a
// reset or a port unreachable), while ARP and neighbour discovery still
// resolve them, the master's own traffic (to the LAN and to its VIPs) still
// flows and VRRP still fails
// over. accept: true (here by reload)
// answers. The nftables table goes with a stopped daemon, and a restart
// removes one a kill -9 left.
func TestAcceptMode(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	routers := func(prio int, extra string) string {
		return routerYAML("gw", "51", prio, "100ms", extra, "10.77.0.254/24") +
			routerYAML("gw6", "51", prio, "100ms", extra, "fe80::51", "fd77::254/64")
	}
	p1 := start(t, r1, routers(150, ""))
	p2 := start(t, r2, routers(100, ""))
	p1.waitState("gw", "Master", 5*time.Second)
	p1.waitState("gw6", "Master", 5*time.Second)
	p2.waitState("gw", "Backup", 5*time.Second)
	if d := p1.waitState("gw", "Master", time.Second); d.Accept {
		t.Errorf("status says accept for a non-owner with accept unset")
	}
	for _, vip := range []string{"10.77.0.254", "fd77::254"} {
		if quickPing(l.host, vip) {
			t.Errorf("the master answered a ping to %s with accept off", vip)
		}
		// Resolved all the same: ARP and NS/NA pass.
		if got, want := neighMAC(l.host, vip), mac(t, r1, "eth0"); got != want {
			t.Errorf("host resolved %s to %q, want the master's %s", vip, got, want)
		}
	}
	// Nothing listens on port 9: the master's own address refuses (RST,
	// port unreachable), the VIP stays silent.
	for _, c := range []struct{ network, addr, want string }{
		{"tcp", "10.77.0.1:9", "refused"}, {"tcp", "10.77.0.254:9", "timeout"}, {"tcp", "[fd77::254]:9", "timeout"},
		{"udp", "10.77.0.1:9", "refused"}, {"udp", "10.77.0.254:9", "timeout"}, {"udp", "[fd77::254]:9", "timeout"},
	} {
		if got := probe(t, l.host, c.network, c.addr); got != c.want {
			t.Errorf("%s %s from the host: %s, want %s", c.network, c.addr, got, c.want)
		}
	}
	// The master's own traffic is unharmed: the VIPs are never its source
	// (an IPv6 VIP, the newest address of the prefix, would be).
	for _, host := range []string{"10.77.0.100", "fd77::100"} {
		if !ping(r1, host) {
			t.Errorf("the master cannot ping the host at %s", host)
		}
	}
	// Nor is its traffic to its own VIPs (a local health check): it comes
	// in on the loopback, not from the LAN.
	for _, vip := range []string{"10.77.0.254", "fd77::254"} {
		if !ping(r1, vip) {
			t.Errorf("the master cannot ping its own VIP %s with accept off", vip)
		}
	}
	if tb := nftTable(r1); !strings.Contains(tb, "10.77.0.254") || !strings.Contains(tb, "fd77::254") || !strings.Contains(tb, `"eth0" . fe80::51`) {
		t.Errorf("master's table:\n%s", tb)
	}
	// The Backup's drop is in place already (inert until it holds the
	// address): becoming Master changes no rule.
	if tb := nftTable(r2); !strings.Contains(tb, "10.77.0.254") {
		t.Errorf("backup's table:\n%s", tb)
	}

	// VRRP itself passes: the master's stop hands over (priority 0), and
	// takes its table with it.
	p1.stop()
	p2.waitState("gw", "Master", 3*time.Second)
	if tb := nftTable(r1); tb != "" {
		t.Errorf("table left after the daemon stopped:\n%s", tb)
	}
	waitFor(t, 3*time.Second, "host to follow the new master", func() (bool, string) {
		got := neighMAC(l.host, "10.77.0.254")
		return got == mac(t, r2, "eth0"), got
	})
	if quickPing(l.host, "10.77.0.254") {
		t.Error("the new master answered a ping with accept off")
	}

	// accept: true by reload: answered at once.
	reload := func(routers string) {
		t.Helper()
		p2.writeConfig(routers)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if res, err := p2.Client.Reload(ctx); err != nil || !res.OK {
			t.Fatalf("reload: %+v %v", res, err)
		}
	}
	reload(routers(100, "    accept: true\n"))
	for _, vip := range []string{"10.77.0.254", "fd77::254"} {
		if !ping(l.host, vip) {
			t.Errorf("no answer from %s with accept: true", vip)
		}
	}
	if d := p2.waitState("gw", "Master", time.Second); !d.Accept {
		t.Error("status says no accept after accept: true")
	}

	// Back to accept off, then kill -9: the table stays behind; the next
	// start removes it (here with accept on, so it makes none of its own).
	reload(routers(100, ""))
	if quickPing(l.host, "10.77.0.254") {
		t.Error("answered again after accept went back to false")
	}
	p2.kill()
	if tb := nftTable(r2); tb == "" {
		t.Fatal("test premise: a SIGKILLed daemon leaves its table behind")
	}
	p2b := start(t, r2, routers(100, "    accept: true\n"))
	p2b.waitState("gw", "Master", 5*time.Second)
	if tb := nftTable(r2); tb != "" {
		t.Errorf("a restart kept the table a kill -9 left:\n%s", tb)
	}
	if !ping(l.host, "10.77.0.254") {
		t.Error("no answer after the restart with accept: true")
	}
}

// quickPing is ping for probes expected to go unanswered: 2 probes, 0.5 s.
func quickPing(nd *lab.Node, ip string) bool {
	return exec.Command("ip", "netns", "exec", nd.Name, "ping", "-c", "2", "-i", "0.05", "-W", "0.5", ip).Run() == nil
}

// nftTable lists govrrp's inet table in nd ("" when there is none).
func nftTable(nd *lab.Node) string {
	out, err := exec.Command("ip", "netns", "exec", nd.Name, "nft", "list", "table", "inet", "govrrp").CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// probe sends to addr from nd and says what came back: "refused" (a TCP
// reset or an ICMP port unreachable), "timeout" (nothing within 0.5 s), or
// the error.
func probe(t *testing.T, nd *lab.Node, network, addr string) string {
	t.Helper()
	var got string
	nd.MustDo(t, func() error {
		c, err := net.DialTimeout(network, addr, 500*time.Millisecond)
		if err == nil && network == "udp" {
			_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err = c.Write([]byte("x")); err == nil {
				_, err = c.Read(make([]byte, 1))
			}
		}
		if c != nil {
			c.Close()
		}
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			got = "refused"
		case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			got = "timeout"
		default:
			got = "unexpected: " + errString(err)
		}
		return nil
	})
	return got
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
