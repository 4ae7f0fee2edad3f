// Package api is govrrpd's control API: HTTP+JSON over a unix socket, with
// versioned paths. The daemon implements Backend; the CLI uses Client.
//
//	GET  /v1/routers          []RouterStatus
//	GET  /v1/routers/{name}   RouterDetail
//	GET  /v1/daemon           DaemonStatus
//	GET  /v1/interfaces       []InterfaceStatus
//	GET  /v1/bfd              BFDStatus: the BFD sessions, and what their listeners dropped
//	GET  /v1/events           Event stream, one JSON object per line (?history=N first replays N)
//	POST /v1/reload           ReloadResult
//	POST /v1/routers/{name}/disable   AdminResult (404: no such router)
//	POST /v1/routers/{name}/enable    AdminResult
//	GET  /v1/log-level        LogLevel
//	PUT  /v1/log-level        LogLevel in, LogLevel out (POST too; 400: not a level)
//
// Connections, event streams and slow clients are bounded: see Limits.
package api

import "time"

// RouterStatus is one virtual router at a glance.
type RouterStatus struct {
	Name        string `json:"name"`
	Interface   string `json:"interface"`
	VRID        uint8  `json:"vrid"`
	Family      string `json:"family"` // ipv4 | ipv6
	Version     uint8  `json:"version"`
	State       string `json:"state"`                  // Initialize | Backup | Master | Fault
	FaultReason string `json:"fault_reason,omitempty"` // in Fault: interface-missing, no-address, host-address, owner-address-missing, advert-exceeds-mtu, source-missing, link-down, track-fault or sync-group-fault
	// Disabled: the operator took it out of service (govrrp disable); it
	// rests in Initialize (a router waiting for its interface stays in
	// Fault) until govrrp enable. Kept across reloads, not restarts.
	Disabled          bool      `json:"disabled,omitempty"`
	Priority          uint8     `json:"priority"` // configured
	EffectivePriority uint8     `json:"effective_priority"`
	Master            string    `json:"master,omitempty"` // address of the current master, ours when Master
	MasterPriority    uint8     `json:"master_priority,omitempty"`
	AdvertIntervalMS  float64   `json:"advert_interval_ms"`      // Master_Adver_Interval in use
	MasterDownMS      float64   `json:"master_down_interval_ms"` // Master_Down_Interval in use
	Since             time.Time `json:"since"`                   // entered the current state
	Addresses         []string  `json:"addresses"`
	VMAC              bool      `json:"vmac"`
	Accept            bool      `json:"accept"`
	Unicast           bool      `json:"unicast"`
	SyncGroup         string    `json:"sync_group,omitempty"` // the sync group it is a member of
	// SplitBrain: another Master heard while this router was Master;
	// TwoOwners: priority 255 heard from two addresses [9568-8.3.2-a].
	// Absent until the first episode.
	SplitBrain *Conflict `json:"split_brain,omitempty"`
	TwoOwners  *Conflict `json:"two_owners,omitempty"`
	// V2Compat: a VRRPv3 router in the VRRPv2/v3 interoperation mode
	// (v2_compat), sending and hearing both versions [5798-8.4.2-b].
	V2Compat bool `json:"v2_compat,omitempty"`
	// VersionMismatch: adverts for this VRID heard on the other VRRP
	// version from a peer that sends none on ours; the two cannot hear
	// each other and both become Master. Absent until the first episode.
	VersionMismatch *VersionMismatch `json:"version_mismatch,omitempty"`
}

// VersionMismatch is what a router has seen of a peer on the other VRRP
// version (2 against 3). An episode ends when the peer has been quiet for
// three of its advert intervals.
type VersionMismatch struct {
	Active      bool      `json:"active"`   // an episode is running now
	Episodes    uint64    `json:"episodes"` // since the router started
	Peer        string    `json:"peer"`     // of the latest episode
	PeerVersion uint8     `json:"peer_version"`
	Version     uint8     `json:"version"` // ours
	Since       time.Time `json:"since"`   // when the latest episode began
}

// Conflict is what a router has seen of a conflict on its LAN: more
// Masters or more owners than VRRP allows. An episode ends when the other
// router has been quiet for a Master_Down_Interval.
type Conflict struct {
	Active   bool   `json:"active"`   // an episode is running now
	Episodes uint64 `json:"episodes"` // since the router started
	// Peers of the latest episode: the other Master; both owners.
	Peers []string  `json:"peers"`
	Since time.Time `json:"since"` // when the latest episode began
}

