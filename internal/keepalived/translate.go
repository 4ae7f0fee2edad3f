package keepalived

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"govrrp/internal/config"
)

// Result is a translated configuration.
type Result struct {
	YAML    []byte // the govrrpd configuration; empty when Routers is 0
	Routers int    // routers written
	Notes   []Note // what was left out or changed, in source order
}

// Lost reports whether a note says the YAML does less than keepalived.
func (r *Result) Lost() bool {
	for _, n := range r.Notes {
		if n.Lost {
			return true
		}
	}
	return false
}

// Import reads path as keepalived would and translates it.
func Import(path string, opt Options) (*Result, error) {
	toks, notes, err := Read(path, opt)
	if err != nil {
		return nil, err
	}
	nodes, more := Parse(toks)
	res := Translate(nodes, path, opt.ConfigID)
	res.Notes = append(append(notes, more...), res.Notes...)
	// Notes in reading order: the files as keepalived reads them, each by line.
	order := map[string]int{path: 0}
	for _, tk := range toks {
		if _, ok := order[tk.Pos.File]; !ok {
			order[tk.Pos.File] = len(order)
		}
	}
	sort.SliceStable(res.Notes, func(i, j int) bool {
		a, b := res.Notes[i].Pos, res.Notes[j].Pos
		if a.File != b.File {
			return fileRank(order, a.File) < fileRank(order, b.File)
		}
		return a.Line < b.Line
	})
	return res, nil
}

func fileRank(order map[string]int, f string) int {
	if r, ok := order[f]; ok {
		return r
	}
	return len(order)
}

func sortNotes(ns []Note) {
	sort.SliceStable(ns, func(i, j int) bool {
		if ns[i].Pos.File != ns[j].Pos.File {
			return ns[i].Pos.File < ns[j].Pos.File
		}
		return ns[i].Pos.Line < ns[j].Pos.Line
	})
}

// keepalived 2.2.7's defaults.
const (
	defPriority    = 100
	defAdvert      = time.Second
	defGarpDelay   = 5 * time.Second
	defGarpRepeat  = 5
	defGarpRefresh = 0
	defGarpRefRep  = 1
	defScriptEvery = time.Second
)

type garp struct {
	delay      time.Duration
	repeat     int
	refresh    time.Duration
	refreshRep int
}

type globals struct {
	version       int
	strict        bool
	lowerNoAdvert *bool
	// script_user USER [GROUP]: who runs the scripts without a user of
	// their own, and the notify scripts.
	scriptUser, scriptGroup string
	scriptUserNode          *Node
	garp                    garp
	// SNMP (snmp.go): the keywords that ask for the RFC MIBs, for
	// KEEPALIVED-MIB, and snmp_socket; agentx is what snmp_agentx gets.
	snmpRFC, snmpKA []*Node
	snmpSocket      *Node
	agentx          string
}

type script struct {
	pos      Pos
	name     string // the YAML key
	exec     []string
	interval time.Duration
	timeout  time.Duration
	rise     int
	fall     int
	weight   int
	user     string
	group    string
	bad      bool // not translatable: tracking it is dropped
	used     bool
	initFail bool // init_fail: starts failed, govrrpd's default
	// initUnknown: written as init: unknown, keepalived's start without
	// init_fail (scriptInit).
	initUnknown bool
}

// tfile is a track_file (vrrp_track_file) section.
type tfile struct {
	path    string
	weight  int
	reverse bool
	bad     bool // not translatable: tracking it is dropped
}

type trackItem struct {
	name   string
	weight int
	// raised: keepalived's positive weight, which the import turned into
	// a higher priority and a negative weight (complete).
	raised bool
}

type router struct {
	pos           Pos
	kaName        string
	iface         string
	vrid          int
	priority      int
	prioritySet   bool
	advert        float64 // seconds
	advertSet     bool
	advertPos     Pos
	advertDur     time.Duration
	version       int
	versionPos    Pos
	stateMaster   bool
	impliedOwner  bool  // state MASTER without a priority: 255 in keepalived
	overCap       *Node // priority plus positive weights above 254: capPriorities
	node          *Node // the vrrp_instance
	nopreempt     bool
	preemptDelay  time.Duration
	preemptPos    Pos
	accept        *bool
	strict        *bool
	lowerNoAdv    *bool
	vmac          bool
	strictEff     bool // strict mode in effect (vrrp_strict or strict_mode)
	acceptEff     bool // accept in effect
	replyLower    bool // answer a lower priority at once (not lower_prio_no_advert)
	plainChecksum bool // keepalived after 2.2.7: the RFC 9568 form
	vips          []vip
	excluded      []vip
	routes        []route
	rules         []rule
	unicastSrc    netip.Addr
	trackFiles    []trackItem         // name: the file's path
	hooks         map[string][]string // YAML key (notify_master...) -> argv
	hookNodes     map[string]*Node    // where each hook is written
	hookAs        map[string]runAs    // a notify script's own USER [GROUP]
	peers         []netip.Addr
	authType      string
	authPass      string
	authPos       Pos
	trackIfs      []trackItem
	trackScripts  []trackItem
	trackBFD      []bfdTrack // bfd.go
	garp          garp
	skip          bool // a fatal problem was noted: the router is not written
	group         bool // a vrrp_sync_group's own tracking and hooks, not an instance
}

type translator struct {
	g       globals
	scripts map[string]*script
	order   []string
	files   map[string]*tfile // track_file sections read so far
	// bfds: the bfd_instance sections read so far (bfd.go), by
	// keepalived name, in bfdOrder.
	bfds     map[string]*bfdInst
	bfdOrder []string
	noUsers  bool  // render leaves out the scripts' users and groups
	notifyAs runAs // notify_user and notify_group (notifyUser)
	notes    []Note
	named    map[string]bool
	// zeroWeights: instances in a vrrp_sync_group without
	// sync_group_tracking_weight, whose tracking keepalived makes unweighted.
	zeroWeights map[string]bool
	// groups: the vrrp_sync_groups, rendered as sync_groups.
	groups []syncGroup
	// groupBFD: by member, the sessions its vrrp_sync_group tracks
	// (track_bfd), whose weight replaces the member's own (bfd.go).
	groupBFD map[string]map[string]bool
	inGroup  map[string]bool // instance names already in a group
	// unusedScripts: syncUnweighted dropped tracked scripts, so which
	// scripts are used is counted again.
	unusedScripts bool
}

// syncGroup is a vrrp_sync_group: its members by instance name, and its
// own tracking and hooks, read into a router value by the instance handlers.
type syncGroup struct {
	name     string
	pos      Pos
	members  []string
	weighted bool    // sync_group_tracking_weight
	node     *Node   // read again in order, for track and notify
	own      *router // trackIfs, trackScripts, trackFiles, hooks
}

func (t *translator) note(n *Node, why, fix string, lost bool) {
	t.notes = append(t.notes, Note{Pos: n.Pos, Keyword: n.Key, Why: why, Fix: fix, Lost: lost})
}

// Translate turns parsed statements into a govrrpd configuration. source
// and configID only go into the header comment.
func Translate(nodes []*Node, source, configID string) *Result {
	t := &translator{
		g:       globals{version: 2, garp: garp{defGarpDelay, defGarpRepeat, defGarpRefresh, defGarpRefRep}},
		scripts: map[string]*script{},
		files:   map[string]*tfile{},
		named:   map[string]bool{},

		zeroWeights: map[string]bool{},
		inGroup:     map[string]bool{},
	}
	// keepalived reads global_defs wherever it is. A vrrp_script, like a
	// track_file, is looked up as an instance or group naming it is read,
	// so one defined later is not tracked (keepalived 2.2.7: "track script
	// NAME not found, ignoring...").
	for _, n := range nodes {
		switch n.Key {
		case "global_defs":
			t.globalDefs(n)
		case "vrrp_sync_group":
			t.syncGroup(n)
		}
	}
	var routers []*router
	for _, n := range nodes {
		switch n.Key {
		case "global_defs":
		case "vrrp_script":
			t.script(n)
		case "vrrp_sync_group":
			// Its tracking and hooks are read in order, as keepalived
			// looks a track_file up when it reads the group.
			t.groupOwn(n)
		case "vrrp_instance":
			if r := t.instance(n); r != nil {
				routers = append(routers, r)
			}
		default:
			if h, ok := topKeys[n.Key]; ok {
				h(t, n)
			} else {
				t.note(n, "section not translated (govrrp has no equivalent, or keepalived does not know it either)", "check the spelling; see docs/MIGRATING.md", true)
			}
		}
	}
	known := map[string]bool{}
	for _, r := range routers {
		known[r.kaName] = true
	}
	for _, g := range t.groups {
		for _, m := range g.members {
			if !known[m] {
				t.notes = append(t.notes, Note{Pos: g.pos, Keyword: "vrrp_sync_group", Why: "member " + m + " is not a vrrp_instance; keepalived ignores it, and so does the import", Fix: "check the name"})
			}
		}
	}
	t.snmp()
	t.untrackedBFD(routers)
	t.scriptUser(routers)
	t.groupOwners(routers)
	t.groupPositive(routers)
	t.capPriorities(routers)
	t.scriptInit(routers)
	if t.unusedScripts {
		t.recountScripts(routers)
	}
	res := &Result{}
	res.YAML, res.Routers = t.valid(routers, source, configID)
	res.Notes = t.notes
	sortNotes(res.Notes)
	return res
}

