package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// floodRate is what the flooder aims at (issue 11 measured ~140k packets/s).
// On two cores shared with two race-built daemons it reaches 35-65k/s: the
// kernel forwards every packet to both routers on the sender's CPU. The test
// logs what it reached.
const floodRate = 150000

// A hostile host on the LAN floods the routers' VRID (issue 11): valid
// lower-priority (or priority-0) adverts mixed with junk. The routers must
// not move and must not amplify it:
//   - no false takeover: the master's adverts are not lost inside the daemon
//     behind the flood, so the backup never leaves Backup and the master stays
//     Master (priority-0 case: the master only, as any advert of priority 0
//     lets a backup take over after Skew_Time [5798-6.4.2-h]);
//   - the master's advert rate at most doubles, although the RFC answers every
//     lower-priority or priority-0 advert with one [9568-6.4.3-b][5798-6.4.3-i];
//   - threads, fds and memory of both daemons are back where they were 2 s
//     after the flood.
func TestHostileLANFlood(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration // the routers' advert interval
		priority uint8         // of the flood's valid adverts
		duration time.Duration
		steady   bool // the backup must stay Backup
	}{
		// The backup's Master_Down_Interval is 361 ms: a daemon that loses
		// the master's adverts behind the flood lets it expire.
		{"lower-priority", 100 * time.Millisecond, 50, 8 * time.Second, true},
		// 36 ms: a few adverts lost or late are a takeover.
		{"lower-priority-10ms", 10 * time.Millisecond, 50, 5 * time.Second, true},
		{"priority-0", 100 * time.Millisecond, 0, 5 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 2)
			r1, r2, attacker := l.Nodes[0], l.Nodes[1], l.host
			iv := tc.interval.String()
			// As shipped: the race detector would make the daemons, not
			// their design, the bottleneck.
			p1 := startExe(t, r1, routerYAML("gw", "51", 200, iv, "", "10.77.0.254/24"), bin.govrrpdRelease)
			p2 := startExe(t, r2, routerYAML("gw", "51", 100, iv, "", "10.77.0.254/24"), bin.govrrpdRelease)
			p1.waitState("gw", "Master", 5*time.Second)
			p2.waitState("gw", "Backup", 5*time.Second)
			time.Sleep(time.Second) // past the takeover's GARPs and start-up allocations

			res1, res2 := mustResources(t, p1), mustResources(t, p2)
			drops1, drops2 := kernelDrops(t, r1), kernelDrops(t, r2)
			t0 := time.Now() // the window opens before the counters are read
			before1, before2 := mustDetail(t, p1), mustDetail(t, p2)
			wire := portRx(t, l.Bridge, r1.Port)
			ctx, cancel := context.WithTimeout(context.Background(), tc.duration+5*time.Second)
			defer cancel()
			st, err := lab.Flood(ctx, attacker, lab.FloodConfig{
				Interface: "eth0", Family: vrrp.IPv4, Rate: floodRate, Duration: tc.duration, Valid: 0.4,
				VRID: 51, Version: 3, Priority: tc.priority, Interval: tc.interval,
				Addresses: []netip.Addr{netip.MustParseAddr("10.77.0.254")},
			})
			if err != nil {
				t.Fatal(err)
			}
			wire = portRx(t, l.Bridge, r1.Port) - wire
			after1, after2 := mustDetail(t, p1), mustDetail(t, p2)
			window := time.Since(t0) // and closes after
			t.Logf("flood: %d packets (%d valid, priority %d) in %v = %.0f/s, %d refused by the kernel",
				st.Sent, st.Valid, tc.priority, st.Elapsed.Round(time.Millisecond), st.Rate(), st.Errors)
			logCounters(t, "r1", before1, after1)
			logCounters(t, "r2", before2, after2)
			// Where adverts were lost: before the daemon (eth0's backlog: the
			// wire) or in its socket's queue (the daemon read too slowly).
			t.Logf("kernel drops: r1 %v, r2 %v", kernelDrops(t, r1).sub(drops1), kernelDrops(t, r2).sub(drops2))
			// A flood far below the target tests nothing: the flooder is
			// broken or the machine is far slower than CI's two cores.
			if st.Rate() < floodRate/10 {
				t.Errorf("the flood reached only %.0f packets/s", st.Rate())
			}

			for _, c := range []struct {
				name          string
				before, after api.RouterDetail
				state         string
			}{{"r1", before1, after1, "Master"}, {"r2", before2, after2, "Backup"}} {
				if c.name == "r2" && !tc.steady {
					continue
				}
				if moved(c.before, c.after) || c.after.State != c.state {
					t.Errorf("%s left %s under the flood: now %s, master_transitions %d→%d, transitions since: %+v", c.name, c.state, c.after.State,
						c.before.Counters["master_transitions"], c.after.Counters["master_transitions"], newTransitions(c.before, c.after))
				}
			}

			// At most twice the normal adverts over the window (+2 at each of
			// the window's edges). The wire count is the frames r1 put on its
			// bridge port, a check on the counter: a GARP may go with each
			// answer, so up to 4× normal.
			normal := float64(window) / float64(tc.interval)
			sent := after1.Counters["adverts_sent"] - before1.Counters["adverts_sent"]
			t.Logf("r1 sent %d adverts in %v (normal %.0f), %d frames on the wire", sent, window.Round(time.Millisecond), normal, wire)
			if float64(sent) > 2*normal+4 {
				t.Errorf("the master sent %d adverts in %v, %.1f× normal (%.0f); at most 2× [9568-6.4.3-b]", sent, window.Round(time.Millisecond), float64(sent)/normal, normal)
			}
			if float64(wire) > 4*normal+4 {
				t.Errorf("the master put %d frames on the wire in %v, %.1f× its normal adverts", wire, window.Round(time.Millisecond), float64(wire)/normal)
			}

			time.Sleep(2 * time.Second) // the daemons' backlog and idle threads drain
			for _, c := range []struct {
				name          string
				p             *proc
				before, after resources
			}{{"r1", p1, res1, mustResources(t, p1)}, {"r2", p2, res2, mustResources(t, p2)}} {
				t.Logf("%s: before %v; 2 s after the flood %v", c.name, c.before, c.after)
				if c.after.Threads > c.before.Threads+4 || c.after.FDs > c.before.FDs+4 || c.after.RSS > c.before.RSS+8<<20 {
					t.Errorf("%s did not come back down after the flood: %v before, %v after (bounds +4 threads, +4 fds, +8 MiB)", c.name, c.before, c.after)
				}
			}
		})
	}
}

