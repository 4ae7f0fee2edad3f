package daemon

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/config"
	"govrrp/vrrp"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// status is the router's summary. On its loop.
func (r *vr) status() api.RouterStatus {
	st := r.fsm.Status()
	c := r.cfg
	addrs := make([]string, len(c.Addresses))
	for i, p := range c.Addresses {
		addrs[i] = p.String()
	}
	var fault string
	if n := len(r.transitions); st.State == fsm.Fault && n > 0 {
		// The cause that holds it now, in the state machine's order: the
		// one it entered Fault for may have cleared while another holds.
		why := r.transitions[n-1].reason
		switch {
		case st.LinkDown:
			why = fsm.ReasonLinkDown
		case st.TrackFault:
			why = fsm.ReasonTrackFault
		case why == fsm.ReasonLinkDown || why == fsm.ReasonTrackFault:
			why = fsm.ReasonGroupFault
		}
		fault = why.String()
	}
	splitBrain, twoOwners := r.conflictStatus(&st)
	group := ""
	if r.group != nil {
		group = r.group.name
	}
	return api.RouterStatus{
		SyncGroup:  group,
		SplitBrain: splitBrain, TwoOwners: twoOwners,
		Name: c.Name, Interface: c.Interface, VRID: c.VRID, Family: c.Family.String(), Version: c.Version,
		State: st.State.String(), FaultReason: fault, Priority: c.Priority, EffectivePriority: st.Priority,
		Master: addrString(st.Master()), MasterPriority: st.MasterPriority,
		AdvertIntervalMS: ms(st.MasterAdverInterval), MasterDownMS: ms(st.MasterDownInterval),
		Since: r.since, Addresses: addrs, VMAC: c.VMAC, Accept: st.Accept, Unicast: len(c.UnicastPeers) > 0,
		V2Compat: c.V2Compat, VersionMismatch: r.versionStatus(), Disabled: st.Disabled,
	}
}

// detail snapshots the router. On its loop.
func (r *vr) detail() api.RouterDetail {
	st := r.fsm.Status()
	c := r.cfg
	d := api.RouterDetail{
		RouterStatus: r.status(),
		Preempt:      c.Preempt, PreemptDelayMS: ms(c.PreemptDelay), SkewMS: ms(st.SkewTime),
		ConfiguredInterval: ms(c.AdvertInterval), Primary: addrString(st.Primary),
		Auth: authString(c),
		Counters: map[string]uint64{
			api.CounterMasterTransitions:    uint64(st.Counters.MasterTransitions),
			api.CounterAdvertsReceived:      st.Counters.RcvdAdvertisements,
			api.CounterAdvertsSent:          st.Counters.SentAdvertisements,
			api.CounterPriorityZeroReceived: st.Counters.RcvdPriZeroPackets,
			api.CounterPriorityZeroSent:     st.Counters.SentPriZeroPackets,
			api.CounterMasterChanges:        st.Counters.MasterChanges,
			api.CounterSendErrors:           r.sendErrors,
			api.CounterStaleTimerFirings:    st.Counters.StaleTimerFirings,
			api.CounterRepliesSuppressed:    st.Counters.RepliesSuppressed,
			api.CounterOwnAdvertsIgnored:    st.Counters.OwnAdvertsIgnored,
			api.CounterSplitBrainEpisodes:   st.Counters.SplitBrains,
			api.CounterTwoOwnersEpisodes:    st.Counters.TwoOwners,
			api.CounterRxChecksumPseudoHdr:  r.rxForm[vrrp.ChecksumPseudoHeader],
			api.CounterRxChecksumPlain:      r.rxForm[vrrp.ChecksumPlain],
			api.CounterVersionMismatch:      r.versionMismatches(),
		},
		Discards:        map[string]uint64{},
		Transitions:     make([]api.Event, len(r.transitions)),
		NewMasterReason: st.Counters.NewMasterReason.String(),
	}
	if c.BFDMaster != nil {
		d.Counters[api.CounterBFDTakeovers] = st.Counters.BFDTakeovers
		d.Counters[api.CounterBFDFalseDowns] = st.Counters.BFDFalseDowns
	}
	if c.V2Compat {
		// The v2/v3 interoperation mode (fsm/compat.go).
		d.Counters[api.CounterV2AdvertsSent] = st.Counters.SentV2Advertisements
		d.Counters[api.CounterV2AdvertsReceived] = st.Counters.RcvdV2Advertisements
		d.Counters[api.CounterV2IgnoredFromV3Master] = st.Counters.V2Ignored
		d.Counters[api.CounterV3WithoutV2] = st.Counters.V3WithoutV2
	}
	for i, t := range r.transitions {
		d.Transitions[i] = api.Event{Time: t.at, Router: c.Name, Type: "transition", From: t.from.String(), To: t.to.String(), Reason: t.reason.String(), Priority: t.priority}
	}
	for _, tc := range r.transitionCounts {
		d.TransitionCounts = append(d.TransitionCounts, api.TransitionCount{From: tc.from.String(), To: tc.to.String(), Reason: tc.reason.String(), Count: tc.n})
	}
	if b := r.bad; b != nil {
		for c := range vrrp.NumChecks {
			if n := b.discards[c]; n > 0 {
				d.Discards[c.String()] = n
			}
			if n := b.warnings[c]; n > 0 {
				d.Counters[api.WarningPrefix+c.String()] = n
			}
		}
	}
	for _, o := range r.tracked {
		kind, name, _ := strings.Cut(o.Name, ":")
		t := api.Tracked{Kind: kind, Name: name, Weight: o.Weight, Failed: o.Failed}
		if kind == "bfd" {
			st, _ := r.d.bfdTrack.status(name)
			t.State = st.String()
			t.Reverse = slices.ContainsFunc(c.Track.BFD, func(b config.TrackBFD) bool { return b.Name == name && b.Reverse })
		}
		d.Tracked = append(d.Tracked, t)
	}
	return d
}