type handler func(t *translator, n *Node)

func skipSection(why, fix string) handler {
	return func(t *translator, n *Node) { t.note(n, why, fix, true) }
}

const lvsWhy = "LVS load-balancer section skipped: govrrp is not a load balancer"
const lvsFix = "keep keepalived (with no vrrp_instance) or ipvsadm/ldirectord for it"

// topKeys are the top-level sections besides global_defs, vrrp_script and
// vrrp_instance.
var topKeys = map[string]handler{
	"track_file":           (*translator).trackFile,
	"vrrp_track_file":      (*translator).trackFile,
	"bfd_instance":         (*translator).bfdInstance,
	"virtual_server":       skipSection(lvsWhy, lvsFix),
	"virtual_server_group": skipSection(lvsWhy, lvsFix),
	"real_server":          skipSection(lvsWhy, lvsFix),
}

var mailKeys = map[string]bool{
	"notification_email": true, "notification_email_from": true, "smtp_server": true,
	"smtp_connect_timeout": true, "smtp_helo_name": true, "smtp_alert": true,
	"smtp_alert_vrrp": true, "smtp_alert_checker": true, "no_email_faults": true,
}

// globalNote is what the import says of a global_defs setting it does not
// translate.
type globalNote struct {
	why, fix string
	lost     bool
}

// tuning is the note of keepalived's settings for its own processes.
var tuning = globalNote{why: "a setting of keepalived's own processes, not needed by govrrpd: skipped"}

// nonVRRP is the note of the global settings of keepalived's LVS and
// checker parts: not VRRP, and of no effect on it. The LVS sections
// themselves are reported where they are.
var nonVRRP = globalNote{why: "an LVS/checker setting, not VRRP: skipped (govrrp is not a load balancer)", fix: lvsFix}

// keepalivedReload is the note of keepalived's own reload machinery.
var keepalivedReload = globalNote{why: "keepalived's own configuration reload handling: skipped", fix: "run `govrrp validate` before `govrrp reload`"}

var firewall = globalNote{"govrrpd adds no firewall rules for the virtual addresses", "write the nftables rules you relied on yourself", true}

var globalNotes = map[string]globalNote{
	"vrrp_cpu_affinity":                   tuning,
	"vrrp_rlimit_rttime":                  tuning,
	"vrrp_rt_priority":                    tuning,
	"vrrp_process_name":                   tuning,
	"vrrp_netlink_cmd_rcv_bufs":           tuning,
	"vrrp_netlink_cmd_rcv_bufs_force":     tuning,
	"vrrp_netlink_monitor_rcv_bufs":       tuning,
	"vrrp_netlink_monitor_rcv_bufs_force": tuning,
	"vrrp_rx_bufs_multiplier":             tuning,
	"vrrp_rx_bufs_policy":                 tuning,
	"min_auto_priority_delay":             tuning,
	"default_interface":                   {"govrrpd has no default interface", "write interface in each vrrp_instance", true},
	"disable_local_igmp":                  {"govrrpd does not change the host's IGMP settings", "set net.ipv4.igmp_link_local_mcast_reports=0 on the host (sysctl.d) if you relied on it", true},
	"dynamic_interfaces":                  {"govrrpd always runs a router whose interface is missing, in Fault until it appears", "", false},
	"fifo_write_vrrp_states_on_reload":    {"notify FIFOs are not supported by govrrp", "follow `govrrp watch` (one line per event) or use notify hooks", true},
	"log_unknown_vrids":                   {"govrrpd counts the adverts for VRIDs it does not run, in its metrics", "", false},
	"vmac_prefix":                         {"the macvlans' names cannot be chosen in govrrp", "update firewall rules or scripts that name them", true},
	"vmac_addr_prefix":                    {"the macvlans' names cannot be chosen in govrrp", "update firewall rules or scripts that name them", true},
	"vrrp_garp_interval":                  {"govrrpd paces its announcements itself", "remove it", true},
	"vrrp_gna_interval":                   {"govrrpd paces its announcements itself", "remove it", true},
	"vrrp_min_garp":                       {"not translated", "write announce: {repeat: 1, delay: 0s} on the routers (one announcement, no repeat)", true},
	"vrrp_ipsets":                         firewall,
	"vrrp_iptables":                       firewall,
	"nftables":                            firewall,
	"nftables_counters":                   firewall,
	"nftables_ifindex":                    firewall,
	"nftables_priority":                   firewall,
	"bfd_cpu_affinity":                    tuning,
	"bfd_no_swap":                         tuning,
	"bfd_priority":                        tuning,
	"bfd_process_name":                    tuning,
	"bfd_rlimit_rttime":                   tuning,
	"bfd_rt_priority":                     tuning,
	"process_monitor_rcv_bufs":            tuning,
	"process_monitor_rcv_bufs_force":      tuning,
	"process_name":                        tuning,
	"process_names":                       tuning,
	"umask":                               {"govrrpd's umask is its service's", "set UMask= in govrrpd's systemd unit if it matters", false},
	"random_seed":                         {"keepalived's random seed (for its tests): govrrpd has none", "", false},
	"config_save_dir":                     keepalivedReload,
	"tmp_config_directory":                keepalivedReload,
	"reload_check_config":                 keepalivedReload,
	"reload_file":                         keepalivedReload,
	"reload_repeat":                       keepalivedReload,
	"reload_time_file":                    keepalivedReload,
	"include_check":                       keepalivedReload,
	"data_use_instance":                   {"keepalived's data/stats dump files are not written by govrrpd", "read `govrrp status --json` or `govrrp show NAME --json`", false},
	"enable_dbus":                         {"govrrpd has no D-Bus interface", "read and follow the routers through the control API: `govrrp status --json`, `govrrp watch --json`", true},
	"dbus_service_name":                   {"govrrpd has no D-Bus interface", "read and follow the routers through the control API: `govrrp status --json`, `govrrp watch --json`", true},
	"startup_script":                      {"govrrpd runs no script when it starts", "run it from govrrpd's systemd unit (ExecStartPre=)", true},
	"startup_script_timeout":              {"govrrpd runs no script when it starts", "set TimeoutStartSec= in govrrpd's systemd unit", false},
	"shutdown_script":                     {"govrrpd runs no script when it stops", "run it from govrrpd's systemd unit (ExecStopPost=)", true},
	"shutdown_script_timeout":             {"govrrpd runs no script when it stops", "set TimeoutStopSec= in govrrpd's systemd unit", false},
	"vrrp_startup_delay":                  {"not supported by govrrp", "delay govrrpd's start (systemd ExecStartPre=/bin/sleep N)", true},
	// The instance settings of the same name less vrrp_, for every instance.
	"vrrp_down_timer_adverts":      {"govrrpd uses the RFC's Master_Down_Interval", "remove it", true},
	"vrrp_garp_extra_if":           {"not supported by govrrp", "use announce.refresh", true},
	"vrrp_garp_lower_prio_delay":   {"not supported by govrrp", "remove it", true},
	"vrrp_garp_lower_prio_repeat":  {"not supported by govrrp", "remove it", true},
	"vrrp_higher_prio_send_advert": {"not supported by govrrp", "remove it", true},
	"vrrp_skip_check_adv_addr":     {"govrrpd always accepts adverts whose address list differs (it logs them)", "nothing to do", true},
	"vrrp_notify_priority_changes": {"not supported by govrrp", "watch `govrrp watch` or the metrics", true},
}

