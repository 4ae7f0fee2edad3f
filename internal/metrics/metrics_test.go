package metrics

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"govrrp/internal/api"
	"govrrp/internal/version"
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
// socket's counters; every value distinct, so a series reading another
// field's value fails, and the whole exposition compared.
func TestInterfaceCollector(t *testing.T) {
	src := func() []api.InterfaceStatus {
		return []api.InterfaceStatus{{
			Interface: "eth0", Family: "ipv4", Routers: 2, UnknownVRID: 7, LastUnknownVRID: 52, LastUnknownFrom: "10.77.0.9",
			LastUnknownAt: time.Unix(1700000000, 5e8),
			Discards:      map[string]uint64{"vrid": 9, "version": 1}, // vrid: the unknown ones and more
			Counters: map[string]uint64{api.IfCounterReadErrors: 2, api.IfCounterOverflow: 5, api.IfCounterRejectOverflow: 40, api.IfCounterEffectsDropped: 3,
				api.IfCounterReceived: 100, api.IfCounterRejected: 60, api.IfCounterTruncated: 4, api.IfCounterNotPeer: 6},
		}, {
			// A socket that keeps no statistics: no series for them.
			Interface: "eth1", Family: "ipv6", Routers: 1,
			Counters: map[string]uint64{api.IfCounterReadErrors: 0, api.IfCounterEffectsDropped: 0},
		}}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewInterfaces(src))
	want := `
# HELP govrrp_interface_unknown_vrid_total Adverts for a VRID no router on this interface and family is configured with (a VRID mismatch between peers shows here).
# TYPE govrrp_interface_unknown_vrid_total counter
govrrp_interface_unknown_vrid_total{family="ipv4",interface="eth0"} 7
govrrp_interface_unknown_vrid_total{family="ipv6",interface="eth1"} 0
# HELP govrrp_interface_routers Virtual routers running on this interface and family.
# TYPE govrrp_interface_routers gauge
govrrp_interface_routers{family="ipv4",interface="eth0"} 2
govrrp_interface_routers{family="ipv6",interface="eth1"} 1
# HELP govrrp_interface_last_unknown_vrid_timestamp_seconds When the latest advert for an unknown VRID was heard, in seconds since the epoch (absent until the first).
# TYPE govrrp_interface_last_unknown_vrid_timestamp_seconds gauge
govrrp_interface_last_unknown_vrid_timestamp_seconds{family="ipv4",interface="eth0"} 1.7000000005e+09
# HELP govrrp_interface_datagrams_received_total Datagrams read from the interface's VRRP sockets.
# TYPE govrrp_interface_datagrams_received_total counter
govrrp_interface_datagrams_received_total{family="ipv4",interface="eth0"} 100
# HELP govrrp_interface_datagrams_rejected_total Of the datagrams received, those read from the reject socket: what the kernel filter refused (unknown VRIDs, bad TTL, ...).
# TYPE govrrp_interface_datagrams_rejected_total counter
govrrp_interface_datagrams_rejected_total{family="ipv4",interface="eth0"} 60
# HELP govrrp_interface_datagrams_truncated_total Datagrams longer than any advert: skipped unparsed.
# TYPE govrrp_interface_datagrams_truncated_total counter
govrrp_interface_datagrams_truncated_total{family="ipv4",interface="eth0"} 4
# HELP govrrp_interface_datagrams_not_peer_total Unicast mode: datagrams dropped because their source is not a configured peer.
# TYPE govrrp_interface_datagrams_not_peer_total counter
govrrp_interface_datagrams_not_peer_total{family="ipv4",interface="eth0"} 6
# HELP govrrp_interface_discards_total Adverts dropped by a receive check with no router to charge, by reason (unknown VRIDs included as vrid).
# TYPE govrrp_interface_discards_total counter
govrrp_interface_discards_total{family="ipv4",interface="eth0",reason="version"} 1
govrrp_interface_discards_total{family="ipv4",interface="eth0",reason="vrid"} 9
# HELP govrrp_interface_read_errors_total Errors reading the interface's VRRP socket.
# TYPE govrrp_interface_read_errors_total counter
govrrp_interface_read_errors_total{family="ipv4",interface="eth0"} 2
govrrp_interface_read_errors_total{family="ipv6",interface="eth1"} 0
# HELP govrrp_interface_effects_dropped_total Log lines and events of this interface's routers dropped because the workers were far behind (address and announcement work is never dropped).
# TYPE govrrp_interface_effects_dropped_total counter
govrrp_interface_effects_dropped_total{family="ipv4",interface="eth0"} 3
govrrp_interface_effects_dropped_total{family="ipv6",interface="eth1"} 0
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

// everyValue is a router with every field the collector reads set, each
// to a value no other field has.
func everyValue() api.RouterDetail {
	return api.RouterDetail{
		RouterStatus: api.RouterStatus{Name: "gw", Interface: "eth0", VRID: 51, Family: "ipv6", Version: 3, State: "Backup",
			Priority: 150, EffectivePriority: 140, Master: "fe80::2", MasterPriority: 160, AdvertIntervalMS: 1230, MasterDownMS: 4567.5, V2Compat: true,
			Since: time.Unix(1700000000, 250e6), SyncGroup: "edge", Addresses: []string{"fd77::fe/64", "fd77::fd/64"}, VMAC: true, Unicast: false, Accept: true,
			SplitBrain:      &api.Conflict{Active: true, Episodes: 7},
			TwoOwners:       &api.Conflict{Active: false, Episodes: 8},
			VersionMismatch: &api.VersionMismatch{Active: true, Episodes: 27}},
		Preempt: true, PreemptDelayMS: 2500, SkewMS: 414.0625, ConfiguredInterval: 1000,
		Counters: map[string]uint64{
			api.CounterMasterTransitions: 1, api.CounterAdvertsSent: 2, api.CounterAdvertsReceived: 3, api.CounterPriorityZeroSent: 4,
			api.CounterPriorityZeroReceived: 5, api.CounterMasterChanges: 6, api.CounterSplitBrainEpisodes: 7, api.CounterTwoOwnersEpisodes: 8,
			api.CounterVersionMismatch: 9, api.CounterV2AdvertsSent: 10, api.CounterV2AdvertsReceived: 11, api.CounterV2IgnoredFromV3Master: 12,
			api.CounterV3WithoutV2: 13, api.CounterSendErrors: 16, api.CounterStaleTimerFirings: 17, api.CounterRepliesSuppressed: 18,
			api.CounterOwnAdvertsIgnored: 19, api.CounterRxChecksumPseudoHdr: 20, api.CounterRxChecksumPlain: 21,
			api.WarningPrefix + "interval_mismatch": 22, api.CounterBFDTakeovers: 25, api.CounterBFDFalseDowns: 26,
		},
		Discards: map[string]uint64{"ttl": 14, "checksum": 15},
		Tracked:  []api.Tracked{{Kind: "interface", Name: "eth1", Weight: -50, Failed: true}, {Kind: "script", Name: "chk", Weight: -20}},
		TransitionCounts: []api.TransitionCount{{From: "Initialize", To: "Backup", Reason: "startup", Count: 23},
			{From: "Master", To: "Backup", Reason: "higher-priority-advert", Count: 24}},
		NewMasterReason: "preempted",
	}
}

// Every series of a router, each value from its own field: all values
// distinct, so a series reading another field's value (received adverts
// reported as sent) fails, and the whole exposition is compared, so a
// series missing or added fails too.
func TestCollectorEveryValue(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(func() []api.RouterDetail { return []api.RouterDetail{everyValue()} }))
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
		{"router_master_info", "gauge", lab("master", "fe80::2"), "1"},
		{"router_address_info", "gauge", lab("address", "fd77::fe/64"), "1"},
		{"router_address_info", "gauge", lab("address", "fd77::fd/64"), "1"},
		{"router_info", "gauge", lab("version", "3", "sync_group", "edge", "vmac", "true", "accept", "true", "unicast", "false", "preempt", "true"), "1"},
		{"router_new_master_reason_info", "gauge", lab("reason", "preempted"), "1"},
		{"router_state_change_timestamp_seconds", "gauge", lab(), "1.70000000025e+09"},
		{"router_priority", "gauge", lab(), "150"},
		{"router_effective_priority", "gauge", lab(), "140"},
		{"router_master_priority", "gauge", lab(), "160"},
		{"router_advert_interval_seconds", "gauge", lab(), "1.23"},
		{"router_configured_advert_interval_seconds", "gauge", lab(), "1"},
		{"router_master_down_interval_seconds", "gauge", lab(), "4.5675"},
		{"router_skew_time_seconds", "gauge", lab(), "0.4140625"},
		{"router_preempt_delay_seconds", "gauge", lab(), "2.5"},
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
		{"router_two_owners", "gauge", lab(), "0"},
		{"router_disabled", "gauge", lab(), "0"},
		{"router_version_mismatch", "gauge", lab(), "1"},
		{"router_version_mismatch_episodes_total", "counter", lab(), "27"},
		{"v2_adverts_sent_total", "counter", lab(), "10"},
		{"v2_adverts_received_total", "counter", lab(), "11"},
		{"v2_ignored_from_v3_master_total", "counter", lab(), "12"},
		{"v3_without_v2_total", "counter", lab(), "13"},
		{"router_bfd_takeovers_total", "counter", lab(), "25"},
		{"router_bfd_false_downs_total", "counter", lab(), "26"},
		{"discards_total", "counter", lab("reason", "ttl"), "14"},
		{"discards_total", "counter", lab("reason", "checksum"), "15"},
		{"send_errors_total", "counter", lab(), "16"},
		{"router_stale_timer_firings_total", "counter", lab(), "17"},
		{"router_replies_suppressed_total", "counter", lab(), "18"},
		{"own_adverts_ignored_total", "counter", lab(), "19"},
		{"checksum_form_received_total", "counter", lab("form", "pseudo_header"), "20"},
		{"checksum_form_received_total", "counter", lab("form", "plain"), "21"},
		{"warnings_total", "counter", lab("reason", "interval_mismatch"), "22"},
		{"router_transitions_total", "counter", lab("from", "Initialize", "to", "Backup", "reason", "startup"), "23"},
		{"router_transitions_total", "counter", lab("from", "Master", "to", "Backup", "reason", "higher-priority-advert"), "24"},
		{"track_failed", "gauge", lab("kind", "interface", "object", "eth1"), "1"},
		{"track_failed", "gauge", lab("kind", "script", "object", "chk"), "0"},
		{"track_weight", "gauge", lab("kind", "interface", "object", "eth1"), "-50"},
		{"track_weight", "gauge", lab("kind", "script", "object", "chk"), "-20"},
	} {
		want += "# TYPE govrrp_" + s.name + " " + s.typ + "\ngovrrp_" + s.name + s.series + " " + s.v + "\n"
	}
	if err := compareValues(reg, want); err != nil {
		t.Fatal(err)
	}
}

// Each key of the API's counters has its one series, so a key the
// collector spells differently from the daemon cannot export 0 unnoticed:
// both use the api constants, and this checks none is left out or read
// twice.
func TestCounterTables(t *testing.T) {
	var got []string
	for _, rc := range routerCounters {
		got = append(got, rc.key)
		if rc.v2Compat != slices.Contains(api.V2CompatCounters, rc.key) {
			t.Errorf("%s: v2Compat %v", rc.key, rc.v2Compat)
		}
		if rc.bfdMaster != slices.Contains(api.BFDMasterCounters, rc.key) {
			t.Errorf("%s: bfdMaster %v", rc.key, rc.bfdMaster)
		}
	}
	if want := append(append(slices.Clone(api.RouterCounters), api.V2CompatCounters...), api.BFDMasterCounters...); !sameSet(got, want) {
		t.Errorf("router counters read %v, the API has %v", got, want)
	}
	got = got[:0]
	for _, ic := range ifCounters {
		got = append(got, ic.key)
	}
	if !sameSet(got, api.InterfaceCounters) {
		t.Errorf("interface counters read %v, the API has %v", got, api.InterfaceCounters)
	}
	got = got[:0]
	for _, bc := range bfdCounters {
		got = append(got, bc.key)
	}
	if !sameSet(got, api.BFDCounters) {
		t.Errorf("BFD counters read %v, the API has %v", got, api.BFDCounters)
	}
	if c := everyBFDValue().Sessions[0].Counters; len(c) != len(api.BFDCounters) {
		t.Errorf("everyBFDValue sets %d counters, want %d", len(c), len(api.BFDCounters))
	}
	// The fixture of TestCollectorEveryValue sets every key, each once.
	if c := everyValue().Counters; len(c) != len(api.RouterCounters)+len(api.V2CompatCounters)+len(api.BFDMasterCounters)+1 {
		t.Errorf("everyValue sets %d counters, want every one of the API's and a warning", len(c))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b) && len(slices.Compact(a)) == len(b)
}

// The master's address is labelled on one series per router, ours when
// Master [RFC 6527 vrrpv3OperationsMasterIpAddr]; a router in Initialize or
// Fault follows no Master and has none, and a router in Fault says why.
func TestCollectorMasterAndFault(t *testing.T) {
	routers := []api.RouterDetail{
		{RouterStatus: api.RouterStatus{Name: "b", Interface: "eth0", VRID: 1, Family: "ipv4", State: "Backup", Master: "10.77.0.2"}},
		{RouterStatus: api.RouterStatus{Name: "m", Interface: "eth0", VRID: 2, Family: "ipv4", State: "Master", Master: "10.77.0.1"}},
		{RouterStatus: api.RouterStatus{Name: "i", Interface: "eth0", VRID: 3, Family: "ipv4", State: "Initialize", Master: "10.77.0.9"}},
		{RouterStatus: api.RouterStatus{Name: "f", Interface: "eth0", VRID: 4, Family: "ipv4", State: "Fault", FaultReason: "link-down"}},
		{RouterStatus: api.RouterStatus{Name: "w", Interface: "eth9", VRID: 5, Family: "ipv4", State: "Fault"}},
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(New(func() []api.RouterDetail { return routers }))
	want := `
# HELP govrrp_router_master_info 1, labelled with the address of the current Master (ours when Master); absent in Initialize and Fault.
# TYPE govrrp_router_master_info gauge
govrrp_router_master_info{family="ipv4",interface="eth0",master="10.77.0.1",router="m",vrid="2"} 1
govrrp_router_master_info{family="ipv4",interface="eth0",master="10.77.0.2",router="b",vrid="1"} 1
# HELP govrrp_router_fault_info 1 while the router is in Fault, labelled with why (interface-missing, advert-exceeds-mtu, source-missing, link-down, track-fault, ...).
# TYPE govrrp_router_fault_info gauge
govrrp_router_fault_info{family="ipv4",interface="eth0",reason="link-down",router="f",vrid="4"} 1
govrrp_router_fault_info{family="ipv4",interface="eth9",reason="unknown",router="w",vrid="5"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "govrrp_router_master_info", "govrrp_router_fault_info"); err != nil {
		t.Fatal(err)
	}
}

// govrrp_build_info is 1 with the version and the Go version.
func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewBuildInfo())
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "govrrp_build_info" || len(mfs[0].Metric) != 1 {
		t.Fatalf("%v %v", mfs, err)
	}
	m := mfs[0].Metric[0]
	got := map[string]string{}
	for _, l := range m.Label {
		got[l.GetName()] = l.GetValue()
	}
	if m.GetGauge().GetValue() != 1 || got["version"] != version.Version || got["goversion"] != runtime.Version() || got["revision"] == "" || len(got) != 3 {
		t.Fatalf("build info %v = %v", got, m.GetGauge().GetValue())
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
