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
	descIfUnknownVRID = ifDesc("unknown_vrid_total", "Adverts for a VRID no router on this interface and family is configured with (a VRID mismatch between peers shows here).")
	descIfDiscards    = ifDesc("discards_total", "Adverts dropped by a receive check with no router to charge, by reason (unknown VRIDs included as vrid).", "reason")
	descIfReadErrors  = ifDesc("read_errors_total", "Errors reading the interface's VRRP socket.")
	descIfEffDropped  = ifDesc("effects_dropped_total", "Log lines and events of this interface's routers dropped because the workers were far behind (address and announcement work is never dropped).")
	descIfOverflow    = ifDesc("receive_overflow_total", "Datagrams the kernel dropped because a VRRP socket's buffer was full: socket main (adverts for configured VRIDs) or reject (the rest).", "socket")
)

// InterfaceCollector is a prometheus.Collector of the interfaces' own
// counters: what no virtual router's metrics can show.
type InterfaceCollector struct{ src InterfaceSource }

// NewInterfaces returns a Collector reading src at each scrape.
func NewInterfaces(src InterfaceSource) *InterfaceCollector { return &InterfaceCollector{src: src} }

// Describe implements prometheus.Collector.
func (c *InterfaceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIfUnknownVRID, descIfDiscards, descIfReadErrors, descIfEffDropped, descIfOverflow} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *InterfaceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src() {
		counter := func(d *prometheus.Desc, v uint64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{s.Interface, s.Family}, extra...)...)
		}
		counter(descIfUnknownVRID, s.UnknownVRID)
		for reason, n := range s.Discards {
			counter(descIfDiscards, n, reason)
		}
		counter(descIfReadErrors, s.Counters["read_errors"])
		counter(descIfEffDropped, s.Counters["effects_dropped"])
		counter(descIfOverflow, s.Counters["overflow"], "main")
		counter(descIfOverflow, s.Counters["reject_overflow"], "reject")
	}
}