func (t *translator) globalDefs(n *Node) {
	mail := false
	for _, c := range n.Children {
		switch {
		case c.Key == "vrrp_version":
			if v, ok := t.intArg(c, 2, 3); ok {
				t.g.version = v
			}
		case c.Key == "vrrp_strict":
			t.g.strict = true
		case c.Key == "vrrp_lower_prio_no_advert":
			b := boolArg(c)
			t.g.lowerNoAdvert = &b
		case c.Key == "vrrp_garp_master_delay":
			t.g.garp.delay, _ = t.secondsArg(c, 0, 3600)
		case c.Key == "vrrp_garp_master_repeat":
			t.g.garp.repeat, _ = t.intArg(c, 1, 100)
		case c.Key == "vrrp_garp_master_refresh":
			t.g.garp.refresh, _ = t.secondsArg(c, 0, 86400)
		case c.Key == "vrrp_garp_master_refresh_repeat":
			t.g.garp.refreshRep, _ = t.intArg(c, 1, 100)
		case isLVSGlobal(c.Key):
			t.note(c, nonVRRP.why, nonVRRP.fix, nonVRRP.lost)
		case isSNMPGlobal(c.Key):
			t.snmpGlobal(c)
		case strings.HasSuffix(c.Key, "notify_fifo") || strings.HasSuffix(c.Key, "notify_fifo_script"):
			t.note(c, "notify FIFOs are not supported by govrrp", "follow `govrrp watch` (one line per event) or use notify hooks", true)
		case c.Key == "vrrp_mcast_group4" || c.Key == "vrrp_mcast_group6":
			t.note(c, "govrrpd sends to the RFC's groups (224.0.0.18, ff02::12)", "use the RFC group on both routers, or unicast_peer", true)
		case c.Key == "vrrp_check_unicast_src":
			t.note(c, "govrrpd always accepts unicast adverts only from its unicast_peers", "", false)
		case mailKeys[c.Key]:
			if !mail {
				t.note(c, "e-mail alert settings skipped", "send mail from a notify hook if you need it", true)
				mail = true
			}
		case c.Key == "script_user":
			if len(c.Args) < 1 || len(c.Args) > 2 {
				t.note(c, "write script_user USER [GROUP]", "scripts run as root (govrrpd's default)", true)
				continue
			}
			t.g.scriptUser, t.g.scriptGroup, t.g.scriptUserNode = c.Args[0], "", c
			if len(c.Args) == 2 {
				t.g.scriptGroup = c.Args[1]
			}
		case c.Key == "router_id" || c.Key == "enable_script_security" ||
			c.Key == "max_auto_priority" || c.Key == "vrrp_priority" || c.Key == "vrrp_no_swap":
			t.note(c, "not needed by govrrpd, skipped", "", false)
		case globalNotes[c.Key].why != "":
			g := globalNotes[c.Key]
			t.note(c, g.why, g.fix, g.lost)
		default:
			t.note(c, "global setting not translated", "see docs/MIGRATING.md for govrrpd's equivalent, if any", true)
		}
	}
}

func (t *translator) script(n *Node) {
	if len(n.Args) < 1 {
		t.note(n, "no script name", "name the script", true)
		return
	}
	s := &script{pos: n.Pos, name: keyName(n.Args[0]), interval: defScriptEvery, rise: 1, fall: 1}
	var timeoutSet bool
	for _, c := range n.Children {
		switch c.Key {
		case "script":
			if len(c.Args) == 0 {
				t.note(c, "no command", "write the command", true)
				s.bad = true
				continue
			}
			s.exec = strings.Fields(c.Args[0])
			if len(c.Args) > 1 {
				t.note(c, "words after the quoted command are not translated", "put the whole command line in the quotes; write user USER [GROUP] on its own line", true)
			}
			if !t.command(c, s.exec, "tracking that uses it is dropped") {
				s.bad = true
			}
		case "interval":
			s.interval, _ = t.secondsArg(c, 0.1, 3600)
		case "timeout":
			s.timeout, timeoutSet = t.secondsArg(c, 0.01, 3600)
		case "weight":
			s.weight, _ = t.intArg(c, -253, 253)
			if len(c.Args) > 1 && c.Args[1] == "reverse" {
				t.note(c, "reverse is not supported by govrrp", "invert the check's exit status in the script", true)
			}
		case "rise":
			s.rise, _ = t.intArg(c, 1, 100)
		case "fall":
			s.fall, _ = t.intArg(c, 1, 100)
		case "user":
			// user USER [GROUP]: keepalived runs the script as USER, with
			// GROUP or else USER's primary group, as govrrpd's user/group.
			if len(c.Args) < 1 || len(c.Args) > 2 {
				t.note(c, "write user USER [GROUP]", "the script runs as root (govrrpd's default)", true)
				continue
			}
			s.user = c.Args[0]
			if len(c.Args) == 2 {
				s.group = c.Args[1]
			}
		case "init_fail":
			// keepalived then starts it failed, needing rise successes:
			// govrrpd's default (init: failed).
			s.initFail = true
		default:
			t.note(c, "vrrp_script setting not translated", "remove it", true)
		}
	}
	if !timeoutSet || s.timeout > s.interval {
		// keepalived's default timeout is the interval; ours cannot exceed it.
		s.timeout = s.interval
	}
	if len(s.exec) == 0 && !s.bad {
		t.note(n, "no script command", "add script \"/path/to/check\"", true)
		s.bad = true
	}
	if _, dup := t.scripts[n.Args[0]]; !dup {
		t.order = append(t.order, n.Args[0])
	}
	t.scripts[n.Args[0]] = s
}

// command checks the path of a script's or hook's command as govrrpd will:
// absolute, or a bare name, which keepalived looks up in its PATH and
// govrrpd in config.CommandPath when it loads the file. A relative path
// (keepalived's is relative to /) is not translated: dropped says what that
// costs.
func (t *translator) command(n *Node, argv []string, dropped string) bool {
	switch {
	case len(argv) == 0:
		t.note(n, "no command", "write the command", true)
		return false
	case !strings.Contains(argv[0], "/"):
		t.note(n, argv[0]+" is a bare command name: govrrpd looks it up when it loads the file, in "+config.CommandPath+", as keepalived looks it up in its PATH",
			"govrrp validate on the target warns if it is not found there", false)
	case !filepath.IsAbs(argv[0]):
		t.note(n, "the command is a relative path (keepalived's is relative to /)",
			"write the full path, e.g. /"+argv[0]+"; "+dropped, true)
		return false
	}
	return true
}

// instKey handles one keyword of a vrrp_instance.
type instKey func(t *translator, r *router, n *Node)

func notTranslated(why, fix string) instKey {
	return func(t *translator, r *router, n *Node) { t.note(n, why, fix, true) }
}

func ignored(why string) instKey {
	return func(t *translator, r *router, n *Node) { t.note(n, why, "", false) }
}

// instanceKeys is the one table of vrrp_instance keywords and what becomes
// of each.
var instanceKeys map[string]instKey

