package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
)

// InterfaceSource returns the counters of every interface and family.
type InterfaceSource func() []api.InterfaceStatus

var ifLabels = []string{"interface", "family"}

func ifDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("govrrp_interface_"+name, help, append(append([]string{}, ifLabels...), extra...), nil)
}

var (
	descIfRouters     = ifDesc("routers", "Virtual routers running on this interface and family.")
	descIfUnknownVRID = ifDesc("unknown_vrid_total", "Adverts for a VRID no router on this interface and family is configured with (a VRID mismatch between peers shows here).")
	descIfLastUnknown = ifDesc("last_unknown_vrid_timestamp_seconds", "When the latest advert for an unknown VRID was heard, in seconds since the epoch (absent until the first).")
	descIfDiscards    = ifDesc("discards_total", "Adverts dropped by a receive check with no router to charge, by reason (unknown VRIDs included as vrid).", "reason")
	descIfOverflow    = ifDesc("receive_overflow_total", "Datagrams the kernel dropped because a VRRP socket's buffer was full: socket main (adverts for configured VRIDs) or reject (the rest).", "socket")
)

// ifCounters are the series of InterfaceStatus.Counters, one entry per key
// of api.InterfaceCounters (a test checks). A key the interface does not
// have (its socket keeps no statistics) has no series.
var ifCounters = []struct {
	key   string
	desc  *prometheus.Desc
	extra []string
}{
	{key: api.IfCounterReadErrors, desc: ifDesc("read_errors_total", "Errors reading the interface's VRRP socket.")},
	{key: api.IfCounterEffectsDropped, desc: ifDesc("effects_dropped_total", "Log lines and events of this interface's routers dropped because the workers were far behind (address and announcement work is never dropped).")},
	{key: api.IfCounterReceived, desc: ifDesc("datagrams_received_total", "Datagrams read from the interface's VRRP sockets.")},
	{key: api.IfCounterRejected, desc: ifDesc("datagrams_rejected_total", "Of the datagrams received, those read from the reject socket: what the kernel filter refused (unknown VRIDs, bad TTL, ...).")},
	{key: api.IfCounterTruncated, desc: ifDesc("datagrams_truncated_total", "Datagrams longer than any advert: skipped unparsed.")},
	{key: api.IfCounterNotPeer, desc: ifDesc("datagrams_not_peer_total", "Unicast mode: datagrams dropped because their source is not a configured peer.")},
	{key: api.IfCounterOverflow, desc: descIfOverflow, extra: []string{"main"}},
	{key: api.IfCounterRejectOverflow, desc: descIfOverflow, extra: []string{"reject"}},
}

// InterfaceCollector is a prometheus.Collector of the interfaces' own
// counters: what no virtual router's metrics can show.
type InterfaceCollector struct{ src InterfaceSource }

// NewInterfaces returns a Collector reading src at each scrape.
func NewInterfaces(src InterfaceSource) *InterfaceCollector { return &InterfaceCollector{src: src} }

// Describe implements prometheus.Collector.
func (c *InterfaceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIfRouters, descIfUnknownVRID, descIfLastUnknown, descIfDiscards} {
		ch <- d
	}
	for i, ic := range ifCounters {
		if i == 0 || ic.desc != ifCounters[i-1].desc {
			ch <- ic.desc
		}
	}
}

// Collect implements prometheus.Collector.
func (c *InterfaceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src() {
		lv := func(extra ...string) []string { return append([]string{s.Interface, s.Family}, extra...) }
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), lv(extra...)...)
		}
		ch <- prometheus.MustNewConstMetric(descIfRouters, prometheus.GaugeValue, float64(s.Routers), lv()...)
		counter(descIfUnknownVRID, s.UnknownVRID)
		if !s.LastUnknownAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(descIfLastUnknown, prometheus.GaugeValue, seconds(s.LastUnknownAt), lv()...)
		}
		for reason, n := range s.Discards {
			counter(descIfDiscards, n, reason)
		}
		for _, ic := range ifCounters {
			if v, ok := s.Counters[ic.key]; ok {
				counter(ic.desc, v, ic.extra...)
			}
		}
	}
}
