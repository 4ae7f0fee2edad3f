package interop

import (
	"fmt"
	"govrrp/internal/lab"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/lab/probe"
)

// keepalivedProtoErr matches keepalived 2.2.7's log lines about adverts it
// refused or found wrong (vrrp_in_chk and friends; the strings are those of
// the 2.2.7 binary). "Setting unicast VRRPv3 checksum to old version" means
// the peer computed a unicast checksum over 224.0.0.18 instead of the real
// destination.
var keepalivedProtoErr = regexp.MustCompile(`Invalid VRRPv[23] checksum|wrong version|invalid version|invalid TTL/HL|vrrp packet too|` +
	`received a \d+ auth|received an invalid passwd|Invalid auth type|advertisement interval mismatch|Invalid packet type|` +
	`ip number count|ip_tot_len mismatch|length mismatch|Setting unicast VRRPv3 checksum to old version|` +
	`Expected \w+cast packet|expected \d+ VIPs|not present in MASTER advert|not a unicast peer|TTL/HL \d+ not in range|VRID mismatch`)

// frrProtoErr matches vrrpd's protocol-debug lines about refused adverts
// and address-list differences.
var frrProtoErr = regexp.MustCompile(`Datagram invalid|Datagram has \d+ addresses`)

// cleanOpts says which govrrp warnings a scenario expects (spec §12: FRR and
// keepalived do not send the virtual link-local first over IPv6, so their
// lists differ from govrrp's) and which peer-log lines are expected.
type cleanOpts struct {
	warnings []string       // govrrp Counters["warning_<reason>"] allowed
	peerLine *regexp.Regexp // keepalived/FRR lines allowed despite the patterns
}

// ipv6Warnings are the receive warnings govrrp counts for keepalived's and
// FRR's IPv6 adverts: no virtual link-local first, and so a different list.
var ipv6Warnings = []string{"first_not_link_local", "address_list"}

// checkClean asserts that no running peer of the lab refused or complained
// about another's adverts: govrrp's discard counters are empty and its
// warnings limited to o.warnings, keepalived's log and FRR vrrpd's debug
// log have no protocol-error lines. It fails with the offending evidence.
func checkClean(t *testing.T, l *Lab, o cleanOpts) {
	t.Helper()
	for _, p := range l.Peers {
		switch p := p.(type) {
		case *Govrrp:
			if !p.Running() {
				continue
			}
			for _, v := range p.VRs() {
				d, err := p.Detail(v.Key())
				if err != nil {
					t.Errorf("%s: %v: %v", p.Name(), v.Key(), err)
					continue
				}
				if len(d.Discards) > 0 {
					t.Errorf("%s: %v discarded adverts: %v", p.Name(), v.Key(), d.Discards)
				}
				for c, n := range d.Counters {
					if w, ok := strings.CutPrefix(c, "warning_"); ok && n > 0 && !slices.Contains(o.warnings, w) {
						t.Errorf("%s: %v: unexpected receive warning %s (%d)", p.Name(), v.Key(), w, n)
					}
				}
				if d.Counters["adverts_received"] == 0 && len(l.Peers) > 1 {
					t.Logf("%s: %v received no adverts (counters reset by a restart?)", p.Name(), v.Key())
				}
			}
		case *Keepalived:
			if bad := matchingLines(p.Logs(), keepalivedProtoErr, o.peerLine); bad != "" {
				t.Errorf("%s logged protocol errors about adverts:\n%s", p.Name(), bad)
			}
		case *FRR:
			if bad := matchingLines(p.VrrpdLog(), frrProtoErr, o.peerLine); bad != "" {
				t.Errorf("%s (vrrpd) logged protocol errors about adverts:\n%s", p.Name(), bad)
			}
		}
	}
}

// matchingLines returns the lines of log matching re and not allow (at most
// 10 of them, with a count).
func matchingLines(log string, re, allow *regexp.Regexp) string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if re.MatchString(line) && (allow == nil || !allow.MatchString(line)) {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return ""
	}
	n := len(out)
	if n > 10 {
		out = out[:10]
	}
	return fmt.Sprintf("%d lines, first:\n%s", n, indent(strings.Join(out, "\n"), "  "))
}

// vipOf is the first VIP of v.
func vipOf(v VR) netip.Addr { return v.VIPs[0].Addr() }

// probeVIP starts a prober towards v's VIP and waits for a first reply.
func probeVIP(t *testing.T, l *Lab, v VR) *probe.Target {
	t.Helper()
	pr := l.Probe(t, vipOf(v), probeEvery)
	if !pr.WaitReply(time.Now(), takeover) {
		t.Fatalf("no echo reply from %v", vipOf(v))
	}
	return pr
}

