package bench

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/fsm"
	ilab "govrrp/internal/lab"
	"govrrp/test/interop"
)

// Failover cases.
const (
	kindCable   = "cable pull"
	kindSIGTERM = "SIGTERM"
)

// probeEvery is how often the host pings the VIP in the failover cases: the
// resolution of the data-plane outage.
const probeEvery = time.Millisecond

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
	Load       string    `json:"load,omitempty"`        // other VRs running meanwhile, "" for none
	Profile    string    `json:"cpu_profile,omitempty"` // the backup govrrpd's, with -profile
	// The BFD failover case (issue 16): Master–Backup BFD on top of the
	// adverts ("" none), the wire's traffic in a steady window, and why
	// there are no runs when the daemon lacks the feature.
	BFD           string   `json:"bfd,omitempty"`
	AdvertsPerSec float64  `json:"adverts_per_second,omitempty"`     // VR 51's adverts on the bridge
	BFDPerSec     float64  `json:"bfd_packets_per_second,omitempty"` // BFD packets on the bridge, both ways
	NA            string   `json:"not_available,omitempty"`
	ReplyMACs     []string `json:"reply_macs,omitempty"` // who answered the host's pings in the runs' windows
	Errors        []string `json:"errors,omitempty"`
}

func (r *FailoverResult) errorf(t testing.TB, format string, args ...any) {
	logError(t, &r.Errors, format, args...)
}

// logError logs a case's error and keeps it for the report.
func logError(t testing.TB, errs *[]string, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.Log(msg)
	*errs = append(*errs, msg)
}

func vr51(prio uint8, interval time.Duration) interop.VR {
	return interop.VR{VRID: 51, Version: 3, Family: interop.IPv4, Priority: prio, Interval: interval, VIPs: []netip.Prefix{vip}}
}

// loadDesc describes loadSpecs for the report.
const loadDesc = "254 VRs × 100 ms on eth0, 750 × 100 ms on eth1-eth3"

// loadSpecs are the other VRs of the loaded failover row: 254 at 100 ms
// beside VR 51 on eth0 and 250 on each of eth1..eth3 (VRID 51 only on eth0,
// so a VRID names VR 51 without an interface).
func loadSpecs() []vrSpec {
	var out []vrSpec
	for ifc := range 4 {
		n := 0
		for vrid := 1; vrid <= 255 && (ifc == 0 || n < 250); vrid++ {
			if vrid == 51 {
				continue
			}
			out = append(out, vrSpec{ifc: ifc, vrid: vrid, interval: 100 * time.Millisecond, vip: vipOf(ifc, vrid)})
			n++
		}
	}
	return out
}