func init() {
	instanceKeys = map[string]instKey{
		"interface":         func(t *translator, r *router, n *Node) { r.iface = t.strArg(n) },
		"virtual_router_id": func(t *translator, r *router, n *Node) { r.vrid, _ = t.intArg(n, 1, 255) },
		"priority": func(t *translator, r *router, n *Node) {
			r.priority, r.prioritySet = t.intArg(n, 1, 255)
		},
		"advert_int": func(t *translator, r *router, n *Node) {
			if len(n.Args) < 1 {
				t.note(n, "no value", "write the interval in seconds", true)
				return
			}
			v, err := strconv.ParseFloat(n.Args[0], 64)
			if err != nil || v <= 0 || v > 255 || math.IsNaN(v) {
				t.note(n, "not an interval in seconds", "write e.g. 1 or 0.5", true)
				return
			}
			r.advert, r.advertSet, r.advertPos = v, true, n.Pos
		},
		"version": func(t *translator, r *router, n *Node) {
			r.version, _ = t.intArg(n, 2, 3)
			r.versionPos = n.Pos
		},
		"state": func(t *translator, r *router, n *Node) {
			r.stateMaster = strings.EqualFold(t.strArg(n), "MASTER")
		},
		"nopreempt": func(t *translator, r *router, n *Node) { r.nopreempt = true; r.preemptPos = n.Pos },
		"preempt":   ignored("preemption is keepalived's default"),
		"preempt_delay": func(t *translator, r *router, n *Node) {
			r.preemptDelay, _ = t.secondsArg(n, 0, 3600)
			r.preemptPos = n.Pos
		},
		"accept":    func(t *translator, r *router, n *Node) { b := true; r.accept = &b },
		"no_accept": func(t *translator, r *router, n *Node) { b := false; r.accept = &b },
		"strict_mode": func(t *translator, r *router, n *Node) {
			b := len(n.Args) == 0 || boolArg(n)
			r.strict = &b
		},
		"lower_prio_no_advert": func(t *translator, r *router, n *Node) { b := len(n.Args) == 0 || boolArg(n); r.lowerNoAdv = &b },
		"use_vmac": func(t *translator, r *router, n *Node) {
			r.vmac = true
			if len(n.Args) > 0 {
				t.note(n, "the macvlan's name and MAC cannot be chosen in govrrp", "govrrpd creates its own macvlan on the interface; update firewall rules or scripts that name "+n.Args[0], true)
			}
		},
		"virtual_ipaddress": (*translator).vips,
		"unicast_peer":      (*translator).peers,
		"authentication":    (*translator).auth,
		"track_interface":   (*translator).trackInterfaces,
		"track_script":      (*translator).trackScripts,
		"garp_master_delay": func(t *translator, r *router, n *Node) { r.garp.delay, _ = t.secondsArg(n, 0, 3600) },
		"garp_master_repeat": func(t *translator, r *router, n *Node) {
			r.garp.repeat, _ = t.intArg(n, 1, 100)
		},
		"garp_master_refresh":        func(t *translator, r *router, n *Node) { r.garp.refresh, _ = t.secondsArg(n, 0, 86400) },
		"garp_master_refresh_repeat": func(t *translator, r *router, n *Node) { r.garp.refreshRep, _ = t.intArg(n, 1, 100) },

		"virtual_ipaddress_excluded": (*translator).excludedAddrs,
		"virtual_routes":             (*translator).routes,
		"virtual_rules":              (*translator).rules,
		// keepalived reads both into the one source address of the
		// instance (vrrp_srcip_handler), the last one winning.
		"unicast_src_ip": (*translator).srcIP,
		"mcast_src_ip":   (*translator).srcIP,
		"track_file":     (*translator).trackFiles,
		"notify_master":  hook("notify_master"),
		"notify_backup":  hook("notify_backup"),
		"notify_fault":   hook("notify_fault"),
		"notify_stop":    hook("notify_stop"),
		"notify":         hook("notify_keepalived"),

		// Not in govrrp.
		"track_process":           notTranslated("govrrp does not track processes (docs/MIGRATING.md, \"Why track_process is not translated\")", "track the script that the vrrp_track_process's note writes under track.scripts, with its weight"),
		"track_bfd":               (*translator).trackBFD,
		"vmac_xmit_base":          notTranslated("not supported by govrrp", "govrrpd sends from the macvlan"),
		"use_vmac_addr":           notTranslated("not supported by govrrp", "remove it"),
		"v3_checksum_as_v2":       func(t *translator, r *router, n *Node) { r.plainChecksum = true },
		"old_unicast_checksum":    notTranslated("keepalived before 1.3.6's unicast checksum is not supported", "upgrade the old peers; govrrpd sends the pseudo-header checksum"),
		"skip_check_adv_addr":     notTranslated("govrrpd always accepts adverts whose address list differs (it logs them)", "nothing to do"),
		"garp_lower_prio_delay":   notTranslated("not supported by govrrp", "remove it"),
		"garp_lower_prio_repeat":  notTranslated("not supported by govrrp", "remove it"),
		"garp_extra_if":           notTranslated("not supported by govrrp", "use announce.refresh"),
		"down_timer_adverts":      notTranslated("govrrpd uses the RFC's Master_Down_Interval", "remove it"),
		"higher_prio_send_advert": notTranslated("not supported by govrrp", "remove it"),
		"kernel_rt_table":         notTranslated("not supported by govrrp", "remove it"),
		"linkbeat_use_polling":    ignored("govrrpd watches links by netlink"),
		"dont_track_primary":      notTranslated("govrrpd always tracks its interface", "remove it"),
		"native_ipv6":             ignored("the family comes from the addresses"),
		"smtp_alert":              notTranslated("e-mail alerts are not supported by govrrp", "send mail from a notify hook"),
		"debug":                   ignored("use govrrpd's log.level"),
		"notify_deleted":          notTranslated("govrrpd has no separate hook for a router removed by a reload", "it runs notify_stop then; check the script for that"),
		"notify_priority_changes": notTranslated("not supported by govrrp", "watch `govrrp watch` or the metrics"),
		"check_unicast_src":       ignored("govrrpd always accepts unicast adverts only from its unicast_peers"),
		"kernel_rx_buf_size":      ignored("govrrpd sizes its sockets' buffers itself"),
		"mcast_dst_ip":            notTranslated("govrrpd sends to the RFC's groups (224.0.0.18, ff02::12)", "use the RFC group on both routers, or unicast_peer"),
		"notify_master_rx_lower_pri": notTranslated("govrrpd has no hook for a Master hearing a lower priority",
			"follow `govrrp watch` for the router's events"),
		"promote_secondaries": notTranslated("govrrpd does not set the interface's promote_secondaries",
			"set net.ipv4.conf.IFACE.promote_secondaries=1 on the host (sysctl.d)"),
		"track_src_ip":          notTranslated("not supported by govrrp", "remove it; govrrpd goes to Fault while the interface has no address to send from"),
		"unicast_fault_no_peer": notTranslated("not supported by govrrp", "remove it"),
		"unicast_ttl": func(t *translator, r *router, n *Node) {
			lost := len(n.Args) != 1 || n.Args[0] != "255"
			t.note(n, "govrrpd sends unicast adverts with TTL/hop limit 255, as the RFC's multicast ones", "remove it", lost)
		},
		"use_ipvlan": notTranslated("ipvlan is not supported by govrrp", "use use_vmac (a macvlan)"),
		"vrf":        notTranslated("VRFs are not supported by govrrp", "run the router on an interface in the default VRF"),
	}
}

func (t *translator) instance(n *Node) *router {
	r := &router{pos: n.Pos, priority: defPriority, advert: 1, garp: t.g.garp, hooks: map[string][]string{}, hookNodes: map[string]*Node{}, hookAs: map[string]runAs{}}
	r.node = n
	if len(n.Args) > 0 {
		r.kaName = n.Args[0]
	}
	for _, c := range n.Children {
		h, ok := instanceKeys[c.Key]
		if !ok {
			t.note(c, "vrrp_instance keyword not translated (govrrp has no equivalent, or keepalived does not know it either)", "check the spelling; see docs/MIGRATING.md", true)
			continue
		}
		h(t, r, c)
	}
	if r.iface == "" {
		t.note(n, "no interface: the instance is not translated", "add interface IFNAME", true)
		r.skip = true
	}
	if r.vrid == 0 {
		t.note(n, "no virtual_router_id: the instance is not translated", "add virtual_router_id 1..255", true)
		r.skip = true
	}
	if len(r.vips) == 0 {
		t.note(n, "no virtual address: the instance is not translated", "add virtual_ipaddress { ADDR }", true)
		r.skip = true
	}
	if r.skip {
		return r
	}
	if t.zeroWeights[r.kaName] {
		t.syncUnweighted(r, n)
	}
	t.complete(r, n)
	return r
}

