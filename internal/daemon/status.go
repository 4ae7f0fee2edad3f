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
	master, masterPrio := "", uint8(0)
	switch {
	case st.State == fsm.Master:
		master, masterPrio = st.MasterAddr.String(), st.Priority
	case st.State == fsm.Backup && st.MasterAddr.IsValid():
		master, masterPrio = st.MasterAddr.String(), r.heardPrio
	}
	var fault string
	if n := len(r.transitions); st.State == fsm.Fault && n > 0 {
		fault = r.transitions[n-1].reason.String()
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
		Master: master, MasterPriority: masterPrio,
		AdvertIntervalMS: ms(st.MasterAdverInterval), MasterDownMS: ms(st.MasterDownInterval),
		Since: r.since, Addresses: addrs, VMAC: c.VMAC, Accept: st.Accept, Unicast: len(c.UnicastPeers) > 0,
		V2Compat: c.V2Compat, VersionMismatch: r.versionStatus(),
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
			"master_transitions":        uint64(st.Counters.MasterTransitions),
			"adverts_received":          st.Counters.RcvdAdvertisements,
			"adverts_sent":              st.Counters.SentAdvertisements,
			"priority_zero_received":    st.Counters.RcvdPriZeroPackets,
			"priority_zero_sent":        st.Counters.SentPriZeroPackets,
			"master_changes":            r.masterChanges,
			"send_errors":               r.sendErrors,
			"stale_timer_firings":       st.Counters.StaleTimerFirings,
			"replies_suppressed":        st.Counters.RepliesSuppressed,
			"split_brain_episodes":      st.Counters.SplitBrains,
			"two_owners_episodes":       st.Counters.TwoOwners,
			"rx_checksum_pseudo_header": r.rxForm[vrrp.ChecksumPseudoHeader],
			"rx_checksum_plain":         r.rxForm[vrrp.ChecksumPlain],
			"version_mismatch":          r.versionMismatches(),
		},
		Discards:        map[string]uint64{},
		Transitions:     make([]api.Event, len(r.transitions)),
		NewMasterReason: newMasterReason(st.Counters.NewMasterReason),
	}
	if c.V2Compat {
		// The v2/v3 interoperation mode (fsm/compat.go).
		d.Counters["v2_adverts_sent"] = st.Counters.SentV2Advertisements
		d.Counters["v2_adverts_received"] = st.Counters.RcvdV2Advertisements
		d.Counters["v2_ignored_from_v3_master"] = st.Counters.V2Ignored
		d.Counters["v3_without_v2"] = st.Counters.V3WithoutV2
	}
	for i, t := range r.transitions {
		d.Transitions[i] = api.Event{Time: t.at, Router: c.Name, Type: "transition", From: t.from.String(), To: t.to.String(), Reason: t.reason.String(), Priority: t.priority}
	}
	if b := r.bad; b != nil {
		for c := range vrrp.NumChecks {
			if n := b.discards[c]; n > 0 {
				d.Discards[c.String()] = n
			}
			if n := b.warnings[c]; n > 0 {
				d.Counters["warning_"+c.String()] = n
			}
		}
	}
	for _, o := range r.tracked {
		kind, name, _ := strings.Cut(o.Name, ":")
		d.Tracked = append(d.Tracked, api.Tracked{Kind: kind, Name: name, Weight: o.Weight, Failed: o.Failed})
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

func newMasterReason(r fsm.NewMasterReason) string {
	return [...]string{"notMaster", "priority", "preempted", "masterNoResponse"}[min(int(r), 3)]
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
			parked = append(parked, p.detail())
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
		Transitions: []api.Event{{Time: p.since, Type: "transition", Router: c.Name, From: p.from.String(), To: fsm.Fault.String(), Reason: p.reason, Priority: c.Priority}},
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
	d.mu.RUnlock()
	if r == nil {
		if waiting {
			return p.detail(), true
		}
		return api.RouterDetail{}, false
	}
	var det api.RouterDetail
	ok := r.l.do(func() { det = r.detail() })
	return det, ok
}
