// Package metrics exports govrrpd's state to Prometheus. It reads the same
// snapshots the control API serves, at scrape time, so the daemon itself
// knows nothing of Prometheus and nothing is counted twice.
package metrics

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
)

// Source returns the current detail of every virtual router.
type Source func() []api.RouterDetail

var labels = []string{"router", "interface", "vrid", "family"}

func desc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("govrrp_"+name, help, append(append([]string{}, labels...), extra...), nil)
}

var (
	descState         = desc("router_state", "1 for the router's current state (Initialize, Backup, Master, Fault), 0 for the others.", "state")
	descFault         = desc("router_fault_info", "1 while the router is in Fault, labelled with why (interface-missing, advert-exceeds-mtu, source-missing, link-down, track-fault, ...).", "reason")
	descMaster        = desc("router_master_info", "1, labelled with the address of the current Master (ours when Master); absent in Initialize and Fault.", "master")
	descAddress       = desc("router_address_info", "1 for each virtual address of the router (as configured, with its prefix length).", "address")
	descInfo          = desc("router_info", "1, labelled with the router's configuration: VRRP version, sync group, VMAC, Accept_Mode, unicast, preempt.", "version", "sync_group", "vmac", "accept", "unicast", "preempt")
	descNewMaster     = desc("router_new_master_reason_info", "1, labelled with why the router last became Master (RFC 6527 NewMasterReason: notMaster, priority, preempted, masterNoResponse).", "reason")
	descSince         = desc("router_state_change_timestamp_seconds", "When the router entered its current state, in seconds since the epoch.")
	descPriority      = desc("router_priority", "Configured priority.")
	descEffective     = desc("router_effective_priority", "Priority advertised now (configured plus failed tracking weights).")
	descMasterPrio    = desc("router_master_priority", "Priority of the current master as heard in its adverts (ours when master).")
	descInterval      = desc("router_advert_interval_seconds", "Master_Adver_Interval in use.")
	descConfInterval  = desc("router_configured_advert_interval_seconds", "Advert interval configured (a Backup uses the Master's).")
	descMasterDown    = desc("router_master_down_interval_seconds", "Master_Down_Interval in use.")
	descSkew          = desc("router_skew_time_seconds", "Skew_Time in use.")
	descPreemptDelay  = desc("router_preempt_delay_seconds", "Configured preempt delay.")
	descTransitionsBy = desc("router_transitions_total", "State transitions, by states and reason.", "from", "to", "reason")
	descDiscards      = desc("discards_total", "Adverts dropped by a receive check, by reason.", "reason")
	descWarnings      = desc("warnings_total", "Adverts accepted although a receive check warned (interval_mismatch, ...), by reason.", "reason")
	descTrackFailed   = desc("track_failed", "1 while a tracked object fails.", "kind", "object")
	descTrackWeight   = desc("track_weight", "Priority change a tracked object applies when it fails (0 when it puts the router in Fault instead).", "kind", "object")
	descSplitBrainNow = desc("router_split_brain", "1 while a split-brain episode runs.")
	descTwoOwnersNow  = desc("router_two_owners", "1 while an episode of two owners runs.")
	descVersionNow    = desc("router_version_mismatch", "1 while a peer sending only the other VRRP version is heard.")
	descVersionEpis   = desc("router_version_mismatch_episodes_total", "Episodes of a peer sending only the other VRRP version.")
	descDisabled      = desc("router_disabled", "1 while the router is taken out of service by govrrp disable (it then reports Initialize).")
)

// routerCounter is a series read from one key of RouterDetail.Counters.
type routerCounter struct {
	key      string
	desc     *prometheus.Desc
	extra    []string // label values after the router's
	v2Compat bool     // only routers in the v2_compat mode have it
	// bfdMaster: only routers with Master–Backup BFD (bfd_master) have
	// it, which their counters show by having the key.
	bfdMaster bool
}

var descChecksum = desc("checksum_form_received_total", "Valid adverts received, by the checksum form the peer used: pseudo_header (RFC 5798) or plain (over the VRRP message only, as some VRRPv2 implementations compute it).", "form")