// complete applies keepalived 2.2.7's defaults and rules between keywords.
func (t *translator) complete(r *router, n *Node) {
	v6 := r.vips[0].p.Addr().Is6()
	if v6 && !r.vips[0].p.Addr().IsLinkLocalUnicast() && t.strictFor(r) {
		t.note(n, "an IPv6 address list that does not start with a link-local address, in strict mode: govrrpd's strict refuses it",
			"put a link-local virtual address first on both routers, or drop vrrp_strict/strict_mode", true)
		r.skip = true
		return
	}
	if v6 && !r.vips[0].p.Addr().IsLinkLocalUnicast() {
		// keepalived sends such a list as it is; so does govrrpd outside
		// strict (govrrp validate warns).
		t.note(n, "the IPv6 address list does not start with a link-local address: sent as it is, as keepalived does (govrrp validate warns)", "", false)
	}
	// The family is the first address's: keepalived drops the others.
	var keep []vip
	for _, a := range r.vips {
		if a.p.Addr().Is6() != v6 {
			t.notes = append(t.notes, Note{Pos: a.pos, Keyword: "virtual_ipaddress", Why: a.p.String() + " is of the other family than the instance: dropped, as keepalived does", Fix: "write a separate vrrp_instance for it"})
			continue
		}
		keep = append(keep, a)
	}
	r.vips = keep
	if r.unicastSrc.IsValid() && r.unicastSrc.Is6() != v6 {
		t.note(n, "unicast_src_ip "+r.unicastSrc.String()+" is of the other family: ignored", "", false)
		r.unicastSrc = netip.Addr{}
	}
	if src := r.unicastSrc; src.IsValid() && len(r.peers) == 0 {
		// Multicast: govrrpd's multicast_source, as keepalived sends
		// multicast from it; IPv6 adverts leave from a link-local
		// [5798-5.1.2.1-a], and a VMAC's from its own.
		switch {
		case v6 && !src.IsLinkLocalUnicast():
			t.note(n, "source address "+src.String()+" is not a link-local: govrrpd sends IPv6 multicast adverts from the interface's link-local (RFC 5798 §5.1.2.1)", "remove it, or write one of the interface's fe80:: addresses (on the peer too, if it lists this router by address)", true)
			r.unicastSrc = netip.Addr{}
		case v6 && r.vmac:
			t.note(n, "source address with use_vmac on IPv6: govrrpd sends from the VMAC's own link-local", "remove it", true)
			r.unicastSrc = netip.Addr{}
		}
	}
	t.implicitTracking(r)
	var peers []netip.Addr
	for _, a := range r.peers {
		if a.Is6() != v6 {
			t.note(n, "unicast_peer "+a.String()+" is of the other family: dropped", "", false)
			continue
		}
		peers = append(peers, a)
	}
	r.peers = peers
	if r.version == 0 {
		r.version = t.g.version
	}
	if v6 && r.version == 2 {
		if r.versionPos.Line != 0 {
			t.notes = append(t.notes, Note{Pos: r.versionPos, Keyword: "version", Why: "IPv6 runs VRRPv3, as keepalived does", Fix: ""})
		}
		r.version = 3
	}
	r.advertDur = t.roundAdvert(r)
	t.strictMode(r, n)
	if r.stateMaster && !r.prioritySet {
		r.priority = 255
		r.impliedOwner = true
	}
	if r.stateMaster && (r.nopreempt || r.preemptDelay > 0) {
		t.notes = append(t.notes, Note{Pos: r.preemptPos, Keyword: "nopreempt/preempt_delay", Why: "ignored with state MASTER, as keepalived does", Fix: "write state BACKUP to keep it"})
		r.nopreempt, r.preemptDelay = false, 0
	}
	if r.authType != "" && r.version == 3 {
		t.notes = append(t.notes, Note{Pos: r.authPos, Keyword: "authentication", Why: "VRRPv3 has no authentication: ignored, as keepalived does", Fix: ""})
		r.authType = ""
	}
	// Tracking: keepalived adds a positive weight while the object is up;
	// govrrp adds weights while it is down. So the base priority carries
	// the positive weights and each becomes negative. An owner (255)
	// ignores weights in both.
	if g := r.garp; g.refresh > 0 && g.refreshRep != g.repeat {
		t.notes = append(t.notes, Note{Pos: r.pos, Keyword: "garp_master_refresh_repeat",
			Why: fmt.Sprintf("govrrp repeats the whole burst (%d per address) at each refresh, not %d", g.repeat, g.refreshRep),
			Fix: "set garp_master_repeat and garp_master_refresh_repeat equal if that matters", Lost: true})
	}
	if r.impliedOwner {
		// keepalived runs it at 255 without owning the addresses: it
		// becomes Master at once and ignores weights. govrrpd gives 255
		// only to the owner, so 254 is the nearest it runs.
		r.priority = 254
		t.note(n, "state MASTER without a priority: keepalived runs it at 255, becoming Master at once without owning the addresses; govrrpd gives 255 only to the address owner, so it is written as 254, which becomes Master after Master_Down_Interval (3 × advert_int and the skew) unless it hears a Master, and advertises 254",
			"write priority 254 in keepalived's configuration too (or 255 here only if the addresses are this box's own)", true)
		if dropWeights(r) {
			t.note(n, "tracking weights are ignored at priority 255, as keepalived does: dropped", "", false)
		}
		return
	}
	if r.priority == 255 {
		t.note(n, "priority 255: govrrpd runs it only as the address owner and refuses to start where the interface lacks the virtual addresses",
			"keep 255 only if they are this box's own addresses, else write priority 254", true)
		if dropWeights(r) {
			t.note(n, "tracking weights are ignored at priority 255, as keepalived does: dropped", "", false)
		}
		return
	}
	// track files are V*weight in both: left as they are.
	r.priority += raisePositive(r.trackIfs, r.trackScripts)
	r.priority += bfdBump(r.trackBFD)
	if r.priority > 254 {
		// Settled by capPriorities once the sync groups' own tracking,
		// which adds to the members' priorities, is read.
		r.overCap = n
	}
}

// groupPositive carries a sync group's positive tracking weights in its
// members' priorities, as complete does for an instance's own: keepalived
// adds W to every member while the object is healthy, govrrpd adds a
// group's weight to every member while it fails. For track_bfd, keepalived
// adds the group's sessions to every member with the group's weight (vrrp.c
// add_vrrp_to_track_bfd), converted as an instance's (bfdBump).
// groupOwners has cleared the weights of a group with an address owner.
func (t *translator) groupPositive(routers []*router) {
	for _, g := range t.groups {
		if g.own == nil {
			continue
		}
		raise := raisePositive(g.own.trackIfs, g.own.trackScripts) + bfdBump(g.own.trackBFD)
		raiseMembers(g.members, routers, raise)
	}
}

// raisePositive turns the positive weights of the lists into negative
// ones (keepalived adds W while healthy, govrrp −W while failing) and
// returns their sum, which the base priority carries.
func raisePositive(lists ...[]trackItem) int {
	raise := 0
	for _, l := range lists {
		for i := range l {
			if w := l[i].weight; w > 0 {
				raise += w
				l[i].weight, l[i].raised = -w, true
			}
		}
	}
	return raise
}

// raiseMembers adds a group's raise to its written members' priorities,
// as keepalived adds the group's tracking to each; an owner (255) ignores
// weights. A priority above 254 is settled by capPriorities.
func raiseMembers(members []string, routers []*router, raise int) {
	if raise == 0 {
		return
	}
	for _, m := range members {
		for _, r := range routers {
			if r.skip || r.kaName != m || r.priority == 255 {
				continue
			}
			r.priority += raise
			if r.priority > 254 && r.overCap == nil {
				r.overCap = r.node
			}
		}
	}
}