// authString names a VRRPv2 router's authentication type as the config
// does; "" for VRRPv3, which has none.
func authString(c *config.Router) string {
	if c.Version != 2 {
		return ""
	}
	return c.AuthType.String()
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// snapshot returns every router's detail (only its RouterStatus unless
// full), in configuration order: one message per loop, whatever the number
// of routers on it.
func (d *Daemon) snapshot(full bool) []api.RouterDetail {
	d.mu.RLock()
	loops := make([]*loop, 0, len(d.loops))
	for _, l := range d.loops {
		loops = append(loops, l)
	}
	var parked []api.RouterDetail
	for _, rc := range d.cfg.Routers {
		if p, ok := d.pending[rc.Name]; ok {
			det := p.detail()
			det.Disabled = d.isDisabled(rc.Name)
			parked = append(parked, det)
		}
	}
	order := make(map[string]int, len(d.cfg.Routers))
	for i, rc := range d.cfg.Routers {
		order[rc.Name] = i
	}
	d.mu.RUnlock()
	var out []api.RouterDetail
	for _, l := range loops {
		var dets []api.RouterDetail
		if l.do(func() {
			for _, r := range l.routers {
				switch {
				case r == nil:
				case full:
					dets = append(dets, r.detail())
				default:
					dets = append(dets, api.RouterDetail{RouterStatus: r.status()})
				}
			}
		}) {
			out = append(out, dets...)
		}
	}
	out = append(out, parked...)
	slices.SortStableFunc(out, func(a, b api.RouterDetail) int { return order[a.Name] - order[b.Name] })
	return out
}

// detail describes a router waiting for its interface: it cannot run,
// which is what Fault means.
func (p *parked) detail() api.RouterDetail {
	c := &p.cfg
	addrs := make([]string, len(c.Addresses))
	for i, a := range c.Addresses {
		addrs[i] = a.String()
	}
	return api.RouterDetail{
		RouterStatus: api.RouterStatus{Name: c.Name, Interface: c.Interface, VRID: c.VRID, Family: c.Family.String(), Version: c.Version,
			State: fsm.Fault.String(), FaultReason: p.reason, Priority: c.Priority, EffectivePriority: c.Priority, Since: p.since,
			Addresses: addrs, VMAC: c.VMAC, Unicast: len(c.UnicastPeers) > 0},
		Preempt: c.Preempt, PreemptDelayMS: ms(c.PreemptDelay), ConfiguredInterval: ms(c.AdvertInterval), Auth: authString(c),
		Counters: map[string]uint64{}, Discards: map[string]uint64{},
		Transitions:      []api.Event{{Time: p.since, Type: "transition", Router: c.Name, From: p.from.String(), To: fsm.Fault.String(), Reason: p.reason, Priority: c.Priority}},
		TransitionCounts: []api.TransitionCount{{From: p.from.String(), To: fsm.Fault.String(), Reason: p.reason, Count: 1}},
	}
}

// Details implements the metrics source.
func (d *Daemon) Details() []api.RouterDetail { return d.snapshot(true) }

// Routers implements api.Backend.
func (d *Daemon) Routers() []api.RouterStatus {
	det := d.snapshot(false)
	out := make([]api.RouterStatus, len(det))
	for i := range det {
		out[i] = det[i].RouterStatus
	}
	return out
}

// Interfaces implements api.Backend: the counters of each interface and
// family a router runs on, by name then family.
func (d *Daemon) Interfaces() []api.InterfaceStatus {
	d.mu.RLock()
	loops := make([]*loop, 0, len(d.loops))
	for _, l := range d.loops {
		loops = append(loops, l)
	}
	d.mu.RUnlock()
	out := make([]api.InterfaceStatus, 0, len(loops))
	for _, l := range loops {
		var st api.InterfaceStatus
		if l.do(func() { st = l.status() }) {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b api.InterfaceStatus) int {
		return cmp.Or(strings.Compare(a.Interface, b.Interface), strings.Compare(a.Family, b.Family))
	})
	return out
}

// Router implements api.Backend.
func (d *Daemon) Router(name string) (api.RouterDetail, bool) {
	d.mu.RLock()
	r := d.routers[name]
	p, waiting := d.pending[name]
	off := d.isDisabled(name)
	d.mu.RUnlock()
	if r == nil {
		if waiting {
			det := p.detail()
			det.Disabled = off
			return det, true
		}
		return api.RouterDetail{}, false
	}
	var det api.RouterDetail
	ok := r.l.do(func() { det = r.detail() })
	return det, ok
}
