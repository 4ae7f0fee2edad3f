package bench

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"govrrp/fsm"
	"govrrp/test/interop"
)

// Failover cases.
const (
	kindCable   = "cable pull"
	kindSIGTERM = "SIGTERM"
)

var (
	vip     = netip.MustParsePrefix("10.77.0.254/24")
	vr51Key = interop.VRKey{VRID: 51, Family: interop.IPv4}
)

// FailoverResult is one implementation × interval × failure kind.
type FailoverResult struct {
	Impl       string    `json:"impl"`
	Kind       string    `json:"kind"`
	IntervalMS float64   `json:"advert_interval_ms"`
	RFCMS      float64   `json:"rfc_ms"` // Master_Down_Interval (cable pull) or Skew_Time (SIGTERM) of the backup
	ControlMS  []float64 `json:"control_plane_ms"`
	DataMS     []float64 `json:"data_plane_ms"`
	Errors     []string  `json:"errors,omitempty"`
}

func (r *FailoverResult) errorf(t testing.TB, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.Log(msg)
	r.Errors = append(r.Errors, msg)
}

func vr51(prio uint8, interval time.Duration) interop.VR {
	return interop.VR{VRID: 51, Version: 3, Family: interop.IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{vip}}
}

// runFailover measures `runs` failovers of one kind: master (priority 150)
// and backup (100) of VRID 51 on one LAN, a host pinging the VIP every
// millisecond, tcpdump on the bridge.
// It fills *res as it goes, so a case aborted by a harness failure keeps its
// runs so far.
func runFailover(t *testing.T, res *FailoverResult, impl string, interval time.Duration, kind string, runs int) {
	*res = FailoverResult{Impl: impl, Kind: kind, IntervalMS: ms(interval)}
	if kind == kindCable {
		res.RFCMS = ms(fsm.MasterDownInterval(3, 100, interval))
	} else {
		res.RFCMS = ms(fsm.SkewTime(3, 100, interval))
	}
	lab := interop.NewLab(t, 2)
	var m, b interop.Peer
	switch impl {
	case implGovrrp:
		m = newGovrrpd(t, govrrpdBin(t), lab.Routers[0], lab.Dir, vr51(150, interval))
		b = newGovrrpd(t, govrrpdBin(t), lab.Routers[1], lab.Dir, vr51(100, interval))
	case implKeepalived:
		m = interop.NewKeepalived(t, lab.Routers[0], lab.Dir, vr51(150, interval))
		b = interop.NewKeepalived(t, lab.Routers[1], lab.Dir, vr51(100, interval))
	}
	settle := 20*time.Second + 10*interval
	lab.Start(t, m)
	lab.WaitState(t, m, vr51Key, interop.Master, settle)
	lab.Start(t, b)
	lab.WaitMaster(t, m, vr51Key, settle)
	mSrc, bSrc := lab.Source(t, m, vr51Key), lab.Source(t, b, vr51Key)
	pr := lab.Probe(t, vip.Addr(), time.Millisecond)

	for run := 0; run < runs; run++ {
		// Stable: master elected, adverts flowing, the host reaching the VIP.
		lab.WaitMaster(t, m, vr51Key, settle)
		lab.Host.MustIP(t, "neigh", "flush", "to", vip.Addr().String())
		if !pr.WaitReply(time.Now(), 5*time.Second) {
			res.errorf(t, "run %d: no ping reply before the failure", run)
		}
		time.Sleep(max(2*interval, 300*time.Millisecond))

		t0 := time.Now()
		switch kind {
		case kindCable:
			lab.Unplug(t, m)
		case kindSIGTERM:
			m.Stop(t)
		}
		lab.WaitState(t, b, vr51Key, interop.Master, settle)
		pr.WaitReply(time.Now(), 5*time.Second)
		time.Sleep(50 * time.Millisecond) // let tcpdump write the takeover
		t1 := time.Now()

		as := lab.Adverts(t).VR(vr51Key)
		var gap time.Duration
		var err error
		if kind == kindCable {
			_, _, gap, err = as.Handover(t0, mSrc, bSrc)
		} else {
			gap, err = zeroHandover(as, t0, mSrc, bSrc)
		}
		if err != nil {
			res.errorf(t, "run %d: control plane: %v", run, err)
		} else {
			res.ControlMS = append(res.ControlMS, ms(gap))
		}
		o := pr.Outage(t0.Add(-50*time.Millisecond), t1)
		if o.Recv == 0 {
			res.errorf(t, "run %d: no ping reply at all around the failure", run)
		} else {
			res.DataMS = append(res.DataMS, ms(o.Longest))
		}
		t.Logf("%s %v %s run %d: control %.2f ms, data %.2f ms", impl, interval, kind, run, ms(gap), ms(o.Longest))

		switch kind {
		case kindCable:
			lab.Plug(t, m)
		case kindSIGTERM:
			m.Start(t)
		}
	}
}

// zeroHandover is the SIGTERM gap: the old master's priority-0 advert after
// `after` to the new master's first advert.
func zeroHandover(as interop.Adverts, after time.Time, oldSrc, newSrc netip.Addr) (time.Duration, error) {
	var zero *interop.Advert
	for i := range as {
		a := &as[i]
		if a.Time.Before(after) {
			continue
		}
		if zero == nil {
			if a.Src == oldSrc && a.Priority == 0 {
				zero = a
			}
			continue
		}
		if a.Src == newSrc && a.Priority > 0 {
			return a.Time.Sub(zero.Time), nil
		}
	}
	if zero == nil {
		return 0, fmt.Errorf("no priority-0 advert from %v after %s", oldSrc, after.Format("15:04:05.000"))
	}
	return 0, fmt.Errorf("no advert from %v after the priority-0 advert", newSrc)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