// capPriorities settles the routers whose priority plus the positive
// tracking weights is above 254, where keepalived caps the effective
// priority. With a single weighted object in all of the router's tracking
// (its group's included) that is exact: 254 while it is healthy, the
// configured priority P while it fails, so priority 254 and weight P−254.
// With more, the cap does not add up weight by weight, and a note says so.
func (t *translator) capPriorities(routers []*router) {
	for _, r := range routers {
		n := r.overCap
		if n == nil || r.skip {
			continue
		}
		// The weighted objects, each with how to drop it; nil for a
		// group's, which are not this router's to change.
		type ref struct {
			w    *int
			drop func()
		}
		var weighted []*ref
		for _, l := range []*[]trackItem{&r.trackIfs, &r.trackScripts, &r.trackFiles} {
			for i := range *l {
				if (*l)[i].weight != 0 {
					weighted = append(weighted, &ref{&(*l)[i].weight, func() { *l = slices.Delete(*l, i, i+1) }})
				}
			}
		}
		for i := range r.trackBFD {
			if r.trackBFD[i].weight != 0 {
				weighted = append(weighted, &ref{&r.trackBFD[i].weight, func() { r.trackBFD = slices.Delete(r.trackBFD, i, i+1) }})
			}
		}
		for _, g := range t.groups {
			if g.own == nil || !slices.Contains(g.members, r.kaName) {
				continue
			}
			for _, l := range [][]trackItem{g.own.trackIfs, g.own.trackScripts, g.own.trackFiles} {
				for _, it := range l {
					if it.weight != 0 {
						weighted = append(weighted, nil)
					}
				}
			}
			for _, it := range g.own.trackBFD {
				if it.weight != 0 {
					weighted = append(weighted, nil)
				}
			}
		}
		if len(weighted) != 1 || weighted[0] == nil {
			t.note(n, fmt.Sprintf("priority plus the positive tracking weights is %d, above 254", r.priority),
				"keepalived caps the effective priority at 254, which does not add up weight by weight in govrrp; lower the priority or the weights to add up to 254 at most", true)
			r.priority = 254
			continue
		}
		w := weighted[0].w
		pos := -*w               // keepalived's positive weight
		base := r.priority - pos // the configured priority
		r.priority, *w = 254, base-254
		if *w == 0 {
			// At 254 the weight changes nothing in keepalived; weight 0
			// would mean Fault in govrrp.
			weighted[0].drop()
			t.note(n, "priority 254 plus a positive tracking weight stays 254, where keepalived caps it: the weight changes nothing, so its tracking is left out", "", false)
			continue
		}
		t.note(n, fmt.Sprintf("priority %d plus the positive tracking weight %d is above 254, where keepalived caps it: written as priority 254 and weight %d, the same priorities (254 while healthy, %d while failing)", base, pos, *w, base),
			"", false)
	}
}

// scriptInit settles how each script starts. keepalived starts a script
// without init_fail in its INIT state: the first result decides at once
// (rise and fall count from then on); until it comes, an instance tracking
// it with weight 0 waits in INIT, and a weighted tracking adds nothing to
// the configured priority (vrrp_track.c, initialise_track_script_state).
// That is govrrpd's init: unknown, except for a positive weight, which the
// import carries in the priority: adding nothing there is the failed state,
// so a script only tracked by positive weights with rise 1 is exactly
// govrrpd's default init: failed. init_fail is govrrpd's default.
func (t *translator) scriptInit(routers []*router) {
	raised, other := map[string]bool{}, map[string]bool{}
	for _, r := range t.withGroups(routers) {
		if r.skip {
			continue
		}
		for _, it := range r.trackScripts {
			if it.raised {
				raised[it.name] = true
			} else {
				other[it.name] = true
			}
		}
	}
	for _, k := range t.order {
		s := t.scripts[k]
		if s.initFail || s.bad || !raised[s.name] && !other[s.name] {
			continue
		}
		if raised[s.name] && !other[s.name] && s.rise == 1 {
			continue
		}
		s.initUnknown = true
		if raised[s.name] {
			t.notes = append(t.notes, Note{Pos: s.pos, Keyword: "vrrp_script",
				Why: "written with init: unknown, as keepalived starts it without init_fail; but until its first result govrrpd runs a router tracking it with a positive weight at priority + weight, where keepalived runs it at its priority",
				Fix: "for an exact start write init_fail (both then start it failed, needing rise successes)", Lost: true})
		}
	}
}

// dropWeights removes the weighted tracking of an address owner: keepalived
// ignores weights at priority 255.
func dropWeights(r *router) bool {
	dropped := false
	f := func(l []trackItem) []trackItem {
		var out []trackItem
		for _, it := range l {
			if it.weight == 0 {
				out = append(out, it)
			} else {
				dropped = true
			}
		}
		return out
	}
	r.trackIfs, r.trackScripts, r.trackFiles = f(r.trackIfs), f(r.trackScripts), f(r.trackFiles)
	var bfds []bfdTrack
	for _, it := range r.trackBFD {
		if it.weight == 0 {
			bfds = append(bfds, it)
		} else {
			dropped = true
		}
	}
	r.trackBFD = bfds
	return dropped
}

func (t *translator) vips(r *router, n *Node) {
	r.vips = append(r.vips, t.addrList(n)...)
}

func (t *translator) excludedAddrs(r *router, n *Node) {
	r.excluded = append(r.excluded, t.addrList(n)...)
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

func (t *translator) peers(r *router, n *Node) {
	for _, c := range n.Children {
		a, err := netip.ParseAddr(c.Key)
		if err != nil || a.Zone() != "" {
			t.note(c, "not an address", "write one peer address per line", true)
			continue
		}
		if len(c.Args) > 0 {
			t.note(c, "min_ttl/max_ttl are not supported by govrrp", "remove them", true)
		}
		r.peers = append(r.peers, a)
	}
}

func (t *translator) auth(r *router, n *Node) {
	r.authPos = n.Pos
	for _, c := range n.Children {
		switch c.Key {
		case "auth_type":
			switch strings.ToUpper(t.strArg(c)) {
			case "PASS":
				r.authType = "pass"
			case "AH":
				t.note(c, "AH authentication is not supported by govrrp", "use PASS on both routers, or none", true)
			default:
				t.note(c, "unknown authentication type", "write PASS", true)
			}
		case "auth_pass":
			p := t.strArg(c)
			if len(p) > 8 {
				t.note(c, "truncated to 8 characters, as keepalived does", "", false)
				p = p[:8]
			}
			r.authPass = p
		default:
			t.note(c, "unknown authentication setting", "remove it", true)
		}
	}
	if r.authType == "pass" && r.authPass == "" {
		t.note(n, "PASS without auth_pass", "add auth_pass", true)
		r.authType = ""
	}
}

// weightArg reads "weight N [reverse]" after a tracked object's name.
func (t *translator) weightArg(c *Node, def int) (int, bool) {
	w := def
	for i := 0; i < len(c.Args); i++ {
		switch c.Args[i] {
		case "weight":
			if i+1 >= len(c.Args) {
				t.note(c, "weight without a value", "write weight N", true)
				return 0, false
			}
			i++
			v, err := strconv.Atoi(c.Args[i])
			if err != nil || v < -254 || v > 254 {
				t.note(c, "weight is not an integer in -254..254", "write weight N", true)
				return 0, false
			}
			w = v
		case "reverse":
			t.note(c, "reverse is not supported by govrrp", "invert the check's result", true)
			return 0, false
		case "noreverse", "no_reverse":
		default:
			t.note(c, "unknown option "+c.Args[i], "remove it", true)
		}
	}
	return w, true
}

func (t *translator) trackInterfaces(r *router, n *Node) {
	for _, c := range n.Children {
		if w, ok := t.weightArg(c, 0); ok {
			r.trackIfs = append(r.trackIfs, trackItem{name: c.Key, weight: w})
		}
	}
}

func (t *translator) trackScripts(r *router, n *Node) {
	for _, c := range n.Children {
		s := t.scripts[c.Key]
		if s == nil {
			t.note(c, "no vrrp_script of this name before this instance: ignored, as keepalived does", "define the vrrp_script section before the instance", false)
			continue
		}
		if s.bad {
			t.note(c, "its vrrp_script could not be translated: tracking dropped", "see the vrrp_script's note", true)
			continue
		}
		if w, ok := t.weightArg(c, s.weight); ok {
			s.used = true
			r.trackScripts = append(r.trackScripts, trackItem{name: s.name, weight: w})
		}
	}
}

func (t *translator) strArg(n *Node) string {
	if len(n.Args) == 0 {
		t.note(n, "no value", "write the value after the keyword", true)
		return ""
	}
	return n.Args[0]
}

func (t *translator) intArg(n *Node, lo, hi int) (int, bool) {
	if len(n.Args) == 0 {
		t.note(n, "no value", fmt.Sprintf("write an integer in %d..%d", lo, hi), true)
		return 0, false
	}
	v, err := strconv.Atoi(n.Args[0])
	if err != nil || v < lo || v > hi {
		t.note(n, n.Args[0]+" is not an integer in range", fmt.Sprintf("write an integer in %d..%d", lo, hi), true)
		return 0, false
	}
	return v, true
}

func (t *translator) secondsArg(n *Node, lo, hi float64) (time.Duration, bool) {
	if len(n.Args) == 0 {
		t.note(n, "no value", "write a number of seconds", true)
		return 0, false
	}
	v, err := strconv.ParseFloat(n.Args[0], 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		t.note(n, n.Args[0]+" is not a number of seconds in range", fmt.Sprintf("write seconds in %g..%g", lo, hi), true)
		return 0, false
	}
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond), true
}

