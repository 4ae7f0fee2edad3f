package bench

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"govrrp/internal/lab"
	"govrrp/vrrp"
)

// Flood case: VR 51 at 10 ms (the most sensitive interval: a backup gives
// up after 36 ms without the master's adverts) on a master and a backup,
// while a third node floods the LAN with adverts for VRID 51, half of them
// valid with priority 50 (lower than both routers), half junk that fails one
// receive check each.
const (
	floodVRID     = 51
	floodInterval = 10 * time.Millisecond
	floodValid    = 0.5
	floodPriority = 50
)

// ProcPoint is a daemon's threads and memory at one moment (keepalived:
// both processes).
type ProcPoint struct {
	Threads int    `json:"threads"`
	RSSKB   uint64 `json:"rss_kb"`
}

// FloodSide is one router during the flood.
type FloodSide struct {
	Role        string    `json:"role"`
	Transitions int       `json:"transitions"` // from the flood's start to the end of "after"
	Before      ProcPoint `json:"before"`
	During      ProcPoint `json:"during_max"`
	After       ProcPoint `json:"after"`
	CPUNormal   float64   `json:"cpu_seconds_per_second_normal"`
	CPUFlood    float64   `json:"cpu_seconds_per_second_flood"`
	TxNormal    float64   `json:"tx_packets_per_second_normal"` // eth0 counter
	TxFlood     float64   `json:"tx_packets_per_second_flood"`
	Profile     string    `json:"cpu_profile,omitempty"`
}

// FloodResult is one implementation under the flood.
type FloodResult struct {
	Impl        string      `json:"impl"`
	Mode        string      `json:"mode,omitempty"`
	VRs         int         `json:"vrs"`
	IntervalMS  float64     `json:"advert_interval_ms"`
	Rate        int         `json:"flood_rate_target"`
	DurationS   float64     `json:"flood_duration_s"`
	ValidShare  float64     `json:"valid_share"`
	Sent        uint64      `json:"flood_sent"`
	SentValid   uint64      `json:"flood_sent_valid"`
	SendErrors  uint64      `json:"flood_send_errors"`
	AchievedPPS float64     `json:"flood_achieved_pps"`
	Sides       []FloodSide `json:"sides"`
	Errors      []string    `json:"errors,omitempty"`
}

func txPackets(nd *lab.Node) (uint64, error) {
	l, err := nd.Handle.LinkByName("eth0")
	if err != nil {
		return 0, err
	}
	if st := l.Attrs().Statistics; st != nil {
		return st.TxPackets, nil
	}
	return 0, fmt.Errorf("%s eth0: no statistics", nd.Name)
}

func procPoint(pids []int) ProcPoint {
	s := sampleProcs(pids)
	return ProcPoint{Threads: s.threads, RSSKB: s.rss}
}

// runFlood: settle, a normal window, the flood (sampling threads and RSS
// every second), a quiet window after; transitions counted from the flood's
// start to the end.
func runFlood(t *testing.T, res *FloodResult, impl string, rate int, dur time.Duration) {
	*res = FloodResult{Impl: impl, VRs: 1, IntervalMS: ms(floodInterval), Rate: rate, DurationS: dur.Seconds(), ValidShare: floodValid}
	if impl == implKeepalived {
		res.Mode = kaPlain
	}
	errorf := func(format string, args ...any) { logError(t, &res.Errors, format, args...) }
	lan := lab.NewLAN(t, 3) // r3 floods
	dir := runDir(t, "govrrp-bench-flood-")
	vrs := []vrSpec{{ifc: 0, vrid: floodVRID, interval: floodInterval, vip: vip}}
	m, b := scaleDaemons(t, impl, kaPlain, lan, dir, vrs, "flood")
	settle := 30 * time.Second
	m.start(t)
	waitCounts(t, m, impl+" master", 1, 0, settle)
	b.start(t)
	waitCounts(t, b, impl+" backup", 0, 1, settle)
	time.Sleep(time.Second)

	sides := []struct {
		role string
		d    scaleDaemon
		nd   *lab.Node
	}{{"master", m, lan.Nodes[0]}, {"backup", b, lan.Nodes[1]}}
	res.Sides = make([]FloodSide, len(sides))
	type snap struct {
		cpu float64
		tx  uint64
		at  time.Time
	}
	take := func() []snap {
		out := make([]snap, len(sides))
		for i, s := range sides {
			out[i].cpu = sampleProcs(pidsOf(s.d)).total()
			tx, err := txPackets(s.nd)
			if err != nil {
				errorf("%s: %v", s.role, err)
			}
			out[i].tx, out[i].at = tx, time.Now()
		}
		return out
	}
	rates := func(a, z []snap, i int) (cpu, tx float64) {
		w := z[i].at.Sub(a[i].at).Seconds()
		return (z[i].cpu - a[i].cpu) / w, float64(z[i].tx-a[i].tx) / w
	}
	normal := min(dur, 10*time.Second)
	s0 := take()
	for i, s := range sides {
		res.Sides[i].Role = s.role
		res.Sides[i].Before = procPoint(pidsOf(s.d))
	}
	time.Sleep(normal)
	s1 := take()
	for i, s := range sides {
		res.Sides[i].CPUNormal, res.Sides[i].TxNormal = rates(s0, s1, i)
		s.d.markWindow()
	}

	ctx, cancel := context.WithTimeout(context.Background(), dur+10*time.Second)
	defer cancel()
	type floodOut struct {
		st  lab.FloodStats
		err error
	}
	done := make(chan floodOut, 1)
	go func() {
		st, err := lab.Flood(ctx, lan.Nodes[2], lab.FloodConfig{
			Interface: "eth0", Family: vrrp.IPv4, Rate: rate, Duration: dur, Valid: floodValid,
			VRID: floodVRID, Version: 3, Priority: floodPriority, Interval: floodInterval,
			Addresses: []netip.Addr{vip.Addr()}, Seed: 1,
		})
		done <- floodOut{st, err}
	}()
	var fo floodOut
	f0 := take()
	tick := time.NewTicker(time.Second)
	var f1 []snap
wait:
	for {
		select {
		case fo = <-done:
			break wait
		case <-tick.C:
			f1 = take() // the last sample inside the flood
			for i, s := range sides {
				p := procPoint(pidsOf(s.d))
				d := &res.Sides[i].During
				d.Threads, d.RSSKB = max(d.Threads, p.Threads), max(d.RSSKB, p.RSSKB)
			}
		}
	}
	tick.Stop()
	if fo.err != nil {
		errorf("flood: %v", fo.err)
	}
	res.Sent, res.SentValid, res.SendErrors, res.AchievedPPS = fo.st.Sent, fo.st.Valid, fo.st.Errors, fo.st.Rate()
	if f1 == nil {
		f1 = take()
	}
	for i := range sides {
		res.Sides[i].CPUFlood, res.Sides[i].TxFlood = rates(f0, f1, i)
	}
	time.Sleep(min(dur, 10*time.Second))
	for i, s := range sides {
		res.Sides[i].After = procPoint(pidsOf(s.d))
		res.Sides[i].Transitions = s.d.transitionsSinceMark()
		if g, ok := s.d.(*govrrpScale); ok {
			res.Sides[i].Profile = g.profile
		}
	}
	if gm, _, err := m.counts(); err != nil || gm != 1 {
		errorf("master after the flood: %d Master (%v)", gm, err)
	}
	if _, gb, err := b.counts(); err != nil || gb != 1 {
		errorf("backup after the flood: %d Backup (%v)", gb, err)
	}
	b.stop(t)
	m.stop(t)
	t.Logf("%s flood: %+v", impl, *res)
}