// RouterDetail is everything the daemon knows about one virtual router.
type RouterDetail struct {
	RouterStatus
	Preempt            bool              `json:"preempt"`
	PreemptDelayMS     float64           `json:"preempt_delay_ms"`
	SkewMS             float64           `json:"skew_time_ms"`
	ConfiguredInterval float64           `json:"configured_advert_interval_ms"`
	Primary            string            `json:"primary_address,omitempty"`
	Auth               string            `json:"auth,omitempty"` // VRRPv2 authentication type: none | pass
	Counters           map[string]uint64 `json:"counters"`
	Discards           map[string]uint64 `json:"discards"` // by receive-check reason
	Tracked            []Tracked         `json:"tracked,omitempty"`
	Transitions        []Event           `json:"transitions"` // newest last
	// TransitionCounts counts every transition since the router started
	// (Transitions keeps only the latest), by states and reason.
	TransitionCounts []TransitionCount `json:"transition_counts,omitempty"`
	NewMasterReason  string            `json:"new_master_reason,omitempty"`
}

// TransitionCount is how many times a router went from one state to
// another for one reason.
type TransitionCount struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// DaemonStatus is what the daemon counts for itself rather than for a
// router or an interface.
type DaemonStatus struct {
	// EventStreams is the number of /v1/events streams open now.
	EventStreams int `json:"event_streams"`
	// EventStreamsDropped counts the streams cut off because their reader
	// fell behind (each got an "overflow" event last).
	EventStreamsDropped uint64 `json:"event_streams_dropped"`
}

// InterfaceStatus is what the event loop of one interface and family
// counts for itself: the adverts it could charge to no virtual router there,
// above all those for a VRID nobody configured on it (a VRID mismatch
// between peers shows here, not on any router), and its socket's counters.
type InterfaceStatus struct {
	Interface string `json:"interface"`
	Family    string `json:"family"` // ipv4 | ipv6
	Routers   int    `json:"routers"`
	// UnknownVRID counts adverts for a VRID no router here is configured
	// with [5798-7.1-e]; the Last fields describe the latest of them.
	UnknownVRID     uint64    `json:"unknown_vrid"`
	LastUnknownVRID uint8     `json:"last_unknown_vrid,omitempty"`
	LastUnknownFrom string    `json:"last_unknown_from,omitempty"`
	LastUnknownAt   time.Time `json:"last_unknown_at,omitzero"`
	// Discards counts, by receive check, the datagrams dropped with no
	// router to charge (the unknown VRIDs included, as "vrid").
	Discards map[string]uint64 `json:"discards"`
	// Counters (keys in counters.go) are the socket's: read_errors, received, rejected (read
	// from the socket for what the kernel filter refused), truncated,
	// not_peer, overflow and reject_overflow (dropped by the kernel,
	// buffer full); and effects_dropped: log lines and events of the
	// interface's routers dropped because the workers were far behind.
	Counters map[string]uint64 `json:"counters"`
}

// Tracked is a tracked object and its effect.
type Tracked struct {
	Kind   string `json:"kind"` // interface | script | file | bfd
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	Failed bool   `json:"failed"`
	// State is a tracked BFD session's state (AdminDown, Down, Init, Up);
	// Failed may disagree with it: AdminDown keeps what the session had,
	// and a reversed session fails while Up.
	State string `json:"state,omitempty"`
	// Reverse: a BFD session tracked inverted (fails while Up).
	Reverse bool `json:"reverse,omitempty"`
}

// BFDStatus is the daemon's BFD sessions, by name, and what their
// listeners dropped.
type BFDStatus struct {
	Sessions  []BFDSession  `json:"sessions"`
	Listeners []BFDListener `json:"listeners"`
}

