package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
)

// A BFD session on an interface that is not there yet (a VLAN, a bond made
// after govrrpd) waits, says so in `govrrp bfd` and the log, and comes Up
// when the interface appears, with no reload; one whose interface is
// deleted and made again (a new device, its old sockets dead) restarts on
// the new one and comes Up again. r2 runs the other side from the start.
func TestBFDSessionFollowsItsInterface(t *testing.T) {
	l := newLab(t, 2)
	r1, r2 := l.Nodes[0], l.Nodes[1]
	l.AddSecondLAN(t, r2)
	bfdTop := func(peer string) string {
		return "bfd:\n  - {name: s, peer: " + peer + ", interface: eth1, min_tx: 100ms, min_rx: 100ms, multiplier: 3}\n"
	}
	startTop(t, r2, bfdTop("10.78.0.1"), routerYAML("gw", "51", 100, "100ms", "", "10.77.0.254/24"))
	p1 := startTop(t, r1, bfdTop("10.78.0.2"), routerYAML("gw", "51", 150, "100ms", "", "10.77.0.254/24"))
	session := func() api.BFDSession {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := p1.Client.BFD(ctx)
		if err != nil || len(st.Sessions) != 1 {
			t.Fatalf("GET /v1/bfd: %+v %v\n%s", st, err, p1.LogTail(10))
		}
		return st.Sessions[0]
	}
	if s := session(); s.Waiting != "interface-missing" || s.State != "Down" {
		t.Fatalf("session on a missing interface: %+v, want Down, waiting for it", s)
	}
	table, err := exec.Command(bin.govrrp, "bfd", "-s", p1.Sock).Output()
	if err != nil || !strings.Contains(string(table), "Down (interface-missing)") {
		t.Fatalf("govrrp bfd: %s %v", table, err)
	}
	if !strings.Contains(p1.Logs(), "bfd session waits: interface missing") {
		t.Fatalf("no log line says the session waits:\n%s", p1.LogTail(10))
	}
	up := func() api.BFDSession {
		t.Helper()
		var s api.BFDSession
		waitFor(t, 10*time.Second, "the session Up", func() (bool, string) {
			s = session()
			return s.State == "Up" && s.Waiting == "", fmt.Sprintf("%+v\n%s", s, p1.LogTail(6))
		})
		return s
	}
	l.AddSecondLAN(t, r1)
	first := up()
	// Deleted and made again: a new device under the same name. The
	// session on the old one is dead (its sockets are bound to it): a new
	// session (a new discriminator) comes Up on the new device.
	r1.MustIP(t, "link", "del", "eth1")
	l.AddSecondLAN(t, r1)
	waitFor(t, 5*time.Second, "the session restarted", func() (bool, string) {
		return strings.Contains(p1.Logs(), "interface re-created; restarting its bfd session"), p1.LogTail(10)
	})
	if again := up(); again.LocalDiscr == first.LocalDiscr {
		t.Fatalf("Up again on the old session (discriminator %d)", first.LocalDiscr)
	}
}
