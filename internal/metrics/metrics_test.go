package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"govrrp/internal/api"
)

func TestCollector(t *testing.T) {
	src := func() []api.RouterDetail {
		return []api.RouterDetail{{
			RouterStatus: api.RouterStatus{Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv4", State: "Master", Priority: 150, EffectivePriority: 100, AdvertIntervalMS: 1000, MasterDownMS: 3414.0625,
				SplitBrain: &api.Conflict{Active: true, Episodes: 3, Peers: []string{"10.77.0.2"}}},
			Counters: map[string]uint64{"master_transitions": 2, "adverts_sent": 40, "split_brain_episodes": 3, "two_owners_episodes": 1, "version_mismatch": 12},
			Discards: map[string]uint64{"ttl": 3},
			Tracked:  []api.Tracked{{Kind: "interface", Name: "eth1", Weight: -50, Failed: true}},
		}}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(src))
	want := `
# HELP govrrp_router_state 1 for the router's current state (Initialize, Backup, Master, Fault), 0 for the others.
# TYPE govrrp_router_state gauge
govrrp_router_state{family="ipv4",interface="eth0",router="gw",state="Backup",vrid="51"} 0
govrrp_router_state{family="ipv4",interface="eth0",router="gw",state="Fault",vrid="51"} 0
govrrp_router_state{family="ipv4",interface="eth0",router="gw",state="Initialize",vrid="51"} 0
govrrp_router_state{family="ipv4",interface="eth0",router="gw",state="Master",vrid="51"} 1
# HELP govrrp_discards_total Adverts dropped by a receive check, by reason.
# TYPE govrrp_discards_total counter
govrrp_discards_total{family="ipv4",interface="eth0",reason="ttl",router="gw",vrid="51"} 3
# HELP govrrp_router_effective_priority Priority advertised now (configured plus failed tracking weights).
# TYPE govrrp_router_effective_priority gauge
govrrp_router_effective_priority{family="ipv4",interface="eth0",router="gw",vrid="51"} 100
# HELP govrrp_router_master_down_interval_seconds Master_Down_Interval in use.
# TYPE govrrp_router_master_down_interval_seconds gauge
govrrp_router_master_down_interval_seconds{family="ipv4",interface="eth0",router="gw",vrid="51"} 3.4140625
# HELP govrrp_router_split_brain_total Split-brain episodes: another Master heard while this router was Master (one per episode, not per advert).
# TYPE govrrp_router_split_brain_total counter
govrrp_router_split_brain_total{family="ipv4",interface="eth0",router="gw",vrid="51"} 3
# HELP govrrp_router_split_brain 1 while a split-brain episode runs.
# TYPE govrrp_router_split_brain gauge
govrrp_router_split_brain{family="ipv4",interface="eth0",router="gw",vrid="51"} 1
# HELP govrrp_router_two_owners_total Episodes of priority 255 heard from two addresses (RFC 9568 8.3.2).
# TYPE govrrp_router_two_owners_total counter
govrrp_router_two_owners_total{family="ipv4",interface="eth0",router="gw",vrid="51"} 1
# HELP govrrp_router_version_mismatch_total Adverts for the router's VRID from a peer sending only the other VRRP version (2 against 3): dropped, and neither router hears the other.
# TYPE govrrp_router_version_mismatch_total counter
govrrp_router_version_mismatch_total{family="ipv4",interface="eth0",router="gw",vrid="51"} 12
# HELP govrrp_track_failed 1 while a tracked object fails.
# TYPE govrrp_track_failed gauge
govrrp_track_failed{family="ipv4",interface="eth0",kind="interface",object="eth1",router="gw",vrid="51"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "govrrp_router_state", "govrrp_discards_total",
		"govrrp_router_effective_priority", "govrrp_router_master_down_interval_seconds", "govrrp_track_failed",
		"govrrp_router_split_brain_total", "govrrp_router_split_brain", "govrrp_router_two_owners_total", "govrrp_router_version_mismatch_total"); err != nil {
		t.Fatal(err)
	}
}

// The interfaces' own counters: adverts for a VRID no router there has
// [5798-7.1-e], the other drops nobody else can be charged with, and the
// socket's overflows; every value distinct, so a series reading another
// field's value fails.
func TestInterfaceCollector(t *testing.T) {
	src := func() []api.InterfaceStatus {
		return []api.InterfaceStatus{{
			Interface: "eth0", Family: "ipv4", Routers: 2, UnknownVRID: 7, LastUnknownVRID: 52, LastUnknownFrom: "10.77.0.9",
			Discards: map[string]uint64{"vrid": 9, "version": 1}, // vrid: the unknown ones and more
			Counters: map[string]uint64{"read_errors": 2, "overflow": 5, "reject_overflow": 40, "effects_dropped": 3},
		}}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewInterfaces(src))
	want := `
# HELP govrrp_interface_unknown_vrid_total Adverts for a VRID no router on this interface and family is configured with (a VRID mismatch between peers shows here).
# TYPE govrrp_interface_unknown_vrid_total counter
govrrp_interface_unknown_vrid_total{family="ipv4",interface="eth0"} 7
# HELP govrrp_interface_discards_total Adverts dropped by a receive check with no router to charge, by reason (unknown VRIDs included as vrid).
# TYPE govrrp_interface_discards_total counter
govrrp_interface_discards_total{family="ipv4",interface="eth0",reason="version"} 1
govrrp_interface_discards_total{family="ipv4",interface="eth0",reason="vrid"} 9
# HELP govrrp_interface_read_errors_total Errors reading the interface's VRRP socket.
# TYPE govrrp_interface_read_errors_total counter
govrrp_interface_read_errors_total{family="ipv4",interface="eth0"} 2
# HELP govrrp_interface_effects_dropped_total Log lines and events of this interface's routers dropped because the workers were far behind (address and announcement work is never dropped).
# TYPE govrrp_interface_effects_dropped_total counter
govrrp_interface_effects_dropped_total{family="ipv4",interface="eth0"} 3
# HELP govrrp_interface_receive_overflow_total Datagrams the kernel dropped because a VRRP socket's buffer was full: socket main (adverts for configured VRIDs) or reject (the rest).
# TYPE govrrp_interface_receive_overflow_total counter
govrrp_interface_receive_overflow_total{family="ipv4",interface="eth0",socket="main"} 5
govrrp_interface_receive_overflow_total{family="ipv4",interface="eth0",socket="reject"} 40
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}

