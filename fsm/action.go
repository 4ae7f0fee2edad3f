package fsm

import (
	"fmt"
	"net/netip"
)

// State is a virtual router state. Values match RFC 6527 vrrpv3OperationsStatus
// for the three RFC states; Fault is our extension.
type State uint8

const (
	Initialize State = 1
	Backup     State = 2
	Master     State = 3
	Fault      State = 4
)

func (s State) String() string {
	switch s {
	case Initialize:
		return "Initialize"
	case Backup:
		return "Backup"
	case Master:
		return "Master"
	case Fault:
		return "Fault"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ActionKind names what the caller must do.
type ActionKind uint8

const (
	// SendAdvert: send one advert with Action.Priority (0 on shutdown).
	SendAdvert ActionKind = iota + 1
	// AddAddresses: install the virtual addresses (and the VMAC).
	AddAddresses
	// RemoveAddresses: withdraw them.
	RemoveAddresses
	// Announce: one GARP per IPv4 VIP, one unsolicited NA per IPv6 VIP
	// [5798-6.4.1-a] [5798-6.4.2-g] [E7947] [E7949].
	Announce
	// JoinGroup: join the solicited-node group of each IPv6 VIP
	// [5798-6.4.2-g] [5798-6.4.3-b]. IPv6 only.
	JoinGroup
	// LeaveGroup: leave those groups. IPv6 only.
	LeaveGroup
	// Transition: log and count a state change (From, To, Reason). It comes
	// before the actions it causes, so the log line precedes its effects.
	Transition
	// SplitBrain: the first sign of a new split-brain episode while Master:
	// another Master's advert (Priority its priority) or a priority-0 advert
	// (another router was Master and resigned) from Addr. Log and count it;
	// the router itself reports nothing more until the episode ends
	// (docs/CONFORMANCE.md, deliberate additions).
	SplitBrain
	// TwoOwners: a non-owner heard priority 255 from Addr and from another
	// address within an episode [9568-8.3.2-a]. Log and count it.
	TwoOwners
	// BFDFalseDown: we became Master because the BFD session to the Master
	// Addr failed, and then heard Addr advertise (Priority): BFD failed, not
	// the Master. The RFC's rules end the two Masters (the higher priority
	// stays); log and count it.
	BFDFalseDown
)

func (k ActionKind) String() string {
	switch k {
	case SendAdvert:
		return "SendAdvert"
	case AddAddresses:
		return "AddAddresses"
	case RemoveAddresses:
		return "RemoveAddresses"
	case Announce:
		return "Announce"
	case JoinGroup:
		return "JoinGroup"
	case LeaveGroup:
		return "LeaveGroup"
	case Transition:
		return "Transition"
	case SplitBrain:
		return "SplitBrain"
	case TwoOwners:
		return "TwoOwners"
	case BFDFalseDown:
		return "BFDFalseDown"
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(k))
}

// Action is one thing the caller must do. It is a plain, comparable value so
// a slice of them is reused without allocating.
type Action struct {
	Kind     ActionKind
	Priority uint8 // SendAdvert; SplitBrain: the other router's
	// Version of a SendAdvert: 0 is the router's configured version; 2 is
	// the VRRPv2 copy a VRRPv3 router sends in the interoperation mode
	// [5798-8.4.2-c] (Config.V2Compat), right after the VRRPv3 advert.
	Version  uint8
	From, To State  // Transition
	Reason   Reason // Transition

	// Addr narrows AddAddresses, RemoveAddresses, Announce, JoinGroup and
	// LeaveGroup to one virtual address. The zero value, which every state
	// transition emits, means "every address of Router.Config()". Only
	// Reconfigure emits a valid Addr, one action per address, so the
	// caller must honour it: a RemoveAddresses with Addr set withdraws that
	// address and nothing else. For SplitBrain and TwoOwners it is the
	// other router's address.
	Addr netip.Addr
}

func (a Action) String() string {
	switch a.Kind {
	case SendAdvert:
		if a.Version != 0 {
			return fmt.Sprintf("SendAdvert(%d, v%d)", a.Priority, a.Version)
		}
		return fmt.Sprintf("SendAdvert(%d)", a.Priority)
	case Transition:
		return fmt.Sprintf("Transition(%v->%v, %v)", a.From, a.To, a.Reason)
	case SplitBrain:
		return fmt.Sprintf("SplitBrain(%v, %d)", a.Addr, a.Priority)
	}
	if a.Addr.IsValid() {
		return fmt.Sprintf("%v(%v)", a.Kind, a.Addr)
	}
	return a.Kind.String()
}

// Reason says why a transition happened.
type Reason uint8

const (
	ReasonNone Reason = iota
	// ReasonStartup: the startup rules of Initialize [5798-6.4.1-a] [5798-6.4.1-b].
	ReasonStartup
	// ReasonShutdown: administrative shutdown [5798-6.4.2-f] [5798-6.4.3-g].
	ReasonShutdown
	// ReasonMasterNoResponse: Master_Down_Timer expired with no advert [5798-6.4.2-g].
	ReasonMasterNoResponse
	// ReasonPriorityZero: Master_Down_Timer expired after the Master resigned
	// with a priority-0 advert [5798-6.4.2-h].
	ReasonPriorityZero
	// ReasonPreempted: Master_Down_Timer expired while we discarded a
	// lower-priority Master's adverts: we preempted it [5798-6.4.2-j].
	ReasonPreempted
	// ReasonHigherPriority: a Master heard a higher priority [5798-6.4.3-j].
	ReasonHigherPriority
	// ReasonAddressTieBreak: a Master heard an equal priority from a higher
	// primary address [5798-6.4.3-j] [9568-6.4.3-a].
	ReasonAddressTieBreak
	// ReasonLinkDown: the interface went down (Fault, our extension).
	ReasonLinkDown
	// ReasonTrackFault: a tracked object with a fault rule failed (Fault).
	ReasonTrackFault
	// ReasonFaultCleared: every fault cleared; back through Initialize.
	ReasonFaultCleared
	// ReasonGroupFault: another member of the sync group is in Fault.
	ReasonGroupFault
	// ReasonGroupBackup: another member of the sync group left Master.
	ReasonGroupBackup
	// ReasonAdminDisabled: the operator disabled the router (EventDisable),
	// the Shutdown event [5798-6.4.2-f] [5798-6.4.3-g].
	ReasonAdminDisabled
	// ReasonAdminEnabled: the operator enabled it again (EventEnable), the
	// Startup event [5798-6.4.1-a] [5798-6.4.1-b].
	ReasonAdminEnabled
	// ReasonBFDMasterDown: the BFD session to the Master failed and we are
	// its successor: Master_Down_Timer's expiry, early
	// (draft-ietf-rtgwg-vrrp-bfd-p2p; EventMasterDown).
	ReasonBFDMasterDown
)

var reasonNames = [...]string{
	ReasonNone:             "none",
	ReasonStartup:          "startup",
	ReasonShutdown:         "shutdown",
	ReasonMasterNoResponse: "master-no-response",
	ReasonPriorityZero:     "priority-zero-advert",
	ReasonPreempted:        "preempted",
	ReasonHigherPriority:   "higher-priority-advert",
	ReasonAddressTieBreak:  "address-tie-break",
	ReasonLinkDown:         "link-down",
	ReasonTrackFault:       "track-fault",
	ReasonFaultCleared:     "fault-cleared",
	ReasonGroupFault:       "sync-group-fault",
	ReasonGroupBackup:      "sync-group-backup",
	ReasonAdminDisabled:    "admin-disabled",
	ReasonAdminEnabled:     "admin-enabled",
	ReasonBFDMasterDown:    "bfd-master-down",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// NewMasterReason is RFC 6527 vrrpv3StatisticsNewMasterReason.
type NewMasterReason uint8

const (
	NotMaster        NewMasterReason = 0
	PriorityReason   NewMasterReason = 1 // owner, or after a priority-0 advert
	Preempted        NewMasterReason = 2 // we preempted a lower-priority Master
	MasterNoResponse NewMasterReason = 3 // Master_Down_Timer expiry
)

func (n NewMasterReason) String() string {
	switch n {
	case NotMaster:
		return "notMaster"
	case PriorityReason:
		return "priority"
	case Preempted:
		return "preempted"
	case MasterNoResponse:
		return "masterNoResponse"
	}
	return fmt.Sprintf("NewMasterReason(%d)", uint8(n))
}

// newMasterReason maps a transition into Master to RFC 6527's enum.
func (r Reason) newMasterReason() NewMasterReason {
	switch r {
	case ReasonStartup, ReasonFaultCleared, ReasonPriorityZero, ReasonAdminEnabled:
		return PriorityReason // only the owner starts as Master
	case ReasonPreempted:
		return Preempted
	case ReasonMasterNoResponse, ReasonBFDMasterDown:
		return MasterNoResponse
	}
	return NotMaster
}
