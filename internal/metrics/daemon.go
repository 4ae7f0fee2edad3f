package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
)

// DaemonSource returns the daemon-wide counters.
type DaemonSource func() api.DaemonStatus

var (
	descStreams        = prometheus.NewDesc("govrrp_event_streams", "Open /v1/events streams (govrrp watch and other watchers).", nil, nil)
	descStreamsDropped = prometheus.NewDesc("govrrp_event_streams_dropped_total", "Event streams cut off because their reader fell behind.", nil, nil)
)

// DaemonCollector is a prometheus.Collector over a DaemonSource.
type DaemonCollector struct{ src DaemonSource }

// NewDaemon returns a DaemonCollector reading src at each scrape.
func NewDaemon(src DaemonSource) *DaemonCollector { return &DaemonCollector{src: src} }

// Describe implements prometheus.Collector.
func (c *DaemonCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descStreams
	ch <- descStreamsDropped
}

// Collect implements prometheus.Collector.
func (c *DaemonCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src()
	ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(st.EventStreams))
	ch <- prometheus.MustNewConstMetric(descStreamsDropped, prometheus.CounterValue, float64(st.EventStreamsDropped))
}
