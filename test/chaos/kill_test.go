package chaos

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/testenv"
	"govrrp/test/interop"
)

func init() {
	cases = append(cases, chaosCase{name: "kill9", run: runKill9})
}

// runKill9: the Master (VMAC on, so there is a macvlan to leave behind) is
// killed with SIGKILL while the host pings the VIP. Promise: the Backup
// takes over within its Master_Down_Interval; a restarted govrrpd (preempt
// off, so it comes back as Backup) removes what the dead one left: it then
// holds what the Backup held before the kill, no more.
func runKill9(t *testing.T, r *result) {
	testenv.RequireTool(t, "nft")
	v1, v2 := vr(200), vr(100)
	v1.VMAC, v2.VMAC = true, true
	v1.NoPreempt = true
	lb, g1, g2 := labPair(t, v1, v2)
	r1, r2 := lb.Routers[0], lb.Routers[1]
	pr := lb.Probe(t, vip.Addr(), 5*time.Millisecond)
	time.Sleep(time.Second)
	backupHeld := footprint(t, r2)

	t0 := time.Now()
	g1.Kill(t)
	waitState(t, g2, interop.Master, 5*time.Second)
	took := time.Since(t0) // from the kill (Kill returns once it is dead)
	left := footprint(t, r1)
	if !pr.WaitReply(time.Now(), 3*time.Second) {
		r.broke(t, "the VIP did not answer within 3 s of the takeover")
	}
	o := pr.Outage(t0, time.Now())
	mdi := v2.MasterDown(v2.Priority)
	// On the wire: the dead Master's last advert to the new one's first.
	var gap time.Duration
	var err error
	lab.Poll(2*time.Second, 50*time.Millisecond, func() bool {
		_, _, gap, err = lb.Adverts(t).Handover(t0, lb.Source(t, g1, key), lb.Source(t, g2, key))
		return err == nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.fig("takeover: the Backup's first advert %v after the dead Master's last (Master_Down_Interval %v), Master in its API %v after the kill",
		gap.Round(time.Millisecond), mdi.Round(time.Millisecond), took.Round(time.Millisecond))
	r.fig("pings every 5 ms: longest gap %v", o.Len.Round(time.Millisecond))
	r.fig("left behind by the killed Master: %s", left)
	if gap > mdi+100*time.Millisecond {
		r.broke(t, "takeover took %v on the wire, Master_Down_Interval is %v", gap.Round(time.Millisecond), mdi.Round(time.Millisecond))
	}

	g1.Start(t)
	waitState(t, g1, interop.Backup, 5*time.Second)
	time.Sleep(3 * interval)
	after := footprint(t, r1)
	r.fig("after the restart (Backup): %s; the Backup held %s", after, backupHeld)
	if after.String() != backupHeld.String() {
		r.broke(t, "the restarted Backup holds %s, a Backup holds %s", after, backupHeld)
	}
	if st, _ := g2.State(key); st != interop.Master {
		r.broke(t, "the new Master became %v when the killed router restarted", st)
	}
}

// held is what a router namespace holds of VRRP's: the VIP, macvlans,
// nftables tables.
type held struct {
	vip      bool
	macvlans int
	tables   []string
}

func (h held) String() string {
	vip := "no VIP"
	if h.vip {
		vip = "the VIP"
	}
	tables := "none"
	if len(h.tables) > 0 {
		tables = strings.Join(h.tables, " ")
	}
	return fmt.Sprintf("%s, %d macvlan, nft tables: %s", vip, h.macvlans, tables)
}

func footprint(t *testing.T, nd *lab.Node) held {
	t.Helper()
	var h held
	addrs := nd.MustIP(t, "-o", "addr", "show")
	h.vip = strings.Contains(addrs, " "+vip.Addr().String()+"/")
	links := strings.TrimSpace(nd.MustIP(t, "-o", "link", "show", "type", "macvlan"))
	if links != "" {
		h.macvlans = len(strings.Split(links, "\n"))
	}
	out, err := exec.Command("ip", "netns", "exec", nd.Name, "nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list tables in %s: %v: %s", nd.Name, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "table" {
			h.tables = append(h.tables, f[1]+" "+f[2])
		}
	}
	slices.Sort(h.tables)
	return h
}