// answeredBy checks the VIP's last reply came from p. Replies carry p's
// eth0 MAC, or with a VMAC either that (IPv4 replies leave by the route to
// the host, eth0) or the VMAC (IPv6: the VIP's prefix route is on the
// macvlan). When govrrp answers with a VMAC, the host must have learnt the
// VMAC for the VIP. (FRR's IPv4 master makes the host learn its eth0 MAC:
// its ARP requests for the host leave eth0 with the VIP as sender address,
// since the harness leaves arp_announce at 0.)
func answeredBy(t *testing.T, l *Lab, pr *probe.Target, p Peer, v VR, what string) {
	t.Helper()
	if !pr.WaitReply(time.Now(), takeover) {
		t.Fatalf("%s: no echo reply from %v", what, pr.Addr)
	}
	got, want := pr.LastMAC(), macOf(t, p)
	if got != want && (!v.VMAC || got != vmac(v)) {
		t.Errorf("%s: VIP answered by %s, want %s's %s", what, got, p.Name(), want)
	}
	if _, ok := p.(*Govrrp); !ok || !v.VMAC {
		return
	}
	var neigh string
	if !lab.Poll(takeover, 10*time.Millisecond, func() bool {
		neigh, _ = l.Host.IP("neigh", "show", pr.Addr.String())
		return strings.Contains(neigh, "lladdr "+vmac(v))
	}) {
		t.Errorf("%s: the host's neighbour entry for %v is %q, want the VMAC %s", what, pr.Addr, strings.TrimSpace(neigh), vmac(v))
	}
}

// failure is one way to take a master out and to bring it back.
type failure struct {
	name    string
	fail    func(t *testing.T, l *Lab, p Peer)
	restore func(t *testing.T, l *Lab, p Peer)
	// isolated: the failed peer still runs and is left out of the state
	// check while failed.
	isolated bool
}

var (
	cablePull = failure{name: "cable-pull",
		fail:    func(t *testing.T, l *Lab, p Peer) { l.Unplug(t, p) },
		restore: func(t *testing.T, l *Lab, p Peer) { l.Plug(t, p) }, isolated: true}
	sigkill = failure{name: "sigkill",
		fail:    func(t *testing.T, l *Lab, p Peer) { p.Kill(t) },
		restore: func(t *testing.T, l *Lab, p Peer) { p.Start(t) }}
	sigterm = failure{name: "sigterm",
		fail:    func(t *testing.T, l *Lab, p Peer) { p.Stop(t) },
		restore: func(t *testing.T, l *Lab, p Peer) { p.Start(t) }}
	linkDown = failure{name: "eth0-down",
		fail:    func(t *testing.T, l *Lab, p Peer) { l.LinkDown(t, p) },
		restore: func(t *testing.T, l *Lab, p Peer) { l.LinkUp(t, p) }, isolated: true}
)

// failover fails master with f, waits for next to take over (the host
// reaching the VIP through it), restores master and waits for it to preempt.
func failover(t *testing.T, l *Lab, f failure, master, next Peer, v VR, pr *probe.Target) {
	t.Helper()
	k := v.Key()
	t0 := time.Now()
	f.fail(t, l, master)
	var ignore []Peer
	if f.isolated {
		ignore = append(ignore, master)
	}
	l.WaitMaster(t, next, k, takeover+v.MasterDown(1), ignore...)
	t.Logf("%s of %s: %s master after %v", f.name, master.Name(), next.Name(), time.Since(t0).Round(time.Millisecond))
	if pr != nil && f.name != sigkill.name {
		// A SIGKILLed FRR or keepalived leaves its VIP up: no
		// data-plane check then.
		answeredBy(t, l, pr, next, v, f.name+": after the takeover")
	}
	t1 := time.Now()
	f.restore(t, l, master)
	l.WaitMaster(t, master, k, converge)
	t.Logf("%s of %s restored: master again after %v", f.name, master.Name(), time.Since(t1).Round(time.Millisecond))
	if pr != nil {
		answeredBy(t, l, pr, master, v, f.name+": after the restore")
	}
}

// keepalived's notify FIFO mixes states and events: an event must not read
// as a state (MASTER_RX_LOWER_PRI made a running Master look Unknown, and
// TestFRRBacksUpKeepalived failed now and then).
func TestNotifyState(t *testing.T) {
	for _, tc := range []struct {
		line, name, state string
		ok                bool
	}{
		{`INSTANCE "VI_51_4" MASTER 200`, "VI_51_4", "MASTER", true},
		{`INSTANCE "VI_51_4" BACKUP 200`, "VI_51_4", "BACKUP", true},
		{`INSTANCE "VI_51_4" FAULT 200`, "VI_51_4", "FAULT", true},
		{`INSTANCE "VI_51_4" STOP 200`, "VI_51_4", "STOP", true},
		{`INSTANCE "VI_51_4" MASTER_RX_LOWER_PRI 200`, "", "", false},
		{`GROUP "G1" MASTER`, "", "", false},
		{``, "", "", false},
	} {
		name, state, ok := NotifyState(tc.line)
		if name != tc.name || state != tc.state || ok != tc.ok {
			t.Errorf("%q: %q %q %v, want %q %q %v", tc.line, name, state, ok, tc.name, tc.state, tc.ok)
		}
	}
}
