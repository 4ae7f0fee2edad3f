package snmp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"govrrp/internal/agentx"
	"govrrp/internal/api"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeRouters is a snapshot as the daemon gives it: a VRRPv2 IPv4 master
// with a password on eth0 (ifIndex 4), a VRRPv3 IPv6 backup on eth1
// (ifIndex 7) with a sub-second interval, and a router on a missing
// interface.
func fakeRouters() []api.RouterDetail {
	return []api.RouterDetail{
		{
			RouterStatus: api.RouterStatus{Name: "v2", Interface: "eth0", VRID: 10, Family: "ipv4", Version: 2, State: "Master",
				Priority: 150, EffectivePriority: 150, Master: "10.77.0.1", Addresses: []string{"10.77.0.100/24", "10.77.0.101"},
				Since: t0.Add(3 * time.Second)},
			Preempt: true, ConfiguredInterval: 1000, Primary: "10.77.0.1", Auth: "pass",
			Counters: map[string]uint64{"master_transitions": 2, "adverts_received": 5, "priority_zero_received": 1, "priority_zero_sent": 3},
			Discards: map[string]uint64{"interval_mismatch": 6, "auth_failure": 7, "ttl": 8, "type": 9, "address_list": 10,
				"auth_type_invalid": 11, "auth_type_mismatch": 12, "truncated": 13, "checksum": 1},
			Transitions: []api.Event{
				{Time: t0.Add(time.Second), From: "Initialize", To: "Backup"},
				{Time: t0.Add(3 * time.Second), From: "Backup", To: "Master"}},
			NewMasterReason: "masterNoResponse",
		},
		{
			RouterStatus: api.RouterStatus{Name: "v3", Interface: "eth1", VRID: 20, Family: "ipv6", Version: 3, State: "Backup",
				Priority: 100, EffectivePriority: 90, Master: "fe80::2", Addresses: []string{"fe80::100", "fd77::100"},
				Accept: true, Since: t0.Add(2 * time.Second)},
			Preempt: false, ConfiguredInterval: 100, Primary: "fe80::1",
			Counters: map[string]uint64{"adverts_received": 1 << 40},
			Discards: map[string]uint64{"version": 2},
			Transitions: []api.Event{
				{Time: t0.Add(2 * time.Second), From: "Initialize", To: "Backup"}},
		},
		{RouterStatus: api.RouterStatus{Name: "off", Interface: "eth0", VRID: 11, Family: "ipv4", Version: 2, State: "Initialize", Disabled: true},
			ConfiguredInterval: 1000, Counters: map[string]uint64{}, Discards: map[string]uint64{}},
		{RouterStatus: api.RouterStatus{Name: "gone", Interface: "nope", VRID: 30, Family: "ipv4", Version: 3, State: "Fault"},
			ConfiguredInterval: 1000},
	}
}

func fakeInput() Input {
	return Input{
		Routers:    fakeRouters(),
		Interfaces: []api.InterfaceStatus{{Interface: "eth0", Discards: map[string]uint64{"vrid": 4, "checksum": 2}}},
		IfIndex: func(n string) (uint32, bool) {
			i, ok := map[string]uint32{"eth0": 4, "eth1": 7}[n]
			return i, ok
		},
		Ticks:     func(t time.Time) uint32 { return uint32(t.Sub(t0) / (10 * time.Millisecond)) },
		Now:       t0.Add(10 * time.Second),
		ProtoErr:  map[string]uint32{"v3": 2},
		RefreshMS: 1000,
	}
}

func render(vb agentx.VarBind) string {
	switch vb.Type {
	case agentx.OctetString, agentx.IPAddress:
		return fmt.Sprintf("%d:%x", vb.Type, vb.Bytes)
	}
	return fmt.Sprintf("%d:%d", vb.Type, vb.Int)
}

// Each object the two MIBs define, for both routers, against the snapshot.
func TestBuild(t *testing.T) {
	v := agentx.NewView(Build(fakeInput()), Objects())
	const (
		i   = agentx.Integer
		c32 = agentx.Counter32
		c64 = agentx.Counter64
		g   = agentx.Gauge32
		tt  = agentx.TimeTicks
		s   = agentx.OctetString
		ip  = agentx.IPAddress
	)
	num := func(t agentx.Type, n uint64) string { return fmt.Sprintf("%d:%d", t, n) }
	oct := func(t agentx.Type, hex string) string { return fmt.Sprintf("%d:%s", t, hex) }
	v2 := ".4.10"
	v3 := ".7.20.2"
	cases := []struct{ name, oid, want string }{
		// VRRP-MIB (RFC 2787) scalars.
		{"vrrpNodeVersion", "68.1.1.0", num(i, 2)},
		{"vrrpNotificationCntl", "68.1.2.0", num(i, 1)},
		{"vrrpRouterChecksumErrors: interfaces and routers", "68.2.1.0", num(c32, 3)},
		{"vrrpRouterVersionErrors", "68.2.2.0", num(c32, 2)},
		{"vrrpRouterVrIdErrors", "68.2.3.0", num(c32, 4)},
		// vrrpOperTable, the VRRPv2 router only.
		{"vrrpOperVirtualMacAddr", "68.1.3.1.2" + v2, oct(s, "00005e00010a")},
		{"vrrpOperState master", "68.1.3.1.3" + v2, num(i, 3)},
		{"vrrpOperAdminState up", "68.1.3.1.4" + v2, num(i, 1)},
		{"vrrpOperAdminState down: govrrp disable", "68.1.3.1.4.4.11", num(i, 2)},
		{"vrrpOperState of a disabled router", "68.1.3.1.3.4.11", num(i, 1)},
		{"vrrpOperMasterIpAddr of a disabled router", "68.1.3.1.7.4.11", oct(ip, "00000000")},
		{"vrrpOperPriority configured", "68.1.3.1.5" + v2, num(i, 150)},
		{"vrrpOperIpAddrCount", "68.1.3.1.6" + v2, num(i, 2)},
		{"vrrpOperMasterIpAddr", "68.1.3.1.7" + v2, oct(ip, "0a4d0001")},
		{"vrrpOperPrimaryIpAddr", "68.1.3.1.8" + v2, oct(ip, "0a4d0001")},
		{"vrrpOperAuthType simpleTextPassword", "68.1.3.1.9" + v2, num(i, 2)},
		{"vrrpOperAuthKey reads empty", "68.1.3.1.10" + v2, oct(s, "")},
		{"vrrpOperAdvertisementInterval seconds", "68.1.3.1.11" + v2, num(i, 1)},
		{"vrrpOperPreemptMode true", "68.1.3.1.12" + v2, num(i, 1)},
		{"vrrpOperVirtualRouterUpTime: sysUpTime when it left initialize", "68.1.3.1.13" + v2, num(tt, 100)},
		{"vrrpOperProtocol ip", "68.1.3.1.14" + v2, num(i, 1)},
		{"vrrpOperRowStatus active", "68.1.3.1.15" + v2, num(i, 1)},
		{"vrrpAssoIpAddrRowStatus, prefix dropped", "68.1.4.1.2" + v2 + ".10.77.0.100", num(i, 1)},
		{"vrrpAssoIpAddrRowStatus", "68.1.4.1.2" + v2 + ".10.77.0.101", num(i, 1)},
		{"vrrpStatsBecomeMaster", "68.2.4.1.1" + v2, num(c32, 2)},
		{"vrrpStatsAdvertiseRcvd", "68.2.4.1.2" + v2, num(c32, 5)},
		{"vrrpStatsAdvertiseIntervalErrors", "68.2.4.1.3" + v2, num(c32, 6)},
		{"vrrpStatsAuthFailures", "68.2.4.1.4" + v2, num(c32, 7)},
		{"vrrpStatsIpTtlErrors", "68.2.4.1.5" + v2, num(c32, 8)},
		{"vrrpStatsPriorityZeroPktsRcvd", "68.2.4.1.6" + v2, num(c32, 1)},
		{"vrrpStatsPriorityZeroPktsSent", "68.2.4.1.7" + v2, num(c32, 3)},
		{"vrrpStatsInvalidTypePktsRcvd", "68.2.4.1.8" + v2, num(c32, 9)},
		{"vrrpStatsAddressListErrors", "68.2.4.1.9" + v2, num(c32, 10)},
		{"vrrpStatsInvalidAuthType", "68.2.4.1.10" + v2, num(c32, 11)},
		{"vrrpStatsAuthTypeMismatch", "68.2.4.1.11" + v2, num(c32, 12)},
		{"vrrpStatsPacketLengthErrors", "68.2.4.1.12" + v2, num(c32, 13)},
		// VRRPv3-MIB (RFC 6527).
		{"vrrpv3RouterChecksumErrors", "207.1.2.1.0", num(c64, 3)},
		{"vrrpv3RouterVersionErrors", "207.1.2.2.0", num(c64, 2)},
		{"vrrpv3RouterVrIdErrors", "207.1.2.3.0", num(c64, 4)},
		{"vrrpv3GlobalStatisticsDiscontinuityTime", "207.1.2.4.0", num(tt, 0)},
		{"vrrpv3OperationsMasterIpAddr v6", "207.1.1.1.1.3" + v3, oct(s, "fe800000000000000000000000000002")},
		{"vrrpv3OperationsPrimaryIpAddr", "207.1.1.1.1.4" + v3, oct(s, "fe800000000000000000000000000001")},
		{"vrrpv3OperationsVirtualMacAddr IPv6", "207.1.1.1.1.5" + v3, oct(s, "00005e000214")},
		{"vrrpv3OperationsStatus backup", "207.1.1.1.1.6" + v3, num(i, 2)},
		{"vrrpv3OperationsPriority configured", "207.1.1.1.1.7" + v3, num(g, 100)},
		{"vrrpv3OperationsAddrCount", "207.1.1.1.1.8" + v3, num(i, 2)},
		{"vrrpv3OperationsAdvInterval centiseconds", "207.1.1.1.1.9" + v3, num(i, 10)},
		{"vrrpv3OperationsPreemptMode false", "207.1.1.1.1.10" + v3, num(i, 2)},
		{"vrrpv3OperationsAcceptMode true", "207.1.1.1.1.11" + v3, num(i, 1)},
		{"vrrpv3OperationsUpTime: ticks since it left initialize", "207.1.1.1.1.12" + v3, num(tt, 800)},
		{"vrrpv3OperationsRowStatus", "207.1.1.1.1.13" + v3, num(i, 1)},
		{"vrrpv3AssociatedIpAddrRowStatus, length-prefixed address", "207.1.1.2.1.2" + v3 + ".16.253.119.0.0.0.0.0.0.0.0.0.0.0.0.1.0", num(i, 1)},
		{"vrrpv3StatisticsMasterTransitions", "207.1.2.5.1.1" + v3, num(c32, 0)},
		{"vrrpv3StatisticsNewMasterReason notMaster", "207.1.2.5.1.2" + v3, num(i, 0)},
		{"vrrpv3StatisticsRcvdAdvertisements 64 bits", "207.1.2.5.1.3" + v3, num(c64, 1<<40)},
		{"vrrpv3StatisticsProtoErrReason from the event stream", "207.1.2.5.1.6" + v3, num(i, 2)},
		{"vrrpv3StatisticsRowDiscontinuityTime", "207.1.2.5.1.12" + v3, num(tt, 0)},
		{"vrrpv3StatisticsRefreshRate", "207.1.2.5.1.13" + v3, num(g, 1000)},
		// The VRRPv2 router is in VRRPv3-MIB too.
		{"vrrpv3OperationsStatus of the v2 router", "207.1.1.1.1.6.4.10.1", num(i, 3)},
		{"vrrpv3StatisticsNewMasterReason masterNoResponse", "207.1.2.5.1.2.4.10.1", num(i, 3)},
		{"vrrpv3StatisticsAdvIntervalErrors", "207.1.2.5.1.4.4.10.1", num(c64, 6)},
		{"vrrpv3StatisticsIpTtlErrors", "207.1.2.5.1.5.4.10.1", num(c64, 8)},
		{"vrrpv3StatisticsProtoErrReason noError", "207.1.2.5.1.6.4.10.1", num(i, 0)},
		{"vrrpv3StatisticsRcvdPriZeroPackets", "207.1.2.5.1.7.4.10.1", num(c64, 1)},
		{"vrrpv3StatisticsSentPriZeroPackets", "207.1.2.5.1.8.4.10.1", num(c64, 3)},
		{"vrrpv3StatisticsRcvdInvalidTypePackets", "207.1.2.5.1.9.4.10.1", num(c64, 9)},
		{"vrrpv3StatisticsAddressListErrors", "207.1.2.5.1.10.4.10.1", num(c64, 10)},
		{"vrrpv3StatisticsPacketLengthErrors", "207.1.2.5.1.11.4.10.1", num(c64, 13)},
		// What is not there.
		{"the IPv6 router has no VRRP-MIB row", "68.1.3.1.3.7.20", "129:0"},
		{"the router on a missing interface has no row", "207.1.1.1.1.6.0.30.1", "129:0"},
		{"not-accessible index column", "68.1.3.1.1" + v2, "128:0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var oid agentx.OID
			for _, p := range strings.Split("1.3.6.1.2.1."+tc.oid, ".") {
				var n uint32
				fmt.Sscan(p, &n)
				oid = append(oid, n)
			}
			if got := render(v.Get(oid)); got != tc.want {
				t.Fatalf("%s: got %s, want %s", oid, got, tc.want)
			}
		})
	}
	// Every served object is in one of the cases above or its twin row.
	if n := v.Len(); n != 2+3+(14+2+12)+(14+12)+4+(11+2+13)*2+(11+13) {
		t.Errorf("%d objects served", n)
	}
}

func TestNotifications(t *testing.T) {
	in := fakeInput()
	r := in.Routers[0]
	w, ok := RowOf(&r, in.IfIndex)
	if !ok || !w.InV2 {
		t.Fatal("v2 router not in VRRP-MIB")
	}
	trap, vbs := NewMasterV2(&r, w)
	if trap.String() != "1.3.6.1.2.1.68.0.1" || vbs[0].Name.String() != "1.3.6.1.2.1.68.1.3.1.7.4.10" || !bytes.Equal(vbs[0].Bytes, []byte{10, 77, 0, 1}) {
		t.Errorf("vrrpTrapNewMaster %s %+v", trap, vbs)
	}
	trap, vbs = NewMasterV3(&r, w)
	if trap.String() != "1.3.6.1.2.1.207.0.1" || len(vbs) != 2 || vbs[1].Name.String() != "1.3.6.1.2.1.207.1.2.5.1.2.4.10.1" || vbs[1].Int != 3 {
		t.Errorf("vrrpv3NewMaster %s %+v", trap, vbs)
	}
	trap, vbs = ProtoErrorV3(w, 3)
	if trap.String() != "1.3.6.1.2.1.207.0.2" || vbs[0].Name.String() != "1.3.6.1.2.1.207.1.2.5.1.6.4.10.1" || vbs[0].Int != 3 {
		t.Errorf("vrrpv3ProtoError %s %+v", trap, vbs)
	}
	trap, vbs = AuthFailureV2(w, 3, "10.77.0.9")
	if trap.String() != "1.3.6.1.2.1.68.0.2" || vbs[0].Name.String() != "1.3.6.1.2.1.68.1.5.4.10" || !bytes.Equal(vbs[0].Bytes, []byte{10, 77, 0, 9}) || vbs[1].Int != 3 {
		t.Errorf("vrrpTrapAuthFailure %s %+v", trap, vbs)
	}
	if _, vbs = AuthFailureV2(w, 3, ""); !bytes.Equal(vbs[0].Bytes, []byte{0, 0, 0, 0}) {
		t.Errorf("vrrpTrapAuthFailure without a known sender: vrrpTrapPacketSrc %v, want 0.0.0.0", vbs[0].Bytes)
	}
}
