// Package config reads govrrpd's YAML configuration strictly: every key is in
// Schema, every value is checked, and every refusal says where
// (file:line:col), what is wrong, and what to write instead.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"govrrp/fsm"
	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Config is a validated configuration.
type Config struct {
	File          string
	ControlSocket string
	ControlGroup  string
	MetricsListen string
	SNMPAgentX    string // snmpd's AgentX socket; "" when SNMP is off
	NotifyTimeout time.Duration
	NotifyAs      RunAs // notify_user, notify_group: who runs every notify hook
	Log           Log
	Routers       []Router
	Scripts       map[string]Script
	SyncGroups    []SyncGroup // in file order
	BFD           []BFDSession

	KeyPos map[string]Pos // where each top-level key written is (value position)
	// Warnings are what Parse accepted but reports: each run (validate,
	// start, reload) shows them with the host's (LoadAndCheck).
	Warnings []*Error
}

func (c *Config) posOf(key string) Pos {
	if p, ok := c.KeyPos[key]; ok {
		return p
	}
	return Pos{File: c.File, Line: 1, Col: 1}
}

// Log configures log/slog.
type Log struct {
	Format string // text | json
	Level  string // debug | info | warn | error
}

// Router is one virtual router.
type Router struct {
	Name           string
	Interface      string
	VRID           uint8
	Version        uint8
	Family         vrrp.Family
	Priority       uint8
	AdvertInterval time.Duration
	Preempt        bool
	PreemptDelay   time.Duration
	Accept         bool
	VMAC           bool
	Checksum       vrrp.ChecksumForm
	UnicastPeers   []netip.Addr
	UnicastSource  netip.Addr // source of unicast adverts (keepalived unicast_src_ip); zero: the interface's

	// MulticastSource: source of multicast adverts (keepalived
	// mcast_src_ip), one of the interface's addresses; zero: the
	// interface's primary. At most one of the two is set (Source).
	MulticastSource netip.Addr

	AuthType     vrrp.AuthType
	AuthPassword string
	Addresses    []netip.Prefix
	Strict       bool
	ReplyLower   bool // RFC 9568 immediate advert on hearing a lower priority [IMPL-7]
	V2Compat     bool // VRRPv2/v3 interoperation mode [5798-8.4.2-b] (compat.go)
	Track        Track
	Announce     Announce
	Notify       [][]string // each an argv
	Routes       []Route    // installed while Master (routes.go)
	Excluded     []netip.Prefix
	// AddrOpts holds the device, label and scope of the addresses and
	// excluded addresses written as mappings with them (nil: none).
	AddrOpts map[netip.Addr]AddrOpts
	Rules    []Rule // installed while Master (routes.go)
	Hooks    KeepalivedHooks
	// BFDMaster: Master–Backup BFD (bfdmaster.go); nil: off.
	BFDMaster *BFDMaster

	Pos    Pos            // where the router's entry starts, for messages about it
	KeyPos map[string]Pos // where each key written for it is (value position); "addresses[i]" for each address
}

// PosOf returns where key was written for r, or where r starts.
func (r *Router) PosOf(key string) Pos {
	if p, ok := r.KeyPos[key]; ok {
		return p
	}
	return r.Pos
}

// addrPos is where the i-th address of r was written.
func (r *Router) addrPos(i int) Pos {
	if p, ok := r.KeyPos[fmt.Sprintf("addresses[%d]", i)]; ok {
		return p
	}
	return r.PosOf("addresses")
}

// AddrDev is the device address a (a VIP or excluded address) goes on:
// its dev, or the router's interface.
func (r *Router) AddrDev(a netip.Addr) string {
	if d := r.AddrOpts[a].Dev; d != "" {
		return d
	}
	return r.Interface
}

// excludedPos is where the i-th excluded address of r was written.
func (r *Router) excludedPos(i int) Pos {
	if p, ok := r.KeyPos[fmt.Sprintf("excluded_addresses[%d]", i)]; ok {
		return p
	}
	return r.PosOf("excluded_addresses")
}

// FSM is the state machine's configuration of r, whose adverts come from
// primary: the one mapping, shared by the daemon and the simulator.
func (r *Router) FSM(primary netip.Addr) fsm.Config {
	return fsm.Config{
		VRID: r.VRID, Version: r.Version, Family: r.Family, Priority: r.Priority,
		AdvertInterval: r.AdvertInterval, Preempt: r.Preempt, PreemptDelay: r.PreemptDelay,
		Accept: r.Accept, Addresses: r.VIPs(), Primary: primary, NoReplyLower: !r.ReplyLower,
		V2Compat: r.V2Compat, Successor: r.BFDMaster.FSM(),
	}
}

// Owner reports whether the router owns its addresses (priority 255).
func (r *Router) Owner() bool { return r.Priority == vrrp.PriorityOwner }

// VIPs returns the virtual addresses without their prefix lengths, in
// configuration order (the order adverts list them [IMPL-11]).
func (r *Router) VIPs() []netip.Addr {
	out := make([]netip.Addr, len(r.Addresses))
	for i, p := range r.Addresses {
		out[i] = p.Addr()
	}
	return out
}

