package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"govrrp/internal/api"
)

func everyBFDValue() api.BFDStatus {
	return api.BFDStatus{
		Sessions: []api.BFDSession{{
			Name: "frr", Interface: "eth0", Peer: "10.77.0.2", State: "Up", RemoteState: "Up",
			Diag: "control_detection_time_expired", RemoteDiag: "administratively_down",
			TxIntervalMS: 10, RxIntervalMS: 20, DetectionMS: 60,
			Counters: map[string]uint64{api.BFDCounterSent: 1, api.BFDCounterReceived: 2, api.BFDCounterSendErrors: 3,
				api.BFDCounterUps: 4, api.BFDCounterFailures: 5, api.BFDCounterAdminDowns: 6, api.BFDCounterHostStalls: 7},
		}},
		Listeners: []api.BFDListener{{Interface: "eth0", Family: "ipv4", Drops: map[string]uint64{"ttl": 7, "no_session": 8}}},
	}
}

// Every series of a BFD session, each value from its own field: the
// state as an enum, the diagnostics as info labels, the negotiated
// intervals and the detection time in seconds, the Down counts (failures
// and AdminDowns apart), packets, and the listeners' drops by check.
func TestBFDCollectorEveryValue(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewBFD(everyBFDValue))
	want := ""
	for _, s := range []struct{ name, typ, series, v string }{
		{"bfd_session_state", "gauge", `{session="frr",state="AdminDown"}`, "0"},
		{"bfd_session_state", "gauge", `{session="frr",state="Down"}`, "0"},
		{"bfd_session_state", "gauge", `{session="frr",state="Init"}`, "0"},
		{"bfd_session_state", "gauge", `{session="frr",state="Up"}`, "1"},
		{"bfd_session_info", "gauge", `{diag="control_detection_time_expired",interface="eth0",peer="10.77.0.2",remote_diag="administratively_down",session="frr"}`, "1"},
		{"bfd_session_tx_interval_seconds", "gauge", `{session="frr"}`, "0.01"},
		{"bfd_session_rx_interval_seconds", "gauge", `{session="frr"}`, "0.02"},
		{"bfd_session_detection_time_seconds", "gauge", `{session="frr"}`, "0.06"},
		{"bfd_packets_sent_total", "counter", `{session="frr"}`, "1"},
		{"bfd_packets_received_total", "counter", `{session="frr"}`, "2"},
		{"bfd_send_errors_total", "counter", `{session="frr"}`, "3"},
		{"bfd_session_ups_total", "counter", `{session="frr"}`, "4"},
		{"bfd_session_failures_total", "counter", `{session="frr"}`, "5"},
		{"bfd_session_admin_downs_total", "counter", `{session="frr"}`, "6"},
		{"bfd_host_stalls_total", "counter", `{session="frr"}`, "7"},
		{"bfd_dropped_total", "counter", `{check="ttl",family="ipv4",interface="eth0"}`, "7"},
		{"bfd_dropped_total", "counter", `{check="no_session",family="ipv4",interface="eth0"}`, "8"},
	} {
		want += "# TYPE govrrp_" + s.name + " " + s.typ + "\ngovrrp_" + s.name + s.series + " " + s.v + "\n"
	}
	if err := compareValues(reg, want); err != nil {
		t.Fatal(err)
	}
	// No session: no series.
	reg = prometheus.NewPedanticRegistry()
	reg.MustRegister(NewBFD(func() api.BFDStatus { return api.BFDStatus{} }))
	if err := compareValues(reg, ""); err != nil {
		t.Fatal(err)
	}
}
