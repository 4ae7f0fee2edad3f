package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
)

// vrrpFrom matches an IPv4 VRRP frame from a.b.c.d (any source when d is 0).
func vrrpFrom(a, b, c, d byte) func([]byte) bool {
	return func(f []byte) bool {
		return len(f) >= 14+20+8 && lab.EtherType(f) == 0x0800 && f[14+9] == 112 &&
			(d == 0 || f[26] == a && f[27] == b && f[28] == c && f[29] == d)
	}
}

// A split brain heals at the host and is reported, as an operator would
// check it: protocol 112 is dropped between the two routers until both are
// Master and the host has followed the lower-priority one, then the
// partition heals. Within one advert interval plus 100 ms the host's
// neighbour entry for the VIP holds the surviving Master's MAC, without the
// host asking: either the loser hears the winner first and steps down with
// one last advert, which makes the winner announce again, or the winner
// hears the loser first and announces [9568-6.4.3-b] (docs/CONFORMANCE.md,
// deliberate additions). The winner logs one warning per episode, publishes
// a split_brain event, counts it and shows it in status. Three rounds, healed
// just after an advert of either router in turn, so that both orders of
// the first advert after the heal are likely to occur.
func TestSplitBrainHealsAtTheHost(t *testing.T) {
	const (
		rounds   = 3
		interval = 100 * time.Millisecond
		vip      = "10.77.0.254"
	)
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	p1, p2 := startPair(t, r1, r2, "    accept: true\n", vip+"/24") // the host pings the VIP
	mac1, mac2 := mac(t, r1, "eth0"), mac(t, r2, "eth0")
	if !ping(l.host, vip) {
		t.Fatal("host cannot reach the VIP")
	}
	sniff := lab.Sniff(t, l.host, "eth0")
	var worst time.Duration
	cases := map[string]int{}
	for round := 1; round <= rounds; round++ {
		heal1, heal2 := lab.DropVRRP(t, r1), lab.DropVRRP(t, r2)
		p2.waitState("gw", "Master", 3*time.Second)
		if d, _ := p1.Detail("gw"); d.State != "Master" {
			t.Fatalf("round %d: r1 is %s during the partition, want Master", round, d.State)
		}
		// The host follows the new Master's announcement; this is the
		// stale entry the heal has to replace.
		waitFor(t, 3*time.Second, "host neighbour entry on r2 during the partition", func() (bool, string) {
			got := neighMAC(l.host, vip)
			return got == mac2, got
		})
		// Let r2's startup announcements end (the repeat comes 2 s after
		// the first burst; a third of a second of split brain is enough
		// for this test), then heal just after an advert of the loser
		// (odd rounds: the winner's next advert is likely the first to
		// cross, so the loser steps down first) or of the winner (even
		// rounds: the winner hears the loser first).
		time.Sleep(300 * time.Millisecond)
		if got := neighMAC(l.host, vip); got != mac2 {
			t.Fatalf("round %d: host entry %q before the heal, want r2's %s", round, got, mac2)
		}
		after := byte(2)
		if round%2 == 0 {
			after = 1
		}
		sniff.Drain()
		if _, err := sniff.Next(time.Second, vrrpFrom(10, 77, 0, after)); err != nil {
			t.Fatal(err)
		}
		// The winner's side first, then at once the loser's. (Were the
		// loser to hear the winner while the winner still heard nothing,
		// the loser's last advert would be lost too and the host would
		// keep the stale entry until its own neighbour timers expire.)
		healed := time.Now()
		heal1()
		heal2()
		// Which side spoke first once both could hear: r1 (the loser
		// steps down first) or r2 (the winner hears it first).
		first := "?"
		if f, err := sniff.Next(time.Second, vrrpFrom(0, 0, 0, 0)); err == nil {
			first = fmt.Sprintf("r%d", f[29])
		}
		cases[first]++
		var took time.Duration
		waitFor(t, 3*time.Second, "host neighbour entry back on r1 after the heal", func() (bool, string) {
			got := neighMAC(l.host, vip)
			took = time.Since(healed)
			return got == mac1, got
		})
		p2.waitState("gw", "Backup", 3*time.Second)
		t.Logf("round %d: healed after an advert of r%d; the first advert after it came from %s; host on the surviving Master %v after the heal", round, after, first, took)
		worst = max(worst, took)
		// The next partition starts once r1's announcements are over: the
		// second burst comes 2 s after the first (announce.delay) and would
		// move the host during the next partition.
		time.Sleep(time.Until(healed.Add(2300 * time.Millisecond)))
	}
	t.Logf("first advert after the heal: %v", cases)
	if bound := interval + 100*time.Millisecond; worst > bound {
		t.Errorf("the host followed the surviving Master %v after a heal, want at most one advert interval plus 100 ms (%v)", worst, bound)
	}

	// Reported by the winner, once per episode.
	d, err := p1.Detail("gw")
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Counters["split_brain_episodes"]; n != rounds {
		t.Errorf("split_brain_episodes %d, want %d", n, rounds)
	}
	if sb := d.SplitBrain; sb == nil || sb.Episodes != rounds || len(sb.Peers) != 1 || sb.Peers[0] != "10.77.0.2" || sb.Since.IsZero() {
		t.Errorf("status split_brain %+v, want %d episodes with 10.77.0.2", sb, rounds)
	}
	if n := strings.Count(p1.Logs(), "split brain: another Master heard while Master"); n != rounds {
		t.Errorf("%d split-brain log lines on r1, want one per episode (%d)", n, rounds)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	events := 0
	_ = p1.Client.Events(ctx, 1024, func(ev api.Event) {
		if ev.Type == "split_brain" && ev.Router == "gw" {
			events++
		}
	})
	if events != rounds {
		t.Errorf("%d split_brain events, want %d", events, rounds)
	}
	out, err := exec.Command(bin.govrrp, "status", "--json", "-s", p1.Sock).Output()
	if err != nil {
		t.Fatal(err)
	}
	var rs []api.RouterStatus
	if err := json.Unmarshal(out, &rs); err != nil || len(rs) != 1 || rs[0].SplitBrain == nil || rs[0].SplitBrain.Episodes != rounds {
		t.Errorf("govrrp status --json: %s (%v)", out, err)
	}
	table, _ := exec.Command(bin.govrrp, "status", "-s", p1.Sock).Output()
	if !strings.Contains(string(table), "gw: split brain") {
		t.Errorf("govrrp status does not show the split brain:\n%s", table)
	}
	// The loser cannot tell its step-down from a preemption: it logs the
	// transition and counts nothing.
	if d2, err := p2.Detail("gw"); err != nil || d2.Counters["split_brain_episodes"] != 0 {
		t.Errorf("r2 split_brain_episodes %d (%v), want 0", d2.Counters["split_brain_episodes"], err)
	}
}

// Two routers configured as the owner (priority 255) of one VRID: a third,
// non-owner router logs it once, publishes a two_owners event, counts it
// and shows both owners in status [9568-8.3.2-a].
func TestNonOwnerReportsTwoOwners(t *testing.T) {
	const vip = "10.77.0.254"
	l := newLab(t, 3)
	r1, r2, r3 := l.Nodes[0], l.Nodes[1], l.Nodes[2]
	p3 := start(t, r3, routerYAML("gw", "51", 100, "100ms", "", vip+"/24"))
	p3.waitState("gw", "Master", 5*time.Second)
	for _, nd := range []*lab.Node{r1, r2} {
		nd.MustIP(t, "addr", "add", vip+"/24", "dev", "eth0") // an owner has the address
		start(t, nd, routerYAML("gw", "51", 255, "100ms", "", vip+"/24"))
	}
	p3.waitState("gw", "Backup", 5*time.Second)
	var d api.RouterDetail
	waitFor(t, 3*time.Second, "r3 to report two owners", func() (bool, string) {
		var err error
		d, err = p3.Detail("gw")
		return err == nil && d.TwoOwners != nil, fmt.Sprint(d.TwoOwners, err)
	})
	time.Sleep(500 * time.Millisecond) // adverts go on; the report does not repeat
	d, _ = p3.Detail("gw")
	if c := d.TwoOwners; c == nil || c.Episodes != 1 || len(c.Peers) != 2 || c.Peers[0] == c.Peers[1] ||
		!strings.HasPrefix(c.Peers[0], "10.77.0.") || !strings.HasPrefix(c.Peers[1], "10.77.0.") {
		t.Fatalf("two_owners %+v, want one episode naming 10.77.0.1 and 10.77.0.2", c)
	}
	if n := d.Counters["two_owners_episodes"]; n != 1 {
		t.Errorf("two_owners_episodes %d, want 1", n)
	}
	if n := strings.Count(p3.Logs(), "two address owners (priority 255) heard"); n != 1 {
		t.Errorf("%d two-owner log lines, want 1:\n%s", n, p3.Logs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	events := 0
	_ = p3.Client.Events(ctx, 1024, func(ev api.Event) {
		if ev.Type == "two_owners" {
			events++
		}
	})
	if events != 1 {
		t.Errorf("%d two_owners events, want 1", events)
	}
}
