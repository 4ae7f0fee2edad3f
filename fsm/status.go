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
	SplitBrains          uint64 // ours: split-brain episodes (another Master heard while Master)
	TwoOwners            uint64 // ours: episodes of two owners heard by a non-owner [9568-8.3.2-a]
	// MasterChanges (ours) counts changes of the Master followed: another
	// router's advert accepted [5798-6.4.2-i][5798-6.4.3-j], or we became
	// Master [5798-6.4.2-g], after following a different one. Hearing the
	// same Master again after a restart or a fault is no change; the first
	// Master ever followed neither.
	MasterChanges uint64
	// BFD Master–Backup detection (timers.go, masterDownDetected):
	// BFDTakeovers counts the times we became Master because the BFD
	// session to the Master failed; BFDFalseDowns those of them where the
	// old Master then proved alive (its advert heard): two Masters for at
	// most about an advert interval, ended by the RFC's rules.
	BFDTakeovers  uint64
	BFDFalseDowns uint64
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
	// Master() is what to report: none in Initialize and Fault.
	MasterAddr netip.Addr
	// MasterPriority is the priority of the Master: ours (effective) in
	// Master; in Backup the latest its adverts carried, also those discarded
	// [5798-6.4.2-j] or resigning (0) [5798-6.4.2-h]; 0 when unknown.
	MasterPriority uint8
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
	Disabled    bool // the operator disabled it (EventDisable)
	Counters    Counters
	// SplitBrain: a split-brain episode is running (another Master heard
	// within the episode's quiet gap, and we are still Master);
	// SplitBrainPeer is the other Master of the latest episode.
	SplitBrain     bool
	SplitBrainPeer netip.Addr
	// TwoOwners: a non-owner hears priority 255 from two addresses now;
	// Owners are the two of the latest episode [9568-8.3.2-a].
	TwoOwners bool
	Owners    [2]netip.Addr
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
		MasterPriority:      r.masterPriority(),
		MasterAdverInterval: iv,
		SkewTime:            r.skew,
		MasterDownInterval:  r.masterDown,
		Accept:              r.cfg.Priority == vrrp.PriorityOwner || r.cfg.Accept,
		PreemptHold:         r.preemptHold,
		LinkDown:            r.linkDown,
		TrackFault:          r.trackFault,
		Disabled:            r.disabled,
		Counters:            r.counters,
		SplitBrain:          r.state == Master && r.splitBrain.on(r.clock.Now()),
		SplitBrainPeer:      r.splitBrain.peer,
		TwoOwners:           r.twoOwners.on(r.clock.Now()),
		Owners:              r.owners,
	}
}

func (r *Router) masterPriority() uint8 {
	switch {
	case r.state == Master:
		return r.prio
	case r.state == Backup && r.masterAddr.IsValid():
		return r.masterPrio
	}
	return 0
}

// Master is the Master the router knows, to report: MasterAddr in Master
// and Backup, none in Initialize and Fault (where MasterAddr may be stale).
func (s *Status) Master() netip.Addr {
	if s.State == Master || s.State == Backup {
		return s.MasterAddr
	}
	return netip.Addr{}
}