func boolArg(n *Node) bool {
	if len(n.Args) == 0 {
		return true
	}
	switch strings.ToLower(n.Args[0]) {
	case "off", "false", "no", "0":
		return false
	}
	return true
}

// keyName makes a keepalived name usable as a govrrp name or key.
func keyName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '.' || c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "vr"
	}
	return string(b)
}

// roundAdvert rounds advert_int as keepalived does: VRRPv2 to whole seconds
// (at least 1), VRRPv3 to centiseconds (10ms..40.95s).
func (t *translator) roundAdvert(r *router) time.Duration {
	var d time.Duration
	if r.version == 2 {
		s := math.Round(r.advert)
		if s < 1 {
			s = 1
		}
		d = time.Duration(s) * time.Second
	} else {
		cs := math.Round(r.advert * 100)
		cs = math.Max(1, math.Min(cs, 4095))
		d = time.Duration(cs) * 10 * time.Millisecond
	}
	if r.advertSet && math.Abs(d.Seconds()-r.advert) > 1e-9 {
		t.notes = append(t.notes, Note{Pos: r.advertPos, Keyword: "advert_int",
			Why: fmt.Sprintf("%g s is rounded to %s for VRRPv%d, as keepalived does", r.advert, d, r.version)})
	}
	return d
}

// Outcome sums up an import for the exit status.
type Outcome int

const (
	Complete Outcome = iota // everything translated
	Partial                 // YAML written, something left out
	Nothing                 // no router could be translated
)

// Outcome tells how complete the translation is.
func (r *Result) Outcome() Outcome {
	switch {
	case r.Routers == 0:
		return Nothing
	case r.Lost():
		return Partial
	}
	return Complete
}

// valid renders the routers and holds the YAML to govrrpd's own checks
// (config.Parse, as govrrp validate runs them): a router or script that
// govrrpd would refuse is left out with a note saying why, and the rest
// rendered again, so what is written always loads.
func (t *translator) valid(routers []*router, source, configID string) ([]byte, int) {
	for try := 0; try <= len(routers)+len(t.scripts)+1; try++ {
		n := 0
		for _, r := range routers {
			if !r.skip {
				n++
			}
		}
		if n == 0 {
			return nil, 0
		}
		// Checked without the scripts' users and groups: config.Parse looks
		// them up on this host, and the import may run elsewhere than the
		// target (govrrp validate there checks them).
		t.noUsers = true
		yaml, spans := t.render(routers, source, configID)
		t.noUsers = false
		_, err := config.Parse("imported.yaml", yaml)
		if err == nil {
			yaml, _ = t.render(routers, source, configID)
			return yaml, n
		}
		var errs *config.Errors
		if !errors.As(err, &errs) {
			break
		}
		dropped := false
		for _, e := range errs.List {
			for _, sp := range spans {
				if e.Pos.Line < sp.from || e.Pos.Line > sp.to {
					continue
				}
				why := e.What
				if e.Fix != "" {
					why += "; " + e.Fix
				}
				switch {
				case sp.r != nil && !sp.r.skip:
					sp.r.skip, dropped = true, true
					t.notes = append(t.notes, Note{Pos: sp.r.pos, Keyword: "vrrp_instance", Why: "govrrpd would refuse the translation, so it is left out: " + why, Fix: "fix the instance and import again", Lost: true})
				case sp.s != nil && !sp.s.bad:
					sp.s.bad, dropped = true, true
					t.notes = append(t.notes, Note{Pos: sp.s.pos, Keyword: "vrrp_script", Why: "govrrpd would refuse the translation, so it and its tracking are left out: " + why, Fix: "fix the script and import again", Lost: true})
					for _, r := range routers {
						r.trackScripts = without(r.trackScripts, sp.s.name)
					}
				}
			}
		}
		if !dropped {
			break
		}
	}
	t.notes = append(t.notes, Note{Pos: Pos{File: source, Line: 1}, Keyword: "import", Why: "the translation does not pass govrrpd's checks (a bug of the importer)", Fix: "report it with the configuration", Lost: true})
	return nil, 0
}

func without(l []trackItem, name string) []trackItem {
	var out []trackItem
	for _, it := range l {
		if it.name != name {
			out = append(out, it)
		}
	}
	return out
}

// strictMode settles strict, accept and the lower-priority answer as
// keepalived 2.2.7 does: vrrp_strict or strict_mode resets preempt_delay and
// VRRPv2 accept (with a warning), defaults accept to the owner only, and
// stops answering lower priorities.
func (t *translator) strictMode(r *router, n *Node) {
	strict := t.g.strict
	if r.strict != nil {
		strict = *r.strict
	}
	r.strictEff = strict
	lower := strict
	if t.g.lowerNoAdvert != nil {
		lower = *t.g.lowerNoAdvert
	}
	if r.lowerNoAdv != nil {
		lower = *r.lowerNoAdv
	}
	r.replyLower = !lower
	prio := r.priority
	if r.stateMaster && !r.prioritySet {
		prio = 255
	}
	switch {
	case r.accept != nil:
		r.acceptEff = *r.accept
	case strict:
		r.acceptEff = prio == 255
	default:
		r.acceptEff = true
	}
	if !strict {
		return
	}
	if r.preemptDelay > 0 {
		t.notes = append(t.notes, Note{Pos: r.preemptPos, Keyword: "preempt_delay", Why: "reset by strict mode, as keepalived does"})
		r.preemptDelay = 0
	}
	if r.version == 2 && r.acceptEff && prio != 255 {
		t.note(n, "accept is reset for VRRPv2 in strict mode, as keepalived does", "", false)
		r.acceptEff = false
	}
}

// syncGroup records a vrrp_sync_group for sync_groups, and the members
// whose tracking keepalived makes unweighted.
func (t *translator) syncGroup(n *Node) {
	weighted := false
	var members []string
	for _, c := range n.Children {
		switch c.Key {
		case "sync_group_tracking_weight", "global_tracking":
			// keepalived reads the deprecated global_tracking as
			// sync_group_tracking_weight.
			weighted = true
		case "group":
			for _, m := range c.Children {
				for _, name := range append([]string{m.Key}, m.Args...) {
					if t.inGroup[name] {
						// keepalived ignores a second group of an instance.
						t.note(m, "instance "+name+" is already in another vrrp_sync_group; keepalived ignores this membership, and so does the import", "list it in one group", false)
						continue
					}
					t.inGroup[name] = true
					members = append(members, name)
				}
			}
		}
	}
	for _, c := range n.Children {
		if c.Key != "track_bfd" {
			continue
		}
		for _, b := range c.Children {
			for _, m := range members {
				if t.groupBFD == nil {
					t.groupBFD = map[string]map[string]bool{}
				}
				if t.groupBFD[m] == nil {
					t.groupBFD[m] = map[string]bool{}
				}
				t.groupBFD[m][b.Key] = true
			}
		}
	}
	name := "group"
	if len(n.Args) > 0 {
		name = n.Args[0]
	}
	t.groups = append(t.groups, syncGroup{name: keyName(name), pos: n.Pos, members: members, weighted: weighted, node: n})
	if !weighted {
		for _, m := range members {
			t.zeroWeights[m] = true
		}
	}
}