// runFailover measures `runs` failovers of one kind: master (priority 150)
// and backup (100) of VRID 51 on one LAN, a host pinging the VIP every
// millisecond, tcpdump on the bridge. With load, both daemons also run
// loadSpecs' 1004 VRs on eth0..eth3, which fail over (cable pull: eth0's;
// SIGTERM: all) at the same time as VR 51.
// It fills *res as it goes, so a case aborted by a harness failure keeps its
// runs so far.
func runFailover(t *testing.T, res *FailoverResult, impl string, interval time.Duration, kind string, runs int, load, withBFD bool) {
	*res = FailoverResult{Impl: impl, Kind: kind, IntervalMS: ms(interval)}
	if withBFD {
		res.BFD = fmt.Sprintf("Master–Backup %v × %d", bfdTx, bfdMult)
	}
	if load {
		res.Load = loadDesc
	}
	if kind == kindCable {
		res.RFCMS = ms(fsm.MasterDownInterval(3, 100, interval))
	} else {
		res.RFCMS = ms(fsm.SkewTime(3, 100, interval))
	}
	lab := interop.NewLab(t, 2)
	bfdCap := filepath.Join(lab.Dir, "bfd.pcap")
	interop.StartCapture(t, lab.LAN.Bridge, "br0", bfdCap, "udp port 3784")
	vrs := []vrSpec{{ifc: 0, vrid: 51, interval: interval, vip: vip}}
	if load {
		addInterfaces(t, lab.LAN, 4)
		vrs = append(vrs, loadSpecs()...)
	}
	var m, b interop.Peer
	var mc, bc scaleDaemon // whole-daemon state counts
	switch impl {
	case implGovrrp:
		mk := func(i, prio int) (interop.Peer, scaleDaemon) {
			g := newGovrrpd(t, govrrpdBin(t), lab.Routers[i], lab.Dir, vr51(uint8(prio), interval))
			g.Routers = govrrpRouters(vrs, prio)
			if withBFD {
				g.Routers = strings.Replace(g.Routers, "}}\n", "}, "+bfdMasterYAML+"}\n", 1)
			}
			if profileDir != "" && prio == 100 {
				// The backup does the takeover; a restart would overwrite
				// the master's.
				res.Profile = filepath.Join(profileDir, fmt.Sprintf("govrrpd-failover-%v-%s-load%v-backup.pprof", interval, strings.ReplaceAll(kind, " ", "_"), load))
				g.Daemon().Args = []string{"-cpuprofile", res.Profile}
			}
			return g, &govrrpScale{g: g}
		}
		m, mc = mk(0, 150)
		b, bc = mk(1, 100)
		if withBFD {
			if na := bfdMasterRefused(t, m.(*interop.Govrrp), lab.Dir); na != "" {
				res.NA = na
				t.Log(na)
				return
			}
		}
	case implFRR:
		m = interop.NewFRR(t, lab.Routers[0], lab.Dir, vr51(150, interval))
		b = interop.NewFRR(t, lab.Routers[1], lab.Dir, vr51(100, interval))
	case implKeepalived:
		km := newKaPeer(t, lab.Routers[0], lab.Dir, kaPlain, kaVRs(vrs, 150))
		kb := newKaPeer(t, lab.Routers[1], lab.Dir, kaPlain, kaVRs(vrs, 100))
		m, mc, b, bc = km, km, kb, kb
	}
	settle := 20*time.Second + 10*interval
	if load {
		settle = 60 * time.Second
	}
	// With load, a run starts once every VR is back where it belongs;
	// with BFD, once the Backup's session to the Master came Up after the
	// last failure (ups: the Backup's count of them then).
	ups := 0
	steady := func() {
		if load {
			waitCounts(t, mc, impl+" master", len(vrs), 0, settle)
			waitCounts(t, bc, impl+" backup", 0, len(vrs), settle)
		}
		if withBFD {
			if !ilab.Poll(settle, 10*time.Millisecond, func() bool { return bfdMasterUps(b.(*interop.Govrrp)) > ups }) {
				res.errorf(t, "the Backup's BFD session to the Master did not come Up")
			}
		}
	}
	lab.Start(t, m)
	lab.WaitState(t, m, vr51Key, interop.Master, settle)
	lab.Start(t, b)
	lab.WaitMaster(t, m, vr51Key, settle)
	steady()
	mSrc, bSrc := lab.Source(t, m, vr51Key), lab.Source(t, b, vr51Key)
	pr := lab.Probe(t, vip.Addr(), probeEvery)
	// The traffic of a steady VR on the wire: adverts and BFD.
	trafficFrom := time.Now()
	time.Sleep(max(3*time.Second, 3*interval))
	trafficTo := time.Now()
	defer func() {
		bp, err := bfdCapture(bfdCap)
		if err != nil {
			res.errorf(t, "bfd capture: %v", err)
		}
		res.AdvertsPerSec, res.BFDPerSec = wireRates(lab.Adverts(t), bp, trafficFrom, trafficTo)
	}()

	for run := 0; run < runs; run++ {
		// Stable: master elected, adverts flowing, the host reaching the VIP.
		lab.WaitMaster(t, m, vr51Key, settle)
		steady()
		lab.Host.MustIP(t, "neigh", "flush", "to", vip.Addr().String())
		if !pr.WaitReply(time.Now(), 5*time.Second) {
			res.errorf(t, "run %d: no ping reply before the failure", run)
		}
		time.Sleep(max(2*interval, 300*time.Millisecond))

		if withBFD {
			ups = bfdMasterUps(b.(*interop.Govrrp)) // the next run waits for a new session
		}
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
		// The outage by its one definition (docs/BENCHMARKS.md, "What an
		// outage is"): from the last reply before t0 to the first after.
		o := pr.Outage(t0, t1)
		for _, mac := range o.MACs {
			if !slices.Contains(res.ReplyMACs, mac) {
				res.ReplyMACs = append(res.ReplyMACs, mac)
			}
		}
		if !o.Recovered {
			res.errorf(t, "run %d: no ping reply after the failure", run)
		} else {
			res.DataMS = append(res.DataMS, ms(o.Len))
		}
		t.Logf("%s %v %s run %d: control %.2f ms, data %.2f ms", impl, interval, kind, run, ms(gap), ms(o.Len))

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