// SyncGroup is a set of routers that change state together, as
// keepalived's vrrp_sync_group (docs/CONFIG.md, "Sync groups"). Its
// tracked objects are also in each member's Track once parsed.
type SyncGroup struct {
	Name    string
	Routers []string // member names, each in one group only
	Track   Track
	Notify  [][]string      // each an argv, run with GROUP FROM TO REASON
	Hooks   KeepalivedHooks // keepalived's forms, TYPE GROUP
	Pos     Pos
}

// BFDSession is one configured BFD session (bfd.go).
type BFDSession struct {
	Name       string
	Peer       netip.Addr
	Interface  string
	Local      netip.Addr // zero: the kernel picks
	MinTx      time.Duration
	MinRx      time.Duration
	Multiplier uint8
	Passive    bool
	Pos        Pos
}

// Track lists tracked objects.
type Track struct {
	Interfaces []TrackItem
	Scripts    []TrackItem
	Files      []TrackFile
	BFD        []TrackBFD
}

// TrackBFD is a tracked BFD session, named from the top-level bfd list. The
// session fails when it goes from Up to Down on a lost path or the peer's
// Down; AdminDown (ours or the peer's) is no failure and keeps the state it
// had (RFC 5882 §3.2, as keepalived's track_bfd). A session that has not
// been Up yet counts as failed. Reverse inverts it: the weight applies (or
// Fault, with weight 0) while the session is Up.
type TrackBFD struct {
	Name    string
	Weight  int
	Reverse bool
	Pos     Pos // of the name, for errors
}

// TrackFile is keepalived's track_file: the file holds an integer V; with
// Weight 0 the router is in Fault while V is not 0, otherwise V*Weight is
// added to the priority (internal/track.FileContribution).
type TrackFile struct {
	Path   string
	Weight int
}

// TrackItem is a tracked interface or script. Weight 0 means Fault while it
// fails; otherwise the weight is added to the priority.
type TrackItem struct {
	Name   string
	Weight int
}

// KeepalivedHooks are keepalived's notify forms, each a list of argv:
// notify_master, notify_backup, notify_fault and notify_stop run unchanged on
// entering that state; notify_keepalived (keepalived's generic notify) with
// TYPE NAME STATE PRIORITY appended. Routers and sync groups both have them.
type KeepalivedHooks struct {
	Master, Backup, Fault, Stop, Generic [][]string
}

// Announce configures gratuitous ARP / unsolicited NA bursts.
type Announce struct {
	Repeat  int
	Delay   time.Duration
	Refresh time.Duration
}

// Script is a tracking script.
type Script struct {
	Exec     []string
	Interval time.Duration
	Timeout  time.Duration
	Rise     int
	Fall     int
	Pos      Pos // where its exec is written
	RunAs        // user and group (keepalived's script user)
	// InitUnknown (init: unknown): until its first result the script has
	// no state, and that result decides at once, as keepalived's scripts
	// without init_fail; otherwise it starts failed.
	InitUnknown bool
}

// RunAs is who runs a script or the notify hooks, as keepalived's `user
// USER [GROUP]` and script_user: the user, with its primary group unless a
// group is named. The IDs are resolved when the file is read, so an unknown
// name is refused then.
type RunAs struct {
	User, Group string
	UID, GID    uint32 // meaningful when User or Group is set
}

// Cred is the credential to run as, nil for the daemon's own. No
// supplementary groups: those of the daemon must not follow.
func (a RunAs) Cred() *syscall.Credential {
	if a.User == "" && a.Group == "" {
		return nil
	}
	return &syscall.Credential{Uid: a.UID, Gid: a.GID, Groups: []uint32{}}
}

// Pos is a place in the configuration file.
type Pos = yamlwalk.Pos

// Error is one refused value: where, what is wrong, what to write instead.
type Error = yamlwalk.Error

// Errors is the problems found in one file, in file order: the first
// MaxErrors of them, and how many more there were. A file of a million
// mistakes costs no more memory or output than one of fifty.
type Errors = yamlwalk.Errors

// MaxErrors is how many errors are kept and printed; the rest are counted.
const MaxErrors = yamlwalk.MaxErrors

// Summary renders err for a log line: an *Errors by its count and first
// few, anything else as it is, cut to a bounded length.
func Summary(err error) string {
	var es *Errors
	if errors.As(err, &es) {
		return es.Summary(3)
	}
	return yamlwalk.Clip(err.Error())
}

// Router-level defaults (Schema documents them).
const (
	DefaultVersion        = 3
	DefaultPriority       = 100
	DefaultAdvertInterval = time.Second
	DefaultAnnounceRepeat = 1
	DefaultAnnounceDelay  = 2 * time.Second
	DefaultScriptInterval = 2 * time.Second
	DefaultScriptTimeout  = time.Second
	DefaultNotifyTimeout  = 30 * time.Second
)

// Source is the address the router's adverts leave from and that it is
// known by (its primary address in the tie-break), when the configuration
// chooses one: unicast_source or multicast_source. Zero: the interface's
// primary IPv4 address or IPv6 link-local, followed as it changes.
func (r *Router) Source() netip.Addr {
	if r.UnicastSource.IsValid() {
		return r.UnicastSource
	}
	return r.MulticastSource
}