// routerCounters are the series of RouterDetail.Counters: one entry per
// key of api.RouterCounters, then api.V2CompatCounters (a test checks).
var routerCounters = []routerCounter{
	{key: api.CounterMasterTransitions, desc: desc("router_master_transitions_total", "Transitions to Master (RFC 6527 MasterTransitions).")},
	{key: api.CounterAdvertsSent, desc: desc("adverts_sent_total", "Adverts sent.")},
	{key: api.CounterAdvertsReceived, desc: desc("adverts_received_total", "Adverts received that passed validation (RFC 6527 RcvdAdvertisements).")},
	{key: api.CounterPriorityZeroSent, desc: desc("priority_zero_sent_total", "Priority-0 adverts sent (RFC 6527 SentPriZeroPackets).")},
	{key: api.CounterPriorityZeroReceived, desc: desc("priority_zero_received_total", "Priority-0 adverts received (RFC 6527 RcvdPriZeroPackets).")},
	{key: api.CounterMasterChanges, desc: desc("master_changes_total", "Changes of the master address heard by this router.")},
	{key: api.CounterSendErrors, desc: desc("send_errors_total", "Adverts the kernel refused to send or that were dropped because the socket's send queue was full.")},
	{key: api.CounterStaleTimerFirings, desc: desc("router_stale_timer_firings_total", "Timer firings ignored because the timer had been reset since.")},
	{key: api.CounterRepliesSuppressed, desc: desc("router_replies_suppressed_total", "Answers to received adverts not sent because they were over the rate limit.")},
	{key: api.CounterOwnAdvertsIgnored, desc: desc("own_adverts_ignored_total", "Adverts ignored as our own: equal priority and address.")},
	{key: api.CounterSplitBrainEpisodes, desc: desc("router_split_brain_total", "Split-brain episodes: another Master heard while this router was Master (one per episode, not per advert).")},
	{key: api.CounterTwoOwnersEpisodes, desc: desc("router_two_owners_total", "Episodes of priority 255 heard from two addresses (RFC 9568 8.3.2).")},
	{key: api.CounterRxChecksumPseudoHdr, desc: descChecksum, extra: []string{"pseudo_header"}},
	{key: api.CounterRxChecksumPlain, desc: descChecksum, extra: []string{"plain"}},
	{key: api.CounterVersionMismatch, desc: desc("router_version_mismatch_total", "Adverts for the router's VRID from a peer sending only the other VRRP version (2 against 3): dropped, and neither router hears the other.")},

	// The VRRPv2/v3 interoperation mode (v2_compat): only routers in it
	// have these series, so their presence shows the mode.
	{key: api.CounterV2AdvertsSent, desc: desc("v2_adverts_sent_total", "VRRPv2 copies of adverts sent (v2_compat routers only)."), v2Compat: true},
	{key: api.CounterV2AdvertsReceived, desc: desc("v2_adverts_received_total", "VRRPv2 adverts received (v2_compat routers only)."), v2Compat: true},
	{key: api.CounterV2IgnoredFromV3Master, desc: desc("v2_ignored_from_v3_master_total", "VRRPv2 adverts ignored because their Master also sends VRRPv3 (v2_compat routers only)."), v2Compat: true},
	{key: api.CounterV3WithoutV2, desc: desc("v3_without_v2_total", "VRRPv3 adverts from a router that sent no VRRPv2 since its last one (v2_compat routers only)."), v2Compat: true},

	// Master–Backup BFD (bfd_master routers only).
	{key: api.CounterBFDTakeovers, desc: desc("router_bfd_takeovers_total", "Transitions to Master because the BFD session to the Master failed (bfd_master routers only)."), bfdMaster: true},
	{key: api.CounterBFDFalseDowns, desc: desc("router_bfd_false_downs_total", "BFD takeovers after which the old Master was heard again: BFD failed, not the Master (bfd_master routers only)."), bfdMaster: true},
}