func mustDetail(t *testing.T, p *proc) api.RouterDetail {
	t.Helper()
	var d api.RouterDetail
	// A daemon still working off the flood may answer late; it must answer.
	waitFor(t, 10*time.Second, "status of gw on "+p.Node.Name, func() (bool, string) {
		var err error
		d, err = p.Detail("gw")
		return err == nil, errString(err)
	})
	return d
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func mustResources(t *testing.T, p *proc) resources {
	t.Helper()
	r, err := p.resources()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// moved reports whether a router made any transition between two snapshots.
// The transition list is capped, so the counter and the newest entry decide.
func moved(before, after api.RouterDetail) bool {
	last := func(d api.RouterDetail) api.Event {
		if len(d.Transitions) == 0 {
			return api.Event{}
		}
		return d.Transitions[len(d.Transitions)-1]
	}
	return after.Counters["master_transitions"] != before.Counters["master_transitions"] || !last(after).Time.Equal(last(before).Time)
}

func newTransitions(before, after api.RouterDetail) []string {
	var out []string
	for _, e := range after.Transitions {
		if len(before.Transitions) == 0 || e.Time.After(before.Transitions[len(before.Transitions)-1].Time) {
			out = append(out, e.Time.Format("15:04:05.000")+" "+e.From+"→"+e.To+" ("+e.Reason+")")
		}
	}
	return out
}

// logCounters logs what moved in a router's counters and discards.
func logCounters(t *testing.T, name string, before, after api.RouterDetail) {
	t.Helper()
	delta := func(b, a map[string]uint64) map[string]uint64 {
		d := map[string]uint64{}
		for k, v := range a {
			if v != b[k] {
				d[k] = v - b[k]
			}
		}
		return d
	}
	t.Logf("%s (%s): counters %v; discards %v", name, after.State, delta(before.Counters, after.Counters), delta(before.Discards, after.Discards))
}

// drops are the kernel's drop counters for a router's received traffic.
type drops struct {
	Dev    uint64
	Socket map[string]uint64 // by raw socket inode
}

func (d drops) sub(e drops) drops {
	out := drops{Dev: d.Dev - e.Dev, Socket: map[string]uint64{}}
	for k, v := range d.Socket {
		out.Socket[k] = v - e.Socket[k]
	}
	return out
}

func (d drops) String() string {
	var s []string
	for _, v := range d.Socket {
		s = append(s, strconv.FormatUint(v, 10))
	}
	slices.Sort(s)
	return fmt.Sprintf("eth0 rx_dropped %d, protocol-112 sockets [%s]", d.Dev, strings.Join(s, " "))
}

// kernelDrops reads eth0's rx_dropped and the drops of each of the node's
// protocol-112 raw sockets (/proc/net/raw of its namespace). A send-only
// socket that never reads drops everything; the receiving one should not.
func kernelDrops(t *testing.T, nd *lab.Node) drops {
	t.Helper()
	d := drops{Socket: map[string]uint64{}}
	l, err := nd.Handle.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	d.Dev = l.Attrs().Statistics.RxDropped
	var raw []byte
	// /proc/net follows the reading thread's namespace only via thread-self.
	nd.MustDo(t, func() (err error) {
		raw, err = os.ReadFile("/proc/thread-self/net/raw")
		return err
	})
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		// sl local_address(addr:proto) rem_address st tx:rx tr tm retr uid timeout inode ref pointer drops
		if i == 0 || len(f) < 13 || !strings.HasSuffix(f[1], ":0070") {
			continue
		}
		n, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
		d.Socket[f[9]] = n
	}
	return d
}

// portRx is the frames the bridge received on port: what its router sent.
func portRx(t *testing.T, bridge *lab.Node, port string) uint64 {
	t.Helper()
	l, err := bridge.Handle.LinkByName(port)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Statistics.RxPackets
}