// BFDSession is one BFD session (RFC 5880 §6.8.1's variables, as far as
// they say something).
type BFDSession struct {
	Name        string `json:"name"`
	Interface   string `json:"interface"`
	Peer        string `json:"peer"`
	Local       string `json:"local_address,omitempty"`
	SourcePort  int    `json:"source_port"`
	State       string `json:"state"` // AdminDown | Down | Init | Up
	RemoteState string `json:"remote_state"`
	// Diag and RemoteDiag are why each side's session is not Up (bfd.Diag
	// names: control_detection_time_expired, neighbor_signaled_down, ...);
	// none while Up, since the session clears it on Init and Up. The log's
	// "bfd session down" lines keep each failure's.
	Diag        string `json:"diag"`
	RemoteDiag  string `json:"remote_diag"`
	LocalDiscr  uint32 `json:"local_discriminator"`
	RemoteDiscr uint32 `json:"remote_discriminator"`
	// TxIntervalMS is the negotiated transmit interval before jitter,
	// DetectionMS the detection time in use (0 before a packet),
	// RemoteMinRxMS and RemoteMinTxMS the peer's as last received.
	TxIntervalMS float64 `json:"tx_interval_ms"`
	// RxIntervalMS is the negotiated receive interval: the detection
	// time over the peer's multiplier (0 before a packet).
	RxIntervalMS  float64 `json:"rx_interval_ms"`
	DetectionMS   float64 `json:"detection_time_ms"`
	RemoteMinRxMS float64 `json:"remote_min_rx_ms"`
	RemoteMinTxMS float64 `json:"remote_min_tx_ms"`
	RemoteMult    uint8   `json:"remote_multiplier"`
	// Since is the last state change (zero: none), LastReceived the
	// arrival of the last packet the session took.
	Since        time.Time `json:"since,omitzero"`
	LastReceived time.Time `json:"last_received,omitzero"`
	// Counters (keys BFDCounters in counters.go): packets sent, received
	// and not sent, Ups, failures (an Up session lost to the path or to
	// the peer's Down) and AdminDowns (ours or the peer's: no failure).
	Counters map[string]uint64 `json:"counters"`
	// Waiting, when set, says why the session does not run yet:
	// "interface-missing", "local-address-missing", "no-route-to-peer"
	// (no address in the peer's subnet yet) or "start-failed" (the log
	// says why); each change of the interface tries again.
	Waiting string `json:"waiting,omitempty"`
}

// BFDListener is what the BFD listener of an interface and family dropped,
// by receive check (bfd.Check names; ttl: GTSM).
type BFDListener struct {
	Interface string            `json:"interface"`
	Family    string            `json:"family"` // ipv4 | ipv6
	Drops     map[string]uint64 `json:"drops"`
}

// Event is one entry of the event stream.
type Event struct {
	Time     time.Time `json:"time"`
	Router   string    `json:"router,omitempty"`
	Type     string    `json:"type"` // transition | priority | discards | reload | track | split_brain | two_owners | admin (Detail: disabled, enabled) | overflow (this stream fell behind and ends)
	From     string    `json:"from,omitempty"`
	To       string    `json:"to,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Priority uint8     `json:"priority,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Source is the sender of the last advert a discards event counts.
	Source string `json:"source,omitempty"`
}

// ReloadResult says what a reload did.
type ReloadResult struct {
	OK        bool     `json:"ok"`
	Error     string   `json:"error,omitempty"`
	Unchanged []string `json:"unchanged,omitempty"`
	Updated   []string `json:"updated,omitempty"`
	Restarted []string `json:"restarted,omitempty"`
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	// Skipped lists the changed keys the reload did not apply because they
	// take effect only at the next start of govrrpd. The rest of the file
	// was applied (OK stays true); govrrp reload exits 3.
	Skipped []SkippedKey `json:"skipped,omitempty"`
}

// SkippedKey is a changed key a reload left for the next start.
type SkippedKey struct {
	Key string `json:"key"`           // e.g. control_socket, log.format, sync_groups
	Pos string `json:"pos,omitempty"` // file:line:col in the new file; the file alone when the key was removed
	Why string `json:"why"`
}

// AdminResult answers a disable or enable of a router.
type AdminResult struct {
	Router   string `json:"router"`
	Disabled bool   `json:"disabled"`
	Changed  bool   `json:"changed"` // false: it was so already
	State    string `json:"state"`   // after the change
}

// LogLevel is the daemon's log level: debug, info, warn or error.
type LogLevel struct {
	Level string `json:"level"`
}

// ErrorBody is the JSON body of every non-2xx answer.
type ErrorBody struct {
	Error string `json:"error"`
}
