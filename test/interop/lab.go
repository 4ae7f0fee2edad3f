package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/internal/lab/probe"
	"govrrp/internal/testenv"
)

// Lab is one test's LAN: routers, a host, a capture of the bridge, the peers
// started on it, and a run directory for their files.
type Lab struct {
	LAN     *lab.LAN
	Routers []*lab.Node
	Host    *lab.Node
	Dir     string   // configs, logs, capture; kept when the test fails
	Cap     *Capture // tcpdump of br0
	Peers   []Peer   // started with Lab.Start
	Probers []*probe.Target

	t          testing.TB
	reportOnce sync.Once
}

// NewLab builds a LAN of n routers plus the host and starts capturing.
func NewLab(t testing.TB, n int) *Lab {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "ip")
	testenv.RequireTool(t, "tcpdump")
	lan := lab.NewLAN(t, n)
	l := &Lab{LAN: lan, Routers: lan.Nodes, t: t}
	l.Host = lan.AddHost(t)

	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_")
	dir, err := os.MkdirTemp("", "govrrp-interop-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	// World-traversable: FRR's daemons run as user frr.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l.Dir = dir
	unhook := lab.OnInterrupt(func() { os.RemoveAll(dir) })
	t.Cleanup(func() {
		unhook()
		if t.Failed() || os.Getenv("GOVRRP_INTEROP_KEEP") != "" {
			t.Logf("run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	l.Cap = StartCapture(t, lan.Bridge, "br0", filepath.Join(dir, "lan.pcap"), CaptureFilter)
	t.Cleanup(l.report)
	return l
}

// Start starts p and makes it part of the failure report. The report runs
// before any peer is stopped: its cleanup is registered after theirs.
func (l *Lab) Start(t testing.TB, p Peer) {
	t.Helper()
	l.add(p)
	p.Start(t)
	t.Cleanup(l.report)
}

func (l *Lab) add(p Peer) {
	for _, q := range l.Peers {
		if q == p {
			return
		}
	}
	l.Peers = append(l.Peers, p)
}

// Probe pings vip from the host every `every` (1-10 ms) until the test ends
// and returns what the host hears of it.
func (l *Lab) Probe(t testing.TB, vip netip.Addr, every time.Duration) *probe.Target {
	t.Helper()
	p, err := probe.Start(probe.Host{Do: l.Host.Do, IfName: l.Host.IfName}, every, vip)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	l.Probers = append(l.Probers, p.Targets[0])
	t.Cleanup(l.report)
	return p.Targets[0]
}

// Unplug pulls p's cable (its bridge port goes down); Plug undoes it.
func (l *Lab) Unplug(t testing.TB, p Peer) { t.Helper(); l.LAN.Unplug(t, p.Node()) }

// Plug puts p's cable back.
func (l *Lab) Plug(t testing.TB, p Peer) { t.Helper(); l.LAN.Plug(t, p.Node()) }

// LinkDown sets eth0 down inside p's namespace (administratively, as an
// operator would); LinkUp undoes it.
func (l *Lab) LinkDown(t testing.TB, p Peer) {
	t.Helper()
	p.Node().MustIP(t, "link", "set", "eth0", "down")
}

// LinkUp sets eth0 up again inside p's namespace.
func (l *Lab) LinkUp(t testing.TB, p Peer) {
	t.Helper()
	p.Node().MustIP(t, "link", "set", "eth0", "up")
}

// states formats what every peer says about k.
func (l *Lab) states(k VRKey) string {
	var parts []string
	for _, p := range l.Peers {
		st, err := p.State(k)
		s := fmt.Sprintf("%s=%v", p.Name(), st)
		if err != nil {
			s += fmt.Sprintf(" (%v)", err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// WaitState waits until p reports want for k and returns how long that took.
func (l *Lab) WaitState(t testing.TB, p Peer, k VRKey, want State, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if !lab.Poll(timeout, 20*time.Millisecond, func() bool {
		st, _ := p.State(k)
		return st == want
	}) {
		t.Fatalf("%v: %s not %v within %v; states: %s", k, p.Name(), want, timeout, l.states(k))
	}
	return time.Since(start)
}

// WaitMaster waits until the election for k has settled on master and
// returns how long until the states were first right. Settled means: master
// reports Master and every other running peer having k reports Backup, and
// since then the capture shows at least two adverts from master and none
// with priority > 0 from anyone else (a daemon may say Master before it
// manages to send, as FRR's IPv6 VRs do at start-up). Peers in ignore
// (isolated by a failure driver) are left out of the state check.
func (l *Lab) WaitMaster(t testing.TB, master Peer, k VRKey, timeout time.Duration, ignore ...Peer) time.Duration {
	t.Helper()
	start := time.Now()
	var since time.Time // when the states were last seen becoming right
	var elapsed time.Duration
	why := ""
	src, err := master.Source(k)
	if err != nil {
		t.Fatal(err)
	}
	if !lab.Poll(timeout, 20*time.Millisecond, func() bool {
		if !l.statesRight(master, k, ignore) {
			since, why = time.Time{}, "states"
			return false
		}
		now := time.Now()
		if since.IsZero() {
			since = now
			if elapsed == 0 {
				elapsed = now.Sub(start)
			}
		}
		as, err := l.Cap.Adverts()
		if err != nil {
			why = err.Error()
			return false
		}
		n := 0
		for _, a := range as.VR(k).Between(since, now.Add(time.Second)) {
			switch {
			case a.Src == src && a.Priority > 0:
				n++
			case a.Src != src && a.Priority > 0:
				since, why = now, fmt.Sprintf("advert from %v after the states settled", a.Src)
				return false
			}
		}
		why = fmt.Sprintf("%d adverts from the master %v since %s", n, src, since.Format("15:04:05.000"))
		return n >= 2
	}) {
		t.Fatalf("%v: want %s Master (others Backup, adverts on the wire) within %v; states: %s; last check: %s",
			k, master.Name(), timeout, l.states(k), why)
	}
	return elapsed
}

func (l *Lab) statesRight(master Peer, k VRKey, ignore []Peer) bool {
	for _, p := range l.Peers {
		if !hasVR(p, k) || (p != master && !p.Running()) || slices.Contains(ignore, p) {
			continue
		}
		want := Backup
		if p == master {
			want = Master
		}
		if st, _ := p.State(k); st != want {
			return false
		}
	}
	return true
}

// StaysMaster checks for d that master stays Master for k and every other
// running peer Backup.
func (l *Lab) StaysMaster(t testing.TB, master Peer, k VRKey, d time.Duration) {
	t.Helper()
	l.StaysMasterAll(t, master, []VRKey{k}, d)
}

// StaysMasterAll is StaysMaster for several VRs at once.
func (l *Lab) StaysMasterAll(t testing.TB, master Peer, keys []VRKey, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, k := range keys {
			for _, p := range l.Peers {
				if !hasVR(p, k) || (p != master && !p.Running()) {
					continue
				}
				want := Backup
				if p == master {
					want = Master
				}
				if st, _ := p.State(k); st != want {
					t.Fatalf("%v: %s became %v (want %v); states: %s", k, p.Name(), st, want, l.states(k))
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasVR(p Peer, k VRKey) bool {
	for _, v := range p.VRs() {
		if v.Key() == k {
			return true
		}
	}
	return false
}

// Adverts reads the capture, failing the test on a damaged file.
func (l *Lab) Adverts(t testing.TB) Adverts {
	t.Helper()
	as, err := l.Cap.Adverts()
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// Source is p's advert source for k, failing the test when unknown.
func (l *Lab) Source(t testing.TB, p Peer, k VRKey) netip.Addr {
	t.Helper()
	a, err := p.Source(k)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// report prints, once and only for a failed test, what each side thought.
func (l *Lab) report() {
	if !l.t.Failed() {
		return
	}
	l.reportOnce.Do(func() {
		var b strings.Builder
		b.WriteString("==== interop failure report ====\n")
		keys := map[VRKey]bool{}
		for _, p := range l.Peers {
			fmt.Fprintf(&b, "--- %s (namespace %s, running %v)\n", p.Name(), p.Node().Name, p.Running())
			for _, v := range p.VRs() {
				keys[v.Key()] = true
				st, err := p.State(v.Key())
				fmt.Fprintf(&b, "  %v prio %d: %v", v.Key(), v.Priority, st)
				if err != nil {
					fmt.Fprintf(&b, " (%v)", err)
				}
				if src, err := p.Source(v.Key()); err == nil {
					fmt.Fprintf(&b, "  [adverts from %v]", src)
				}
				b.WriteString("\n")
			}
			b.WriteString(indent(p.Dump(), "  | ") + "\n")
			b.WriteString("  last log lines:\n" + indent(lab.Tail(p.Logs(), 25), "  | ") + "\n")
		}
		as, err := l.Cap.Adverts()
		fmt.Fprintf(&b, "--- last adverts on br0 (%d in all, %s)", len(as), l.Cap.Path)
		if err != nil {
			fmt.Fprintf(&b, " read error: %v", err)
		}
		b.WriteString("\n")
		for k := range keys {
			fmt.Fprintf(&b, "  %v:\n%s", k, indent(as.VR(k).Tail(8), "    "))
			b.WriteString("\n")
		}
		for _, pr := range l.Probers {
			neigh, err := l.Host.IP("neigh", "show", pr.Addr.String())
			if err != nil {
				neigh = err.Error()
			}
			b.WriteString("--- " + pr.Summary() + "\n  neighbour: " + strings.TrimSpace(neigh) + "\n")
		}
		l.t.Log(b.String())
	})
}
