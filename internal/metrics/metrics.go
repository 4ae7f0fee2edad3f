// Package metrics exports govrrpd's state to Prometheus. It reads the same
// snapshots the control API serves, at scrape time, so the daemon itself
// knows nothing of Prometheus and nothing is counted twice.
package metrics

import (
	"strconv"

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
	descPriority      = desc("router_priority", "Configured priority.")
	descEffective     = desc("router_effective_priority", "Priority advertised now (configured plus failed tracking weights).")
	descMasterPrio    = desc("router_master_priority", "Priority of the current master as heard in its adverts (ours when master).")
	descInterval      = desc("router_advert_interval_seconds", "Master_Adver_Interval in use.")
	descMasterDown    = desc("router_master_down_interval_seconds", "Master_Down_Interval in use.")
	descTransitions   = desc("router_master_transitions_total", "Transitions to Master (RFC 6527 MasterTransitions).")
	descAdvertsTx     = desc("adverts_sent_total", "Adverts sent.")
	descAdvertsRx     = desc("adverts_received_total", "Adverts received that passed validation (RFC 6527 RcvdAdvertisements).")
	descPriZeroTx     = desc("priority_zero_sent_total", "Priority-0 adverts sent (RFC 6527 SentPriZeroPackets).")
	descPriZeroRx     = desc("priority_zero_received_total", "Priority-0 adverts received (RFC 6527 RcvdPriZeroPackets).")
	descDiscards      = desc("discards_total", "Adverts dropped by a receive check, by reason.", "reason")
	descMasterChanges = desc("master_changes_total", "Changes of the master address heard by this router.")
	descTrackFailed   = desc("track_failed", "1 while a tracked object fails.", "kind", "object")
	descSplitBrain    = desc("router_split_brain_total", "Split-brain episodes: another Master heard while this router was Master (one per episode, not per advert).")
	descSplitBrainNow = desc("router_split_brain", "1 while a split-brain episode runs.")
	descVersionMism   = desc("router_version_mismatch_total", "Adverts for the router's VRID from a peer sending only the other VRRP version (2 against 3): dropped, and neither router hears the other.")
	descTwoOwners     = desc("router_two_owners_total", "Episodes of priority 255 heard from two addresses (RFC 9568 8.3.2).")

	// The VRRPv2/v3 interoperation mode (v2_compat): only routers in it
	// have these series, so their presence shows the mode.
	descV2Tx        = desc("v2_adverts_sent_total", "VRRPv2 copies of adverts sent (v2_compat routers only).")
	descV2Rx        = desc("v2_adverts_received_total", "VRRPv2 adverts received (v2_compat routers only).")
	descV2Ignored   = desc("v2_ignored_from_v3_master_total", "VRRPv2 adverts ignored because their Master also sends VRRPv3 (v2_compat routers only).")
	descV3WithoutV2 = desc("v3_without_v2_total", "VRRPv3 adverts from a router that sent no VRRPv2 since its last one (v2_compat routers only).")
)

var states = []string{"Initialize", "Backup", "Master", "Fault"}

// Collector is a prometheus.Collector over a Source.
type Collector struct{ src Source }

// New returns a Collector reading src at each scrape.
func New(src Source) *Collector { return &Collector{src: src} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descPriority, descEffective, descMasterPrio, descInterval, descMasterDown,
		descTransitions, descAdvertsTx, descAdvertsRx, descPriZeroTx, descPriZeroRx, descDiscards, descMasterChanges, descTrackFailed,
		descSplitBrain, descSplitBrainNow, descTwoOwners, descVersionMism,
		descV2Tx, descV2Rx, descV2Ignored, descV3WithoutV2} {
		ch <- d
	}
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
			v := 0.0
			if r.State == s {
				v = 1
			}
			gauge(descState, v, s)
		}
		gauge(descPriority, float64(r.Priority))
		gauge(descEffective, float64(r.EffectivePriority))
		gauge(descMasterPrio, float64(r.MasterPriority))
		gauge(descInterval, r.AdvertIntervalMS/1000)
		gauge(descMasterDown, r.MasterDownMS/1000)
		counter(descTransitions, r.Counters["master_transitions"])
		counter(descAdvertsTx, r.Counters["adverts_sent"])
		counter(descAdvertsRx, r.Counters["adverts_received"])
		counter(descPriZeroTx, r.Counters["priority_zero_sent"])
		counter(descPriZeroRx, r.Counters["priority_zero_received"])
		counter(descMasterChanges, r.Counters["master_changes"])
		counter(descSplitBrain, r.Counters["split_brain_episodes"])
		counter(descTwoOwners, r.Counters["two_owners_episodes"])
		counter(descVersionMism, r.Counters["version_mismatch"])
		splitBrainNow := 0.0
		if r.SplitBrain != nil && r.SplitBrain.Active {
			splitBrainNow = 1
		}
		gauge(descSplitBrainNow, splitBrainNow)
		if r.V2Compat {
			counter(descV2Tx, r.Counters["v2_adverts_sent"])
			counter(descV2Rx, r.Counters["v2_adverts_received"])
			counter(descV2Ignored, r.Counters["v2_ignored_from_v3_master"])
			counter(descV3WithoutV2, r.Counters["v3_without_v2"])
		}
		for reason, n := range r.Discards {
			counter(descDiscards, n, reason)
		}
		for _, t := range r.Tracked {
			v := 0.0
			if t.Failed {
				v = 1
			}
			gauge(descTrackFailed, v, t.Kind, t.Name)
		}
	}
}
