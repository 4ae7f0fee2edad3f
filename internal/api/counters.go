package api

// The keys of RouterDetail.Counters and InterfaceStatus.Counters. They are
// written here once: the daemon fills the maps and every reader (metrics,
// the CLI, tests) looks them up through these names, so a misspelled key is
// a compile error instead of a series stuck at 0. The warning_<check>
// counters are the exception: their keys are WarningPrefix and the check's
// name (vrrp.Check.String).
const (
	CounterMasterTransitions     = "master_transitions"
	CounterAdvertsReceived       = "adverts_received"
	CounterAdvertsSent           = "adverts_sent"
	CounterPriorityZeroReceived  = "priority_zero_received"
	CounterPriorityZeroSent      = "priority_zero_sent"
	CounterMasterChanges         = "master_changes"
	CounterSendErrors            = "send_errors"
	CounterStaleTimerFirings     = "stale_timer_firings"
	CounterRepliesSuppressed     = "replies_suppressed"
	CounterOwnAdvertsIgnored     = "own_adverts_ignored"
	CounterSplitBrainEpisodes    = "split_brain_episodes"
	CounterTwoOwnersEpisodes     = "two_owners_episodes"
	CounterRxChecksumPseudoHdr   = "rx_checksum_pseudo_header"
	CounterRxChecksumPlain       = "rx_checksum_plain"
	CounterVersionMismatch       = "version_mismatch"
	CounterV2AdvertsSent         = "v2_adverts_sent"
	CounterV2AdvertsReceived     = "v2_adverts_received"
	CounterV2IgnoredFromV3Master = "v2_ignored_from_v3_master"
	CounterV3WithoutV2           = "v3_without_v2"
	// Master–Backup BFD (routers[].bfd_master): takeovers because the
	// session to the Master failed, and those after which the old Master
	// proved alive (two Masters until the RFC's rules end it).
	CounterBFDTakeovers  = "bfd_takeovers"
	CounterBFDFalseDowns = "bfd_false_downs"

	// WarningPrefix and a check's name: adverts accepted although that
	// receive check found something to warn about.
	WarningPrefix = "warning_"
)

// RouterCounters are the keys of RouterDetail.Counters of a running router
// (a router waiting for its interface has none), but the warning_ ones.
var RouterCounters = []string{
	CounterMasterTransitions, CounterAdvertsReceived, CounterAdvertsSent, CounterPriorityZeroReceived,
	CounterPriorityZeroSent, CounterMasterChanges, CounterSendErrors, CounterStaleTimerFirings,
	CounterRepliesSuppressed, CounterOwnAdvertsIgnored, CounterSplitBrainEpisodes, CounterTwoOwnersEpisodes,
	CounterRxChecksumPseudoHdr, CounterRxChecksumPlain, CounterVersionMismatch,
}

// BFDMasterCounters are the keys only a router with Master–Backup BFD
// (routers[].bfd_master) has.
var BFDMasterCounters = []string{CounterBFDTakeovers, CounterBFDFalseDowns}

// V2CompatCounters are the keys only a router in the VRRPv2/v3
// interoperation mode (v2_compat) has.
var V2CompatCounters = []string{
	CounterV2AdvertsSent, CounterV2AdvertsReceived, CounterV2IgnoredFromV3Master, CounterV3WithoutV2,
}

// Keys of InterfaceStatus.Counters. The socket's (all but read errors and
// effects dropped) are absent when the socket keeps no statistics.
const (
	IfCounterReadErrors     = "read_errors"
	IfCounterEffectsDropped = "effects_dropped"
	IfCounterReceived       = "received"
	IfCounterRejected       = "rejected"
	IfCounterTruncated      = "truncated"
	IfCounterNotPeer        = "not_peer"
	IfCounterOverflow       = "overflow"
	IfCounterRejectOverflow = "reject_overflow"
)

// InterfaceCounters are the keys of InterfaceStatus.Counters.
var InterfaceCounters = []string{
	IfCounterReadErrors, IfCounterEffectsDropped, IfCounterReceived, IfCounterRejected,
	IfCounterTruncated, IfCounterNotPeer, IfCounterOverflow, IfCounterRejectOverflow,
}

// Keys of BFDSession.Counters.
const (
	BFDCounterSent       = "sent"
	BFDCounterReceived   = "received"
	BFDCounterSendErrors = "send_errors"
	BFDCounterUps        = "ups"
	BFDCounterFailures   = "failures"
	BFDCounterAdminDowns = "admin_downs"
	// BFDCounterHostStalls: times this host did not run govrrpd's BFD
	// loop for at least the peer's interval, and the detection timer was
	// moved by the stall (time not observed is not the peer's silence).
	BFDCounterHostStalls = "host_stalls"
)

// BFDCounters are the keys of BFDSession.Counters.
var BFDCounters = []string{
	BFDCounterSent, BFDCounterReceived, BFDCounterSendErrors, BFDCounterUps, BFDCounterFailures, BFDCounterAdminDowns,
	BFDCounterHostStalls,
}
