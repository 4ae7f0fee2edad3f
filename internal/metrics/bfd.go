package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
)

// BFDSource returns the daemon's BFD sessions.
type BFDSource func() api.BFDStatus

func bfdDesc(name, help string, extra ...string) *prometheus.Desc {
	return prometheus.NewDesc("govrrp_bfd_"+name, help, append([]string{"session"}, extra...), nil)
}

// bfdStates are the session states, as api.BFDSession.State spells them.
var bfdStates = []string{"AdminDown", "Down", "Init", "Up"}

var (
	descBFDState     = bfdDesc("session_state", "1 for the BFD session's current state (AdminDown, Down, Init, Up), 0 for the others.", "state")
	descBFDInfo      = bfdDesc("session_info", "The BFD session's peer and diagnostics (RFC 5880 §4.1): why each side is not Up, none while Up (diag ours, remote_diag the peer's).", "interface", "peer", "diag", "remote_diag")
	descBFDTx        = bfdDesc("session_tx_interval_seconds", "The negotiated transmit interval, before jitter (1s while not Up).")
	descBFDRx        = bfdDesc("session_rx_interval_seconds", "The negotiated receive interval: the detection time over the peer's multiplier (0 before a packet).")
	descBFDDetection = bfdDesc("session_detection_time_seconds", "The detection time in use: how long without a packet before the session fails (0 before a packet).")
	descBFDDrops     = prometheus.NewDesc("govrrp_bfd_dropped_total", "BFD packets dropped by the listener of an interface and family, by receive check (ttl: not 255, GTSM; no_session: no session matches).", []string{"interface", "family", "check"}, nil)
)

// bfdCounters are the series of BFDSession.Counters, one per key of
// api.BFDCounters (a test checks).
var bfdCounters = []struct {
	key  string
	desc *prometheus.Desc
}{
	{api.BFDCounterSent, bfdDesc("packets_sent_total", "BFD control packets sent.")},
	{api.BFDCounterReceived, bfdDesc("packets_received_total", "BFD control packets the session took.")},
	{api.BFDCounterSendErrors, bfdDesc("send_errors_total", "BFD control packets the socket refused to send.")},
	{api.BFDCounterUps, bfdDesc("session_ups_total", "Times the session came Up.")},
	{api.BFDCounterFailures, bfdDesc("session_failures_total", "Times an Up session went Down on a lost path or the peer's Down: the failures a tracking router acts on (AdminDown is not one).")},
	{api.BFDCounterAdminDowns, bfdDesc("session_admin_downs_total", "Times the session went AdminDown, or Down on the peer's AdminDown: no failure (RFC 5882 §3.2).")},
	{api.BFDCounterHostStalls, bfdDesc("host_stalls_total", "Times this host did not run govrrpd's BFD loop for at least the peer's interval: the detection timer was moved by the stall, since time not observed is not the peer's silence.")},
}

// BFDCollector is a prometheus.Collector of the BFD sessions.
type BFDCollector struct{ src BFDSource }

// NewBFD returns a Collector reading src at each scrape.
func NewBFD(src BFDSource) *BFDCollector { return &BFDCollector{src: src} }

// Describe implements prometheus.Collector.
func (c *BFDCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBFDState, descBFDInfo, descBFDTx, descBFDRx, descBFDDetection, descBFDDrops} {
		ch <- d
	}
	for _, bc := range bfdCounters {
		ch <- bc.desc
	}
}

// Collect implements prometheus.Collector.
func (c *BFDCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src()
	for _, s := range st.Sessions {
		gauge := func(d *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{s.Name}, extra...)...)
		}
		for _, state := range bfdStates {
			v := 0.0
			if s.State == state {
				v = 1
			}
			gauge(descBFDState, v, state)
		}
		gauge(descBFDInfo, 1, s.Interface, s.Peer, s.Diag, s.RemoteDiag)
		gauge(descBFDTx, s.TxIntervalMS/1000)
		gauge(descBFDRx, s.RxIntervalMS/1000)
		gauge(descBFDDetection, s.DetectionMS/1000)
		for _, bc := range bfdCounters {
			ch <- prometheus.MustNewConstMetric(bc.desc, prometheus.CounterValue, float64(s.Counters[bc.key]), s.Name)
		}
	}
	for _, l := range st.Listeners {
		for check, n := range l.Drops {
			ch <- prometheus.MustNewConstMetric(descBFDDrops, prometheus.CounterValue, float64(n), l.Interface, l.Family, check)
		}
	}
}