// groupKeys are a vrrp_sync_group's own keywords besides group and
// sync_group_tracking_weight: the instance's handlers, since keepalived
// gives them the same syntax, and govrrpd's sync_groups the same keys.
var groupKeys = map[string]instKey{
	"track_interface": (*translator).trackInterfaces,
	"track_script":    (*translator).trackScripts,
	"track_file":      (*translator).trackFiles,
	"notify_master":   hook("notify_master"),
	"notify_backup":   hook("notify_backup"),
	"notify_fault":    hook("notify_fault"),
	"notify_stop":     hook("notify_stop"),
	// keepalived calls it with GROUP NAME STATE PRIORITY; govrrpd's
	// notify_keepalived of a group passes the same.
	"notify":                  hook("notify_keepalived"),
	"track_process":           notTranslated("govrrp does not track processes (docs/MIGRATING.md, \"Why track_process is not translated\")", "track the script that the vrrp_track_process's note writes under the group's track.scripts"),
	"track_bfd":               (*translator).trackBFD,
	"notify_deleted":          notTranslated("keepalived never calls it for a group (DELETED applies to instances)", "remove it"),
	"notify_priority_changes": notTranslated("not supported by govrrp", "watch `govrrp watch` or the metrics"),
	"smtp_alert":              notTranslated("e-mail alerts are not supported by govrrp", "send mail from a notify hook"),
}

// groupOwn reads a vrrp_sync_group's tracking and hooks. keepalived 2.2.7
// keeps the weights of the group's own tracked objects whether or not
// sync_group_tracking_weight is set (that only spares the members' own);
// groupOwners clears them when a member is the address owner.
func (t *translator) groupOwn(n *Node) {
	var g *syncGroup
	for i := range t.groups {
		if t.groups[i].node == n {
			g = &t.groups[i]
		}
	}
	if g == nil {
		return
	}
	name := "group"
	if len(n.Args) > 0 {
		name = n.Args[0]
	}
	r := &router{pos: n.Pos, kaName: name, hooks: map[string][]string{}, hookNodes: map[string]*Node{}, hookAs: map[string]runAs{}, group: true}
	for _, c := range n.Children {
		switch c.Key {
		case "group", "sync_group_tracking_weight":
			continue
		case "global_tracking":
			t.note(c, "deprecated in keepalived, which reads it as sync_group_tracking_weight: the members' own weights are kept", "write sync_group_tracking_weight", false)
			continue
		}
		h, ok := groupKeys[c.Key]
		if !ok {
			t.note(c, "vrrp_sync_group keyword not translated (govrrp has no equivalent, or keepalived does not know it either)", "check the spelling; see docs/MIGRATING.md", true)
			continue
		}
		h(t, r, c)
	}
	g.own = r
}

// syncUnweighted does what keepalived 2.2.7 does to the tracking of a
// member of a vrrp_sync_group without sync_group_tracking_weight
// (vrrp_complete_instance): interfaces become unweighted (Fault while
// down); a weighted script is no longer tracked; a file keeps being
// tracked unweighted only with the default weight 1, and is no longer
// tracked with another.
func (t *translator) syncUnweighted(r *router, n *Node) {
	zeroed, dropped := false, false
	for i := range r.trackIfs {
		zeroed = zeroed || r.trackIfs[i].weight != 0
		r.trackIfs[i].weight = 0
	}
	var scripts []trackItem
	for _, it := range r.trackScripts {
		if it.weight != 0 {
			// A script no one tracks any more is not written:
			// keepalived does not run it either.
			dropped, t.unusedScripts = true, true
			continue
		}
		scripts = append(scripts, it)
	}
	r.trackScripts = scripts
	var files []trackItem
	for _, it := range r.trackFiles {
		switch it.weight {
		case 0:
		case 1:
			zeroed = true
			it.weight = 0
		default:
			dropped = true
			continue
		}
		files = append(files, it)
	}
	r.trackFiles = files
	// Weighted BFD sessions too (vrrp_complete_instance ignores them).
	var bfds []bfdTrack
	for _, it := range r.trackBFD {
		if it.weight != 0 {
			dropped = true
			continue
		}
		bfds = append(bfds, it)
	}
	r.trackBFD = bfds
	if zeroed {
		t.note(n, "tracked interfaces, and files of weight 1, set to weight 0 (Fault while failing): keepalived does so in a vrrp_sync_group without sync_group_tracking_weight", "", false)
	}
	if dropped {
		t.note(n, "weighted scripts and BFD sessions, and files of a weight other than 1, are not tracked: keepalived ignores them in a vrrp_sync_group without sync_group_tracking_weight", "write weight 0 to have them put the group in Fault, or add sync_group_tracking_weight", false)
	}
}

// recountScripts marks used the scripts that a router or a group still
// tracks.
func (t *translator) recountScripts(routers []*router) {
	for _, s := range t.scripts {
		s.used = false
	}
	for _, r := range t.withGroups(routers) {
		for _, it := range r.trackScripts {
			for _, s := range t.scripts {
				if s.name == it.name {
					s.used = true
				}
			}
		}
	}
}

// groupOwners sets a group's tracking weights to 0 (Fault while failing)
// when a member is the address owner (priority 255), as keepalived does.
func (t *translator) groupOwners(routers []*router) {
	owner := map[string]bool{}
	for _, r := range routers {
		owner[r.kaName] = !r.skip && (r.priority == 255 || r.impliedOwner)
	}
	for _, g := range t.groups {
		has := false
		for _, m := range g.members {
			has = has || owner[m]
		}
		if g.own == nil || !has {
			continue
		}
		zeroed := false
		for _, l := range [][]trackItem{g.own.trackIfs, g.own.trackScripts, g.own.trackFiles} {
			for i := range l {
				zeroed = zeroed || l[i].weight != 0
				l[i].weight = 0
			}
		}
		for i := range g.own.trackBFD {
			zeroed = zeroed || g.own.trackBFD[i].weight != 0
			g.own.trackBFD[i].weight = 0
		}
		if zeroed {
			t.note(g.node, "the group's tracking weights set to 0 (Fault while failing): a member is the address owner (priority 255), and keepalived does so", "", false)
		}
	}
}

// withGroups is the sync groups' own tracking and hooks (each held as a
// router) followed by the instances: everything that tracks a script or
// has a notify script.
func (t *translator) withGroups(routers []*router) []*router {
	var all []*router
	for _, g := range t.groups {
		if g.own != nil {
			all = append(all, g.own)
		}
	}
	return append(all, routers...)
}

// scriptUser applies global_defs' script_user: the vrrp_scripts without a
// user of their own run as it, and so do the notify scripts (notifyUser).
func (t *translator) scriptUser(routers []*router) {
	if t.g.scriptUserNode != nil {
		for _, s := range t.scripts {
			if s.user == "" {
				s.user, s.group = t.g.scriptUser, t.g.scriptGroup
			}
		}
	}
	t.notifyUser(routers)
}

// runAs is who runs a notify script: its own USER [GROUP], else
// script_user; "" is govrrpd's own user (root).
type runAs struct{ user, group string }

// notifyUser settles govrrpd's notify_user and notify_group. keepalived runs
// each notify script as its own USER [GROUP], else as script_user; govrrpd
// runs every hook as one user. When the notify scripts' users agree that is
// exact; otherwise they run as root, with a note for each that did not.
func (t *translator) notifyUser(routers []*router) {
	def := runAs{t.g.scriptUser, t.g.scriptGroup}
	type hookAt struct {
		n  *Node
		as runAs
	}
	var all []hookAt
	for _, r := range t.withGroups(routers) {
		if r.skip {
			continue
		}
		for _, k := range hookKeys {
			if r.hooks[k] == nil {
				continue
			}
			as, n := def, r.hookNodes[k]
			if own, ok := r.hookAs[k]; ok {
				as = own
			}
			if as.user == "root" && (as.group == "" || as.group == "root") {
				as = runAs{}
			}
			all = append(all, hookAt{n, as})
		}
	}
	if len(all) == 0 {
		return
	}
	agree := true
	for _, h := range all {
		agree = agree && h.as == all[0].as
	}
	if agree {
		t.notifyAs = all[0].as
		return
	}
	// Root can drop privileges in a script; no other user can take them.
	for _, h := range all {
		if h.as.user != "" {
			who := h.as.user
			if h.as.group != "" {
				who += ":" + h.as.group
			}
			t.note(h.n, "keepalived runs this notify script as "+who+"; govrrpd runs every hook as one user (notify_user), and the notify scripts have several: they run as root",
				"drop privileges in the script (setpriv/runuser), or give every notify script the same user", true)
		}
	}
}