// A router in the VRRPv2/v3 interoperation mode [5798-8.4.2-b] has the
// mode's counters; a router not in it has none of those series.
func TestCollectorV2Compat(t *testing.T) {
	src := func() []api.RouterDetail {
		return []api.RouterDetail{{
			RouterStatus: api.RouterStatus{Name: "mig", Interface: "eth1", VRID: 7, Family: "ipv4", Version: 3, State: "Backup", V2Compat: true},
			Counters:     map[string]uint64{"v2_adverts_sent": 0, "v2_adverts_received": 12, "v2_ignored_from_v3_master": 12, "v3_without_v2": 1},
		}, {
			RouterStatus: api.RouterStatus{Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv4", Version: 3, State: "Master"},
			Counters:     map[string]uint64{"adverts_sent": 40},
		}}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(src))
	want := `
# HELP govrrp_v2_adverts_received_total VRRPv2 adverts received (v2_compat routers only).
# TYPE govrrp_v2_adverts_received_total counter
govrrp_v2_adverts_received_total{family="ipv4",interface="eth1",router="mig",vrid="7"} 12
# HELP govrrp_v2_adverts_sent_total VRRPv2 copies of adverts sent (v2_compat routers only).
# TYPE govrrp_v2_adverts_sent_total counter
govrrp_v2_adverts_sent_total{family="ipv4",interface="eth1",router="mig",vrid="7"} 0
# HELP govrrp_v2_ignored_from_v3_master_total VRRPv2 adverts ignored because their Master also sends VRRPv3 (v2_compat routers only).
# TYPE govrrp_v2_ignored_from_v3_master_total counter
govrrp_v2_ignored_from_v3_master_total{family="ipv4",interface="eth1",router="mig",vrid="7"} 12
# HELP govrrp_v3_without_v2_total VRRPv3 adverts from a router that sent no VRRPv2 since its last one (v2_compat routers only).
# TYPE govrrp_v3_without_v2_total counter
govrrp_v3_without_v2_total{family="ipv4",interface="eth1",router="mig",vrid="7"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "govrrp_v2_adverts_sent_total", "govrrp_v2_adverts_received_total",
		"govrrp_v2_ignored_from_v3_master_total", "govrrp_v3_without_v2_total"); err != nil {
		t.Fatal(err)
	}
}

// Every series of a router, each value from its own field: all values
// distinct, so a series reading another field's value (received adverts
// reported as sent) fails, and the whole exposition is compared, so a
// series missing or added fails too.
func TestCollectorEveryValue(t *testing.T) {
	src := func() []api.RouterDetail {
		return []api.RouterDetail{{
			RouterStatus: api.RouterStatus{Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv6", Version: 3, State: "Backup",
				Priority: 150, EffectivePriority: 140, MasterPriority: 160, AdvertIntervalMS: 1230, MasterDownMS: 4567.5, V2Compat: true,
				SplitBrain: &api.Conflict{Active: true, Episodes: 7}},
			Counters: map[string]uint64{
				"master_transitions": 1, "adverts_sent": 2, "adverts_received": 3, "priority_zero_sent": 4, "priority_zero_received": 5,
				"master_changes": 6, "split_brain_episodes": 7, "two_owners_episodes": 8, "version_mismatch": 9,
				"v2_adverts_sent": 10, "v2_adverts_received": 11, "v2_ignored_from_v3_master": 12, "v3_without_v2": 13,
			},
			Discards: map[string]uint64{"ttl": 14, "checksum": 15},
			Tracked:  []api.Tracked{{Kind: "interface", Name: "eth1", Weight: -50, Failed: true}, {Kind: "script", Name: "chk", Weight: -20}},
		}}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(src))
	// lab is the series' labels in the exposition's (sorted) order.
	lab := func(extra ...string) string {
		l := []string{`family="ipv6"`, `interface="eth0"`, `router="gw"`, `vrid="51"`}
		for i := 0; i < len(extra); i += 2 {
			l = append(l, extra[i]+`="`+extra[i+1]+`"`)
		}
		slices.Sort(l)
		return "{" + strings.Join(l, ",") + "}"
	}
	want := ""
	for _, s := range []struct {
		name, typ, series string
		v                 string
	}{
		{"router_state", "gauge", lab("state", "Initialize"), "0"},
		{"router_state", "gauge", lab("state", "Backup"), "1"},
		{"router_state", "gauge", lab("state", "Master"), "0"},
		{"router_state", "gauge", lab("state", "Fault"), "0"},
		{"router_priority", "gauge", lab(), "150"},
		{"router_effective_priority", "gauge", lab(), "140"},
		{"router_master_priority", "gauge", lab(), "160"},
		{"router_advert_interval_seconds", "gauge", lab(), "1.23"},
		{"router_master_down_interval_seconds", "gauge", lab(), "4.5675"},
		{"router_master_transitions_total", "counter", lab(), "1"},
		{"adverts_sent_total", "counter", lab(), "2"},
		{"adverts_received_total", "counter", lab(), "3"},
		{"priority_zero_sent_total", "counter", lab(), "4"},
		{"priority_zero_received_total", "counter", lab(), "5"},
		{"master_changes_total", "counter", lab(), "6"},
		{"router_split_brain_total", "counter", lab(), "7"},
		{"router_two_owners_total", "counter", lab(), "8"},
		{"router_version_mismatch_total", "counter", lab(), "9"},
		{"router_split_brain", "gauge", lab(), "1"},
		{"v2_adverts_sent_total", "counter", lab(), "10"},
		{"v2_adverts_received_total", "counter", lab(), "11"},
		{"v2_ignored_from_v3_master_total", "counter", lab(), "12"},
		{"v3_without_v2_total", "counter", lab(), "13"},
		{"discards_total", "counter", lab("reason", "ttl"), "14"},
		{"discards_total", "counter", lab("reason", "checksum"), "15"},
		{"track_failed", "gauge", lab("kind", "interface", "object", "eth1"), "1"},
		{"track_failed", "gauge", lab("kind", "script", "object", "chk"), "0"},
	} {
		want += "# TYPE govrrp_" + s.name + " " + s.typ + "\ngovrrp_" + s.name + s.series + " " + s.v + "\n"
	}
	if err := compareValues(reg, want); err != nil {
		t.Fatal(err)
	}
}

// The daemon-wide series, each from its own field.
func TestDaemonCollector(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewDaemon(func() api.DaemonStatus { return api.DaemonStatus{EventStreams: 2, EventStreamsDropped: 3} }))
	want := "# TYPE govrrp_event_streams gauge\ngovrrp_event_streams 2\n" +
		"# TYPE govrrp_event_streams_dropped_total counter\ngovrrp_event_streams_dropped_total 3\n"
	if err := compareValues(reg, want); err != nil {
		t.Fatal(err)
	}
}

// compareValues compares everything reg exposes, but for the HELP lines
// (TestCollector pins those), with want: its series and TYPE lines, in any
// order, a TYPE line given once per series.
func compareValues(reg prometheus.Gatherer, want string) error {
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	lines := func(s string) []string {
		var v []string
		for l := range strings.Lines(s) {
			if !strings.HasPrefix(l, "# HELP ") {
				v = append(v, strings.TrimSuffix(l, "\n"))
			}
		}
		slices.Sort(v)
		return slices.Compact(v)
	}
	if got, want := lines(b.String()), lines(want); !slices.Equal(got, want) {
		return fmt.Errorf("exposed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	return nil
}
