// Package config reads govrrpd's YAML configuration strictly: every key is in
// Schema, every value is checked, and every refusal says where
// (file:line:col), what is wrong, and what to write instead.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

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
	Log           Log
	Routers       []Router
	Scripts       map[string]Script
	SyncGroups    []SyncGroup // in file order

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
	AuthType       vrrp.AuthType
	AuthPassword   string
	Addresses      []netip.Prefix
	Strict         bool
	ReplyLower     bool // RFC 9568 immediate advert on hearing a lower priority [IMPL-7]
	V2Compat       bool // VRRPv2/v3 interoperation mode [5798-8.4.2-b] (compat.go)
	Track          Track
	Announce       Announce
	Notify         [][]string // each an argv
	Routes         []Route    // installed while Master (routes.go)
	Excluded       []netip.Prefix
	// AddrOpts holds the device, label and scope of the addresses and
	// excluded addresses written as mappings with them (nil: none).
	AddrOpts map[netip.Addr]AddrOpts
	Rules    []Rule // installed while Master (routes.go)
	Hooks    KeepalivedHooks

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

// Track lists tracked objects.
type Track struct {
	Interfaces []TrackItem
	Scripts    []TrackItem
	Files      []TrackFile
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
	// User, Group: run as them (keepalived's script user); the IDs are
	// resolved when the file is read, so an unknown name is refused then.
	User, Group string
	UID, GID    uint32 // meaningful when User or Group is set
}

// Pos is a place in the configuration file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is one refused value: where, what is wrong, what to write instead.
type Error struct {
	Pos  Pos
	What string
	Fix  string
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.What)
	}
	return fmt.Sprintf("%s: %s; %s", e.Pos, e.What, e.Fix)
}

// Errors is the problems found in one file, in file order: the first
// MaxErrors of them, and how many more there were. A file of a million
// mistakes costs no more memory or output than one of fifty.
type Errors struct {
	List []*Error
	More int
}

// MaxErrors is how many errors are kept and printed; the rest are counted.
const MaxErrors = 50

// maxText bounds the text of one error: values from the file are quoted in
// it, and a value may be megabytes long.
const maxText = 300

func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	return s[:maxText] + "…"
}

func (es *Errors) add(e *Error) {
	if len(es.List) < MaxErrors {
		es.List = append(es.List, e)
		return
	}
	es.More++
}

// Len is how many errors were found, kept or counted.
func (es *Errors) Len() int { return len(es.List) + es.More }

func (es *Errors) Error() string {
	var b strings.Builder
	for i, e := range es.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	if es.More > 0 {
		fmt.Fprintf(&b, "\nand %d more", es.More)
	}
	return b.String()
}

// Summary is es on one bounded line for a log: the count and the first n.
func (es *Errors) Summary(n int) string {
	var b strings.Builder
	if es.Len() == 1 {
		b.WriteString("1 error: ")
	} else {
		fmt.Fprintf(&b, "%d errors: ", es.Len())
	}
	for i, e := range es.List[:min(n, len(es.List))] {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(e.Error())
	}
	if rest := es.Len() - min(n, len(es.List)); rest > 0 {
		fmt.Fprintf(&b, " | and %d more", rest)
	}
	return b.String()
}

// Summary renders err for a log line: an *Errors by its count and first
// few, anything else as it is, cut to a bounded length.
func Summary(err error) string {
	var es *Errors
	if errors.As(err, &es) {
		return es.Summary(3)
	}
	return clip(err.Error())
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
