package fsm

import (
	"net/netip"
	"time"

	"govrrp/vrrp"
)

// Counters are the per-virtual-router statistics of RFC 6527 that the state
// machine sees (the receive-check error counters live with vrrp.Validate),
// plus a few of our own.
type Counters struct {
	MasterTransitions  uint32          // vrrpv3StatisticsMasterTransitions
	NewMasterReason    NewMasterReason // vrrpv3StatisticsNewMasterReason
	RcvdAdvertisements uint64          // vrrpv3StatisticsRcvdAdvertisements
	RcvdPriZeroPackets uint64          // vrrpv3StatisticsRcvdPriZeroPackets
	SentPriZeroPackets uint64          // vrrpv3StatisticsSentPriZeroPackets

	SentAdvertisements uint64 // ours: every SendAdvert action
	OwnAdvertsIgnored  uint64 // ours: equal priority and address [IMPL-6]
	StaleTimerFirings  uint64 // ours: Expired with an outdated token
	RepliesSuppressed  uint64 // ours: answers to received adverts over the rate limit

	// The interoperation mode (compat.go).
	SentV2Advertisements uint64 // VRRPv2 copies sent [5798-8.4.2-c] (also in SentAdvertisements)
	RcvdV2Advertisements uint64 // VRRPv2 adverts received
	V2Ignored            uint64 // VRRPv2 adverts of a Master also sending VRRPv3, ignored [5798-8.4.2-d]
	V3WithoutV2          uint64 // VRRPv3 adverts from a router that sent no VRRPv2 since its last one
}

// Status is a snapshot of a Router.
type Status struct {
	State              State
	Priority           uint8 // effective (tracked) priority
	ConfiguredPriority uint8
	Owner              bool
	Primary            netip.Addr
	// MasterAddr is the current Master's primary address: ours in Master,
	// the source of the last accepted advert in Backup, invalid when unknown.
	MasterAddr netip.Addr
	// MasterAdverInterval is the interval learnt from the Master (v3); v2
	// reports its own.
	MasterAdverInterval time.Duration
	SkewTime            time.Duration
	MasterDownInterval  time.Duration
	// Accept is the effective Accept_Mode: the owner always accepts packets
	// for the virtual addresses, a non-owner when Accept is configured
	// (VRRPv2 too, a deliberate extension) [5798-6.1-g] [5798-6.4.3-f]
	// [3768-6.4.3-b]. The daemon enforces it with nftables.
	Accept      bool
	PreemptHold bool // preempt delay still running
	LinkDown    bool
	TrackFault  bool
	Counters    Counters
}

// Status returns a snapshot.
func (r *Router) Status() Status {
	iv := r.masterAdverInterval
	if r.cfg.Version == 2 {
		iv = r.cfg.AdvertInterval
	}
	return Status{
		State:               r.state,
		Priority:            r.prio,
		ConfiguredPriority:  r.cfg.Priority,
		Owner:               r.cfg.Owner(),
		Primary:             r.cfg.Primary,
		MasterAddr:          r.masterAddr,
		MasterAdverInterval: iv,
		SkewTime:            r.skew,
		MasterDownInterval:  r.masterDown,
		Accept:              r.cfg.Priority == vrrp.PriorityOwner || r.cfg.Accept,
		PreemptHold:         r.preemptHold,
		LinkDown:            r.linkDown,
		TrackFault:          r.trackFault,
		Counters:            r.counters,
	}
}