var states = []string{"Initialize", "Backup", "Master", "Fault"}

// Collector is a prometheus.Collector over a Source.
type Collector struct{ src Source }

// New returns a Collector reading src at each scrape.
func New(src Source) *Collector { return &Collector{src: src} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descFault, descMaster, descAddress, descInfo, descNewMaster, descSince, descPriority, descEffective,
		descMasterPrio, descInterval, descConfInterval, descMasterDown, descSkew, descPreemptDelay, descTransitionsBy, descDiscards,
		descWarnings, descTrackFailed, descTrackWeight, descSplitBrainNow, descTwoOwnersNow, descVersionNow, descVersionEpis, descDisabled} {
		ch <- d
	}
	for i, rc := range routerCounters {
		if i == 0 || rc.desc != routerCounters[i-1].desc {
			ch <- rc.desc
		}
	}
}

func boolLabel(b bool) string { return strconv.FormatBool(b) }

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.src() {
		lv := []string{r.Name, r.Interface, strconv.Itoa(int(r.VRID)), r.Family}
		gauge := func(d *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append(append([]string{}, lv...), extra...)...)
		}
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append(append([]string{}, lv...), extra...)...)
		}
		for _, s := range states {
			gauge(descState, flag(r.State == s), s)
		}
		switch r.State {
		case "Fault":
			gauge(descFault, 1, cmp.Or(r.FaultReason, "unknown"))
		case "Backup", "Master":
			if r.Master != "" {
				gauge(descMaster, 1, r.Master)
			}
		}
		for _, a := range r.Addresses {
			gauge(descAddress, 1, a)
		}
		gauge(descInfo, 1, strconv.Itoa(int(r.Version)), r.SyncGroup, boolLabel(r.VMAC), boolLabel(r.Accept), boolLabel(r.Unicast), boolLabel(r.Preempt))
		if r.NewMasterReason != "" {
			gauge(descNewMaster, 1, r.NewMasterReason)
		}
		if !r.Since.IsZero() {
			gauge(descSince, seconds(r.Since))
		}
		gauge(descPriority, float64(r.Priority))
		gauge(descEffective, float64(r.EffectivePriority))
		gauge(descMasterPrio, float64(r.MasterPriority))
		gauge(descInterval, r.AdvertIntervalMS/1000)
		gauge(descConfInterval, r.ConfiguredInterval/1000)
		gauge(descMasterDown, r.MasterDownMS/1000)
		gauge(descSkew, r.SkewMS/1000)
		gauge(descPreemptDelay, r.PreemptDelayMS/1000)
		for _, rc := range routerCounters {
			if _, has := r.Counters[rc.key]; (!rc.v2Compat || r.V2Compat) && (!rc.bfdMaster || has) {
				counter(rc.desc, r.Counters[rc.key], rc.extra...)
			}
		}
		for _, t := range r.TransitionCounts {
			counter(descTransitionsBy, t.Count, t.From, t.To, t.Reason)
		}
		gauge(descDisabled, flag(r.Disabled))
		gauge(descSplitBrainNow, flag(r.SplitBrain != nil && r.SplitBrain.Active))
		gauge(descTwoOwnersNow, flag(r.TwoOwners != nil && r.TwoOwners.Active))
		var vm api.VersionMismatch
		if r.VersionMismatch != nil {
			vm = *r.VersionMismatch
		}
		gauge(descVersionNow, flag(vm.Active))
		counter(descVersionEpis, vm.Episodes)
		for reason, n := range r.Discards {
			counter(descDiscards, n, reason)
		}
		for k, n := range r.Counters {
			if reason, ok := strings.CutPrefix(k, api.WarningPrefix); ok {
				counter(descWarnings, n, reason)
			}
		}
		for _, t := range r.Tracked {
			gauge(descTrackFailed, flag(t.Failed), t.Kind, t.Name)
			gauge(descTrackWeight, float64(t.Weight), t.Kind, t.Name)
		}
	}
}

// seconds is t in seconds since the epoch, exact to the millisecond.
func seconds(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }
