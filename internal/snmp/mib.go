// Package snmp maps the daemon's API snapshots onto VRRPv3-MIB (RFC 6527)
// and VRRP-MIB (RFC 2787), read-only, and serves them to an SNMP master
// agent (net-snmp's snmpd) as an AgentX subagent (internal/agentx). The
// mapping (this file) is pure: snapshots in, sorted objects out.
package snmp

import (
	"net/netip"
	"time"

	"govrrp/internal/agentx"
	"govrrp/internal/api"
	"govrrp/vrrp"
)

// Roots of the two MIBs, registered with the master.
var (
	VRRPMIB   = agentx.OID{1, 3, 6, 1, 2, 1, 68}  // VRRP-MIB, mib-2 68
	VRRPv3MIB = agentx.OID{1, 3, 6, 1, 2, 1, 207} // VRRPv3-MIB, mib-2 207
)

func sub(root agentx.OID, s ...uint32) agentx.OID {
	return append(append(agentx.OID{}, root...), s...)
}

// VRRP-MIB objects.
var (
	v2NodeVersion      = sub(VRRPMIB, 1, 1)
	v2NotificationCntl = sub(VRRPMIB, 1, 2)
	v2OperEntry        = sub(VRRPMIB, 1, 3, 1)
	v2AssoEntry        = sub(VRRPMIB, 1, 4, 1)
	v2TrapPacketSrc    = sub(VRRPMIB, 1, 5)
	v2TrapAuthErrType  = sub(VRRPMIB, 1, 6)
	v2ChecksumErrors   = sub(VRRPMIB, 2, 1)
	v2VersionErrors    = sub(VRRPMIB, 2, 2)
	v2VrIDErrors       = sub(VRRPMIB, 2, 3)
	v2StatsEntry       = sub(VRRPMIB, 2, 4, 1)
	v2TrapNewMaster    = sub(VRRPMIB, 0, 1)
	v2TrapAuthFailure  = sub(VRRPMIB, 0, 2)
)

// VRRPv3-MIB objects.
var (
	v3OperEntry       = sub(VRRPv3MIB, 1, 1, 1, 1)
	v3AssocEntry      = sub(VRRPv3MIB, 1, 1, 2, 1)
	v3ChecksumErrors  = sub(VRRPv3MIB, 1, 2, 1)
	v3VersionErrors   = sub(VRRPv3MIB, 1, 2, 2)
	v3VrIDErrors      = sub(VRRPv3MIB, 1, 2, 3)
	v3GlobalDiscTime  = sub(VRRPv3MIB, 1, 2, 4)
	v3StatsEntry      = sub(VRRPv3MIB, 1, 2, 5, 1)
	v3TrapNewMaster   = sub(VRRPv3MIB, 0, 1)
	v3TrapProtoError  = sub(VRRPv3MIB, 0, 2)
	v3MasterIPColumn  = 3 // vrrpv3OperationsMasterIpAddr
	v3NewMasterColumn = 2 // vrrpv3StatisticsNewMasterReason
	v3ProtoErrColumn  = 6 // vrrpv3StatisticsProtoErrReason
)

// Columns served of each table (the not-accessible index columns are not).
var (
	v2OperColumns  = []uint32{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	v2StatsColumns = []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	v3OperColumns  = []uint32{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	v3StatsColumns = []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
)

// Objects lists every scalar and column served, for noSuchInstance.
func Objects() []agentx.OID {
	out := []agentx.OID{v2NodeVersion, v2NotificationCntl, v2ChecksumErrors, v2VersionErrors, v2VrIDErrors,
		v3ChecksumErrors, v3VersionErrors, v3VrIDErrors, v3GlobalDiscTime, sub(v2AssoEntry, 2), sub(v3AssocEntry, 2)}
	for _, c := range v2OperColumns {
		out = append(out, sub(v2OperEntry, c))
	}
	for _, c := range v2StatsColumns {
		out = append(out, sub(v2StatsEntry, c))
	}
	for _, c := range v3OperColumns {
		out = append(out, sub(v3OperEntry, c))
	}
	for _, c := range v3StatsColumns {
		out = append(out, sub(v3StatsEntry, c))
	}
	return out
}

// Input is what one view is built from.
type Input struct {
	Routers    []api.RouterDetail
	Interfaces []api.InterfaceStatus
	// IfIndex resolves an interface name; a router on an interface it
	// cannot resolve (one that does not exist yet) has no row.
	IfIndex func(name string) (uint32, bool)
	// Ticks converts a time to sysUpTime hundredths of a second.
	Ticks func(time.Time) uint32
	Now   time.Time
	// ProtoErr is vrrpv3StatisticsProtoErrReason by router name, from
	// the event stream (absent: noError).
	ProtoErr map[string]uint32
	// RefreshMS is vrrpv3StatisticsRefreshRate: how often the view is
	// rebuilt.
	RefreshMS uint32
}

// Row is what identifies a router in the MIBs.
type Row struct {
	IfIndex uint32
	VRID    uint8
	IPv6    bool
	// InV2: the router has a row in VRRP-MIB too: IPv4 with a whole
	// number of seconds 1..255 as its advert interval.
	InV2 bool
}

// RowOf says where r is served; ok false: nowhere (its interface is
// missing).
func RowOf(r *api.RouterDetail, ifIndex func(string) (uint32, bool)) (Row, bool) {
	idx, ok := ifIndex(r.Interface)
	if !ok || idx == 0 {
		return Row{}, false
	}
	ms := int(r.ConfiguredInterval)
	return Row{IfIndex: idx, VRID: r.VRID, IPv6: r.Family == "ipv6",
		InV2: r.Family == "ipv4" && ms%1000 == 0 && ms >= 1000 && ms <= 255000}, true
}

func (w Row) v2Index() []uint32 { return []uint32{w.IfIndex, uint32(w.VRID)} }

func (w Row) addrType() uint32 {
	if w.IPv6 {
		return 2 // InetAddressType ipv6
	}
	return 1 // ipv4
}

func (w Row) v3Index() []uint32 { return []uint32{w.IfIndex, uint32(w.VRID), w.addrType()} }

func cell(entry agentx.OID, col uint32, index []uint32) agentx.OID {
	return append(sub(entry, col), index...)
}

// addrBytes is an address's octets for InetAddress/IpAddress: a missing or
// unparsable one is the family's zero address.
func addrBytes(s string, v6 bool) []byte {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if p, perr := netip.ParsePrefix(s); perr == nil {
			a, err = p.Addr(), nil
		}
	}
	switch {
	case err == nil && v6 && a.Is6():
		b := a.As16()
		return b[:]
	case err == nil && !v6 && a.Is4():
		b := a.As4()
		return b[:]
	case v6:
		return make([]byte, 16)
	}
	return make([]byte, 4)
}

// state is vrrpOperState / vrrpv3OperationsStatus: the MIBs know no Fault,
// so a router in Fault, which does not take part, is initialize.
func state(s string) uint64 {
	switch s {
	case "Backup":
		return 2
	case "Master":
		return 3
	}
	return 1
}

func truth(b bool) uint64 {
	if b {
		return 1
	}
	return 2
}

// NewMasterReason maps the API's reason onto vrrpv3StatisticsNewMasterReason.
func NewMasterReason(s string) uint64 {
	switch s {
	case "priority":
		return 1
	case "preempted":
		return 2
	case "masterNoResponse":
		return 3
	}
	return 0 // notMaster
}

// ProtoErrReason maps a receive check onto vrrpv3StatisticsProtoErrReason;
// false for checks the MIB has no reason for.
func ProtoErrReason(check string) (uint32, bool) {
	switch check {
	case vrrp.CheckTTL.String():
		return 1, true
	case vrrp.CheckVersion.String():
		return 2, true
	case vrrp.CheckChecksum.String():
		return 3, true
	case vrrp.CheckVRID.String():
		return 4, true
	}
	return 0, false
}

// AuthErrorType maps a receive check onto vrrpTrapAuthErrorType.
func AuthErrorType(check string) (uint32, bool) {
	switch check {
	case vrrp.CheckAuthTypeInvalid.String():
		return 1, true
	case vrrp.CheckAuthTypeMismatch.String():
		return 2, true
	case vrrp.CheckAuthFailure.String():
		return 3, true
	}
	return 0, false
}

// leftInit is when the router last left Initialize: the newest transition
// out of it, else (history trimmed) when it entered its current state;
// zero while it is in Initialize or Fault.
func leftInit(r *api.RouterDetail) time.Time {
	if state(r.State) == 1 {
		return time.Time{}
	}
	for i := len(r.Transitions) - 1; i >= 0; i-- {
		if r.Transitions[i].From == "Initialize" {
			return r.Transitions[i].Time
		}
	}
	return r.Since
}

// Build returns every object the two MIBs serve for in.
func Build(in Input) []agentx.VarBind {
	var vbs []agentx.VarBind
	i32 := func(name agentx.OID, v uint64) {
		vbs = append(vbs, agentx.VarBind{Type: agentx.Integer, Name: name, Int: v})
	}
	typed := func(t agentx.Type, name agentx.OID, v uint64) {
		vbs = append(vbs, agentx.VarBind{Type: t, Name: name, Int: v})
	}
	octets := func(t agentx.Type, name agentx.OID, b []byte) {
		vbs = append(vbs, agentx.VarBind{Type: t, Name: name, Bytes: b})
	}
	c32 := func(name agentx.OID, v uint64) { typed(agentx.Counter32, name, uint64(uint32(v))) }
	c64 := func(name agentx.OID, v uint64) { typed(agentx.Counter64, name, v) }

	// The router-wide error counters: what the interfaces' loops could
	// charge to no router, plus what each router dropped.
	var chk, ver, vrid uint64
	add := func(d map[string]uint64) {
		chk += d[vrrp.CheckChecksum.String()]
		ver += d[vrrp.CheckVersion.String()]
		vrid += d[vrrp.CheckVRID.String()]
	}
	for _, s := range in.Interfaces {
		add(s.Discards)
	}
	for i := range in.Routers {
		add(in.Routers[i].Discards)
	}
	i32(sub(v2NodeVersion, 0), 2)
	i32(sub(v2NotificationCntl, 0), 1) // enabled: notifications are always sent
	c32(sub(v2ChecksumErrors, 0), chk)
	c32(sub(v2VersionErrors, 0), ver)
	c32(sub(v2VrIDErrors, 0), vrid)
	c64(sub(v3ChecksumErrors, 0), chk)
	c64(sub(v3VersionErrors, 0), ver)
	c64(sub(v3VrIDErrors, 0), vrid)
	typed(agentx.TimeTicks, sub(v3GlobalDiscTime, 0), 0)

	for i := range in.Routers {
		r := &in.Routers[i]
		w, ok := RowOf(r, in.IfIndex)
		if !ok {
			continue
		}
		up := leftInit(r)
		disc := func(c vrrp.Check) uint64 { return r.Discards[c.String()] }
		cnt := func(k string) uint64 { return r.Counters[k] }
		master := r.Master
		if state(r.State) == 1 {
			master = "" // no master known outside Backup and Master
		}
		if w.InV2 {
			x := w.v2Index()
			mac := []byte{0, 0, 0x5e, 0, 1, r.VRID}
			o := func(col uint32) agentx.OID { return cell(v2OperEntry, col, x) }
			octets(agentx.OctetString, o(2), mac)
			i32(o(3), state(r.State))
			admin := uint64(1) // up
			if r.Disabled {
				admin = 2 // down: govrrp disable
			}
			i32(o(4), admin)
			i32(o(5), uint64(r.Priority))
			i32(o(6), uint64(len(r.Addresses)))
			octets(agentx.IPAddress, o(7), addrBytes(master, false))
			octets(agentx.IPAddress, o(8), addrBytes(r.Primary, false))
			auth := uint64(1) // noAuthentication
			if r.Auth == "pass" {
				auth = 2 // simpleTextPassword
			}
			i32(o(9), auth)
			octets(agentx.OctetString, o(10), nil) // the key reads as empty (RFC 2787)
			i32(o(11), uint64(r.ConfiguredInterval/1000))
			i32(o(12), truth(r.Preempt))
			var upTicks uint64
			if !up.IsZero() {
				upTicks = uint64(in.Ticks(up))
			}
			typed(agentx.TimeTicks, o(13), upTicks) // a TimeStamp
			i32(o(14), 1)                           // ip
			i32(o(15), 1)                           // rowStatus active
			for _, a := range r.Addresses {
				ab := addrBytes(a, false)
				idx := append(append([]uint32{}, x...), uint32(ab[0]), uint32(ab[1]), uint32(ab[2]), uint32(ab[3]))
				i32(cell(v2AssoEntry, 2, idx), 1)
			}
			s := func(col uint32) agentx.OID { return cell(v2StatsEntry, col, x) }
			c32(s(1), cnt(api.CounterMasterTransitions))
			c32(s(2), cnt(api.CounterAdvertsReceived))
			c32(s(3), disc(vrrp.CheckIntervalMismatch))
			c32(s(4), disc(vrrp.CheckAuthFailure))
			c32(s(5), disc(vrrp.CheckTTL))
			c32(s(6), cnt(api.CounterPriorityZeroReceived))
			c32(s(7), cnt(api.CounterPriorityZeroSent))
			c32(s(8), disc(vrrp.CheckType))
			c32(s(9), disc(vrrp.CheckAddressList))
			c32(s(10), disc(vrrp.CheckAuthTypeInvalid))
			c32(s(11), disc(vrrp.CheckAuthTypeMismatch))
			c32(s(12), disc(vrrp.CheckTruncated))
		}

		x := w.v3Index()
		o := func(col uint32) agentx.OID { return cell(v3OperEntry, col, x) }
		mac := []byte{0, 0, 0x5e, 0, 1, r.VRID}
		if w.IPv6 {
			mac[4] = 2
		}
		octets(agentx.OctetString, o(3), addrBytes(master, w.IPv6))
		octets(agentx.OctetString, o(4), addrBytes(r.Primary, w.IPv6))
		octets(agentx.OctetString, o(5), mac)
		i32(o(6), state(r.State))
		typed(agentx.Gauge32, o(7), uint64(r.Priority))
		i32(o(8), uint64(len(r.Addresses)))
		i32(o(9), uint64(r.ConfiguredInterval/10)) // centiseconds
		i32(o(10), truth(r.Preempt))
		i32(o(11), truth(r.Accept))
		var upFor uint64
		if !up.IsZero() && in.Now.After(up) {
			upFor = uint64(uint32(in.Now.Sub(up) / (10 * time.Millisecond)))
		}
		typed(agentx.TimeTicks, o(12), upFor) // TimeTicks since it left initialize
		i32(o(13), 1)                         // rowStatus active
		for _, a := range r.Addresses {
			ab := addrBytes(a, w.IPv6)
			idx := append(append([]uint32{}, x...), uint32(len(ab)))
			for _, b := range ab {
				idx = append(idx, uint32(b))
			}
			i32(cell(v3AssocEntry, 2, idx), 1)
		}
		s := func(col uint32) agentx.OID { return cell(v3StatsEntry, col, x) }
		c32(s(1), cnt(api.CounterMasterTransitions))
		i32(s(2), NewMasterReason(r.NewMasterReason))
		c64(s(3), cnt(api.CounterAdvertsReceived))
		c64(s(4), disc(vrrp.CheckIntervalMismatch))
		c64(s(5), disc(vrrp.CheckTTL))
		i32(s(6), uint64(in.ProtoErr[r.Name]))
		c64(s(7), cnt(api.CounterPriorityZeroReceived))
		c64(s(8), cnt(api.CounterPriorityZeroSent))
		c64(s(9), disc(vrrp.CheckType))
		c64(s(10), disc(vrrp.CheckAddressList))
		c64(s(11), disc(vrrp.CheckTruncated))
		typed(agentx.TimeTicks, s(12), 0) // no discontinuity known to the subagent
		typed(agentx.Gauge32, s(13), uint64(in.RefreshMS))
	}
	return vbs
}

// NewMasterV3 is the vrrpv3NewMaster notification for r.
func NewMasterV3(r *api.RouterDetail, w Row) (agentx.OID, []agentx.VarBind) {
	x := w.v3Index()
	return v3TrapNewMaster, []agentx.VarBind{
		{Type: agentx.OctetString, Name: cell(v3OperEntry, uint32(v3MasterIPColumn), x), Bytes: addrBytes(r.Master, w.IPv6)},
		{Type: agentx.Integer, Name: cell(v3StatsEntry, uint32(v3NewMasterColumn), x), Int: NewMasterReason(r.NewMasterReason)},
	}
}

// NewMasterV2 is the vrrpTrapNewMaster notification for r.
func NewMasterV2(r *api.RouterDetail, w Row) (agentx.OID, []agentx.VarBind) {
	return v2TrapNewMaster, []agentx.VarBind{
		{Type: agentx.IPAddress, Name: cell(v2OperEntry, 7, w.v2Index()), Bytes: addrBytes(r.Master, false)},
	}
}

// ProtoErrorV3 is the vrrpv3ProtoError notification.
func ProtoErrorV3(w Row, reason uint32) (agentx.OID, []agentx.VarBind) {
	return v3TrapProtoError, []agentx.VarBind{
		{Type: agentx.Integer, Name: cell(v3StatsEntry, uint32(v3ProtoErrColumn), w.v3Index()), Int: uint64(reason)},
	}
}

// AuthFailureV2 is the vrrpTrapAuthFailure notification. The objects are
// instanced by the router's index, as keepalived does; vrrpTrapPacketSrc
// is src, the sender of the last advert the discards event counted
// (0.0.0.0 when it is not an IPv4 address).
func AuthFailureV2(w Row, errType uint32, src string) (agentx.OID, []agentx.VarBind) {
	x := w.v2Index()
	a4 := make([]byte, 4)
	if a, err := netip.ParseAddr(src); err == nil && a.Is4() {
		b := a.As4()
		a4 = b[:]
	}
	return v2TrapAuthFailure, []agentx.VarBind{
		{Type: agentx.IPAddress, Name: append(sub(v2TrapPacketSrc), x...), Bytes: a4},
		{Type: agentx.Integer, Name: append(sub(v2TrapAuthErrType), x...), Int: uint64(errType)},
	}
}
