package config

import "strings"

// Key documents one configuration key. Schema is the single place where keys,
// defaults and ranges are written down: the parser refuses any key that is
// not in it, and docs/CONFIG.md is checked against it by a test, so the
// reference cannot drift from the code.
type Key struct {
	Path    string // dotted, with [] for list elements and * for map keys
	Type    string
	Default string // "" when the key is required or has no default
	Range   string
	Doc     string
}

// Schema lists every configuration key.
var Schema = []Key{
	{"control_socket", "path", DefaultControlSocket, "", "Unix socket of the control API (mode 0600)."},
	{"control_group", "group name", "", "an existing group", "Group given read/write access to the control socket (mode 0660)."},
	{"metrics_listen", "host:port", "", "IP address (or empty, or localhost) : 1..65535", "Serve Prometheus metrics at http://ADDR/metrics; off when absent."},
	{"snmp_agentx", "path | tcp:IP:PORT", "", "an absolute path, or tcp: and an IP address and port", "Serve VRRPv3-MIB (RFC 6527) and VRRP-MIB (RFC 2787) read-only as an AgentX subagent of net-snmp's snmpd through its AgentX socket (snmpd's agentXSocket; its default is /var/agentx/master); off when absent. See docs/MONITORING.md."},
	{"notify_timeout", "duration", "30s", "1s..10m", "A notify hook still running after this is killed (with its process group)."},
	{"notify_user", "user name", "", "an existing user", "Run every notify hook (routers' and sync groups', all forms) as this user, with its primary group unless notify_group is set, and no supplementary groups: keepalived's script_user, or a notify script's USER [GROUP], for its notify scripts. Set at start: a reload lists a change as skipped (govrrp reload exits 3)."},
	{"notify_group", "group name", "", "an existing group", "Run every notify hook with this group. Set at start, as notify_user."},
	{"log", "mapping", "", "", "Logging."},
	{"log.format", "string", "text", "text | json", "Log format (log/slog). Set at start: a reload lists a change as skipped (govrrp reload exits 3)."},
	{"log.level", "string", "info", "debug | info | warn | error", "Log level. `govrrp log-level` changes it at run time; a reload applies this key only when it changed in the file, and keeps the run-time level otherwise."},
	{"routers", "list", "", "at least one", "Virtual routers."},
	{"routers[].name", "string", "<interface>-<vrid>-<family>", "letters, digits, . _ -", "Unique name, used by the CLI, the API, logs and metrics."},
	{"routers[].interface", "string", "", "required", "Interface the virtual router runs on."},
	{"routers[].vrid", "integer", "", "1..255, required", "Virtual router ID; unique per interface and family."},
	{"routers[].version", "integer", "3", "2 | 3", "VRRP version; IPv6 requires 3."},
	{"routers[].v2_compat", "bool", "false", "version 3, IPv4, whole-second advert_interval", "VRRPv2/v3 interoperation (RFC 5798 §8.4), only while migrating a VRRPv2 LAN: also send a VRRPv2 copy of every advert and hear VRRPv2 routers (docs/INTEROP.md)."},
	{"routers[].priority", "integer", "100", "1..255", "255 only when the box owns all addresses (they are real addresses of the interface)."},
	{"routers[].advert_interval", "duration", "1s", "v3: 10ms..40.95s in 10ms steps; v2: 1s..255s whole seconds", "Advertisement_Interval."},
	{"routers[].preempt", "bool", "true", "", "Preempt_Mode: a higher-priority backup takes over from a lower-priority master."},
	{"routers[].preempt_delay", "duration", "0s", "0s..1h", "When a lower-priority master is first heard (at startup or later), wait this long before preempting it; a higher-priority advert or becoming master ends the wait (keepalived preempt_delay)."},
	{"routers[].accept", "bool", "false", "", "Accept_Mode: true lets a non-owner master accept packets addressed to the virtual addresses (serve on them, answer pings, use them as a source). false (the RFC's default) drops them with an nftables table (inet govrrp), except ARP, NS/NA, VRRP and the box's own traffic to them, and installs IPv6 VIPs deprecated so the box never uses them as a source (an IPv4 VIP is none only as a secondary: validate warns otherwise); keepalived and FRR accept by default. An owner always accepts. Allowed with version 2 too, an extension keepalived also has."},
	{"routers[].vmac", "bool", "false", "", "Use the virtual MAC 00:00:5e:00:01:VRID (IPv4) / 00:00:5e:00:02:VRID (IPv6) on a macvlan."},
	{"routers[].checksum", "string", "pseudo-header", "pseudo-header | plain", "VRRPv3 IPv4 checksum form sent (both are accepted): pseudo-header for keepalived/FRR, plain for RFC 9568/Cisco/Juniper."},
	{"routers[].unicast_peers", "list of addresses", "", "same family as addresses", "Send adverts to these peers instead of the multicast group, and accept only theirs."},
	{"routers[].multicast_source", "address", "", "same family as addresses; one of the interface's addresses (IPv6: a link-local); not with unicast_peers; not a virtual address; IPv6 not with vmac", "Source of the multicast adverts (keepalived mcast_src_ip): the router's primary address, which the RFC lets it choose among the interface's, used as the adverts' source and in the tie-break between equal priorities; it does not follow the interface's address changes. Default: the interface's primary IPv4 address or IPv6 link-local. validate warns about an address the interface does not have (it may be added later) or a missing interface; until the interface has it the router waits in Fault (source-missing), also when it is removed while govrrpd runs."},
	{"routers[].unicast_source", "address", "", "same family as addresses; needs unicast_peers; not a virtual address", "Source of the unicast adverts (keepalived unicast_src_ip), IPv6 ones too instead of the link-local; peers list it in their unicast_peers. Default: the interface's primary IPv4 address or IPv6 link-local. validate warns when the interface lacks it (it may be added later); until the interface has it the router waits in Fault (source-missing), also when it is removed while govrrpd runs."},
	{"routers[].auth", "mapping", "", "", "VRRPv2 authentication (RFC 2338); VRRPv2 only."},
	{"routers[].auth.type", "string", "none", "none | pass", "pass: 8-byte simple password as keepalived auth_type PASS. AH is not supported."},
	{"routers[].auth.password", "string", "", "1..8 bytes", "The password for type pass."},
	{"routers[].addresses", "list of address[/prefix] or mappings", "", "1..255, one family, required; none the host has (unless priority 255), none in another router; the advert fits the MTU", "Virtual addresses; an IPv6 list starts with a link-local address (outside `strict` a list without one first is a warning, sent as written). Without /prefix: /32 or /128. An item may be a mapping {address, dev, label, scope} to install the address on another device (still advertised), as keepalived's `dev`, `label` and `scope`."},
	{"routers[].addresses[].address", "address[/prefix]", "", "required", "The address."},
	{"routers[].addresses[].dev", "string", "the router's interface", "an interface", "Device the address is installed on, and announced from (gratuitous ARP / NA with its MAC), while Master. Changing it restarts the router."},
	{"routers[].addresses[].label", "string", "", "IPv4 only; starts with the device's name; at most 15 characters", "Address label (ip address ... label)."},
	{"routers[].addresses[].scope", "string", "global", "global | site | link | host", "Address scope (IPv4: the kernel gives an address in the subnet of another the scope of that one; IPv6 addresses keep their own)."},
	{"routers[].excluded_addresses", "list, items as in addresses", "", "at most 255; any family; none the host has, none in another router", "Installed and removed with the virtual addresses while Master, never advertised nor announced, and not dropped by accept: false (keepalived virtual_ipaddress_excluded)."},
	{"routers[].excluded_addresses[].address", "address[/prefix]", "", "required", "The address."},
	{"routers[].excluded_addresses[].dev", "string", "the router's interface", "an interface", "Device the address is installed on while Master."},
	{"routers[].excluded_addresses[].label", "string", "", "IPv4 only; starts with the device's name; at most 15 characters", "Address label."},
	{"routers[].excluded_addresses[].scope", "string", "global", "global | site | link | host", "Address scope (IPv4: the kernel gives an address in the subnet of another the scope of that one; IPv6 addresses keep their own)."},
	{"routers[].routes", "list", "", "at most 255", "Routes installed (netlink) while Master, after the addresses, and removed on leaving Master, before them (keepalived virtual_routes). At start, a route equal to one of them that a govrrpd killed with -9 left is removed."},
	{"routers[].routes[].to", "prefix | default", "", "required; one family per route", "Destination; default is 0.0.0.0/0 or ::/0 (the router's family)."},
	{"routers[].routes[].via", "address", "", "the destination's family", "Gateway."},
	{"routers[].routes[].dev", "string", "", "an interface", "Output interface."},
	{"routers[].routes[].src", "address", "", "the destination's family", "Preferred source address, typically a VIP (installed first)."},
	{"routers[].routes[].table", "integer", "254 (main)", "1..4294967295", "Routing table."},
	{"routers[].routes[].metric", "integer", "0", "0..4294967295", "Route priority (metric)."},
	{"routers[].routes[].scope", "string", "global (link without via)", "global | site | link | host", "Route scope."},
	{"routers[].routes[].type", "string", "unicast", "unicast | blackhole | unreachable | prohibit", "Route type; the last three take no via or dev."},
	{"routers[].rules", "list", "", "at most 255", "Policy routing rules installed while Master, after the routes, and removed on leaving Master, first (keepalived virtual_rules). At start, a rule equal to one of them that a govrrpd killed with -9 left is removed."},
	{"routers[].rules[].from", "prefix", "", "", "Source prefix matched."},
	{"routers[].rules[].to", "prefix", "", "from's family", "Destination prefix matched."},
	{"routers[].rules[].table", "integer", "", "1..4294967295, required", "Table looked up on a match."},
	{"routers[].rules[].priority", "integer", "", "1..32765", "Rule priority; without it the kernel picks one."},
	{"routers[].rules[].iif", "string", "", "an interface", "Input interface matched."},
	{"routers[].rules[].oif", "string", "", "an interface", "Output interface matched."},
	{"routers[].rules[].fwmark", "N or N/MASK", "", "32-bit numbers", "Firewall mark matched."},
	{"routers[].bfd_master", "mapping", "", "", "Master–Backup BFD (draft-ietf-rtgwg-vrrp-bfd-p2p, docs/CONFORMANCE.md): as Backup, run a BFD session to the Master whose adverts it accepts (to the advert's source; it moves when the Master changes), and when that session fails (not a peer's AdminDown) take over as if Master_Down_Timer had expired, per successor. As Master, answer such sessions passively, from on-link addresses only (TTL 255), at most 64 per interface and family. Adverts stay unchanged; routers without it (keepalived, FRR) keep the RFC's timers, and a Master without it never answers: the session stays Down (one packet a second) and the RFC's timers alone apply. When only BFD fails while the Master lives, the two Masters last until the old Master's next advert (RFC 9568 answers ours at once), logged and counted (bfd_false_downs)."},
	{"routers[].bfd_master.min_tx", "duration", "300ms", "10ms..60s, whole microseconds", "Desired Min TX Interval of the session, as bfd[].min_tx."},
	{"routers[].bfd_master.min_rx", "duration", "300ms", "10ms..60s, whole microseconds", "Required Min RX Interval, as bfd[].min_rx."},
	{"routers[].bfd_master.multiplier", "integer", "3", "1..255", "Detect Mult, as bfd[].multiplier: at 10ms × 3 a dead Master is seen in 30 ms."},
	{"routers[].bfd_master.successor", "string", "auto", "auto | true | false", "What this router does as Backup when the session to the Master fails. true: take over at once (with two routers, the Backup). auto: take over after (256 − priority)/256 of the session's detection time, so among several Backups the highest priority goes first and the others hear its advert and follow it, as after a priority-0 advert (RFC 5798 §6.4.2). false: open no session as Backup and keep the RFC's timers; still answer as Master."},
	{"routers[].reply_lower_priority", "bool", "true", "", "A Master hearing a lower priority answers at once with its own advert (RFC 9568 §6.4.3; keepalived does, FRR does not). VRRPv2 never does."},
	{"routers[].strict", "bool", "false", "", "Discard adverts that fail the errata checks real peers fail (count 0, IPv6 first address not link-local, v2 address list), and refuse an IPv6 address list of its own without a link-local address first."},
	{"routers[].track", "mapping", "", "", "Objects whose failure lowers the priority or puts the router in Fault."},
	{"routers[].track.interfaces", "list", "", "", "Tracked interfaces (up with carrier)."},
	{"routers[].track.interfaces[].name", "string", "", "required", "Interface name."},
	{"routers[].track.interfaces[].weight", "integer", "0", "-254..254", "Added to the priority while down; 0 means Fault while down."},
	{"routers[].track.scripts", "list", "", "", "Tracked scripts, defined under scripts."},
	{"routers[].track.scripts[].name", "string", "", "a key of scripts", "Script name."},
	{"routers[].track.scripts[].weight", "integer", "0", "-254..254", "Added to the priority while failing; 0 means Fault while failing."},
	{"routers[].track.files", "list", "", "", "Tracked files (keepalived's track_file), watched with inotify: the file holds an integer V (keepalived reads it as strtol base 0: 0x and 0 prefixes; missing, unreadable, empty or not a number counts as 0; a value outside 32 bits is ignored)."},
	{"routers[].track.files[].path", "path", "", "required, absolute", "The file; its first 127 bytes are read."},
	{"routers[].track.files[].weight", "integer", "1", "-254..254", "V*weight, clamped to -254..253, is added to the priority; -254 means Fault (as keepalived). With 0, Fault while V is not 0. A maintenance drain: weight -1 (or -100 and V 1), then write the value."},
	{"routers[].track.bfd", "list", "", "", "Tracked BFD sessions, defined under the top-level bfd (keepalived's track_bfd). A session fails when it goes from Up to Down (detection time expired, or the peer said Down); AdminDown, ours or the peer's, is no failure and keeps the state it had (RFC 5882 §3.2, as keepalived). A session that has not been Up since start (or since a reload restarted it) counts as failed."},
	{"routers[].track.bfd[].name", "string", "", "a name of bfd", "Session name."},
	{"routers[].track.bfd[].weight", "integer", "0", "-254..254", "Added to the priority while failed; 0 means Fault while failed."},
	{"routers[].track.bfd[].reverse", "bool", "false", "", "Invert the session (keepalived's reverse): the weight, or the Fault, applies while it is Up."},
	{"routers[].announce", "mapping", "", "", "Gratuitous ARP / unsolicited neighbour advertisements on becoming master."},
	{"routers[].announce.repeat", "integer", "1", "1..100", "Messages per address in each burst."},
	{"routers[].announce.delay", "duration", "2s", "0s..1h", "A second burst this long after the first; 0s: none."},
	{"routers[].announce.refresh", "duration", "0s", "0s, or 1s..24h", "Repeat a burst this often while master; 0s: never."},
	{"routers[].notify", "list of argv", "", "", "Commands run on every transition with arguments ROUTER FROM TO REASON; each item a path or a list [path, args...]; a bare command name is looked up as in scripts.*.exec."},
	{"routers[].notify_master", "list of argv", "", "", "keepalived's notify_master: run unchanged (no arguments added) on entering Master; before notify_keepalived, as keepalived."},
	{"routers[].notify_backup", "list of argv", "", "", "keepalived's notify_backup: run on entering Backup, at startup too."},
	{"routers[].notify_fault", "list of argv", "", "", "keepalived's notify_fault: run on entering Fault (link down, a tracked object with a Fault rule)."},
	{"routers[].notify_stop", "list of argv", "", "", "keepalived's notify_stop: run when the router stops: the daemon stops, a reload removes it (keepalived: notify_fault) or restarts it for a change that needs a restart (STOP, then BACKUP)."},
	{"routers[].notify_keepalived", "list of argv", "", "", "keepalived's generic notify: run on entering MASTER, BACKUP, FAULT or STOP with arguments INSTANCE NAME STATE PRIORITY (after notify_<state>, before notify). Initialize has no keepalived state and runs none of these."},
	{"sync_groups", "mapping", "", "", "Sync groups by name (keepalived vrrp_sync_group): routers that change state together. See Sync groups below."},
	{"sync_groups.*.routers", "list of router names", "", "at least one; each router in one group only; any interfaces and families", "The members."},
	{"sync_groups.*.track", "mapping", "", "", "Tracked objects of the group: each is added to every member's track, with its weight (0: every member, so the group, goes to Fault while it fails)."},
	{"sync_groups.*.track.interfaces", "list", "", "", "Tracked interfaces, as routers[].track.interfaces."},
	{"sync_groups.*.track.interfaces[].name", "string", "", "required", "Interface name."},
	{"sync_groups.*.track.interfaces[].weight", "integer", "0", "-254..254", "Added to each member's priority while down; 0 means Fault while down."},
	{"sync_groups.*.track.scripts", "list", "", "", "Tracked scripts, as routers[].track.scripts."},
	{"sync_groups.*.track.scripts[].name", "string", "", "a key of scripts", "Script name."},
	{"sync_groups.*.track.scripts[].weight", "integer", "0", "-254..254", "Added to each member's priority while failing; 0 means Fault while failing."},
	{"sync_groups.*.track.files", "list", "", "", "Tracked files, as routers[].track.files."},
	{"sync_groups.*.track.files[].path", "path", "", "required, absolute", "The file."},
	{"sync_groups.*.track.files[].weight", "integer", "1", "-254..254", "As routers[].track.files[].weight, for each member."},
	{"sync_groups.*.track.bfd", "list", "", "", "Tracked BFD sessions, as routers[].track.bfd."},
	{"sync_groups.*.track.bfd[].name", "string", "", "a name of bfd", "Session name."},
	{"sync_groups.*.track.bfd[].weight", "integer", "0", "-254..254", "Added to each member's priority while failed; 0 means Fault while failed."},
	{"sync_groups.*.track.bfd[].reverse", "bool", "false", "", "As routers[].track.bfd[].reverse."},
	{"sync_groups.*.notify", "list of argv", "", "", "Commands run once per change of the group's state, with arguments GROUP FROM TO REASON (states Master, Backup, Fault, Initialize; REASON that of the member that caused the change); each item a path or a list [path, args...]; a bare command name is looked up as in scripts.*.exec."},
	{"sync_groups.*.notify_master", "list of argv", "", "", "keepalived's notify_master of a vrrp_sync_group: run unchanged once when the group becomes Master."},
	{"sync_groups.*.notify_backup", "list of argv", "", "", "keepalived's notify_backup of a group: run once when the group becomes Backup."},
	{"sync_groups.*.notify_fault", "list of argv", "", "", "keepalived's notify_fault of a group: run once when the group goes to Fault."},
	{"sync_groups.*.notify_stop", "list of argv", "", "", "keepalived's notify_stop of a group: run when the group stops (a member shuts down: the daemon stops, a reload removes or restarts it)."},
	{"sync_groups.*.notify_keepalived", "list of argv", "", "", "keepalived's generic notify of a group: run on each group state with arguments GROUP NAME STATE 0 (after notify_<state>, before notify)."},
	{"bfd", "list", "", "at most 1024", "BFD sessions (RFC 5880, single hop over UDP as RFC 5881, asynchronous mode; no echo mode, no demand mode, no authentication). Each runs on its own and its state changes are logged (a failure as a warning; a peer's AdminDown is no failure); govrrpd says AdminDown to every peer when it stops or a reload removes the session. A session whose interface or local_address is missing waits (`govrrp bfd` says which) and starts when the link watcher sees it appear; one on an interface deleted and made again restarts on the new one. A stall of the host long enough to hide the peer's packets moves the detection timer instead of failing the session (docs/MONITORING.md, host stalls)."},
	{"bfd[].name", "string", "", "required; letters, digits, . _ -; unique", "Name of the session in logs."},
	{"bfd[].peer", "address", "", "required; IPv4 or IPv6 (global, ULA or link-local), directly connected", "The neighbour's address."},
	{"bfd[].interface", "string", "", "required", "Interface the neighbour is on; one session per peer and interface."},
	{"bfd[].local_address", "address", "", "the peer's family", "Source address of our packets (FRR's local-address, keepalived's source_ip); the kernel picks one when absent."},
	{"bfd[].min_tx", "duration", "300ms", "10ms..60s, whole microseconds", "Desired Min TX Interval while Up (1s until then, RFC 5880 §6.8.3); the interval used is the larger of this and the peer's min_rx."},
	{"bfd[].min_rx", "duration", "300ms", "10ms..60s, whole microseconds", "Required Min RX Interval: the fastest we accept packets; the detection time is the peer's multiplier times the larger of this and the peer's min_tx."},
	{"bfd[].multiplier", "integer", "3", "1..255", "Detect Mult: the peer declares the session down after this many intervals without our packets."},
	{"bfd[].passive", "bool", "false", "", "Send nothing until the peer's first packet (RFC 5880 §6.1)."},
	{"scripts", "mapping", "", "", "Tracking scripts by name."},
	{"scripts.*.exec", "list of strings", "", "required; an absolute path first, or a bare command name", "argv of the check, run without a shell; exit 0 means success. A bare name (no slash, like keepalived's `killall -0 haproxy`) is looked up at load (validate, start, reload) in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, the same list for validate and govrrpd whatever their PATH; not found there, validate warns and the script fails until a reload finds it."},
	{"scripts.*.interval", "duration", "2s", "100ms..1h", "Time between runs."},
	{"scripts.*.timeout", "duration", "1s", "10ms..interval", "A run still going after this is killed and counts as a failure."},
	{"scripts.*.rise", "integer", "1", "1..100", "Successes in a row that make a failing script pass."},
	{"scripts.*.fall", "integer", "1", "1..100", "Failures in a row that make a passing script fail."},
	{"scripts.*.user", "user name", "", "an existing user", "Run the script as this user (and its primary group unless group is set), as keepalived's `user`."},
	{"scripts.*.group", "group name", "", "an existing group", "Run the script with this group."},
	{"scripts.*.init", "string", "failed", "failed | unknown", "The script's state before it has proved anything. failed: it counts as failed until rise successes in a row, so a check that never passed is never healthy (keepalived's init_fail). unknown: keepalived's default: the first result decides at once, then rise and fall count; until it comes, a router tracking the script with weight 0 waits in Initialize at startup (it sends nothing and runs no hook; in a sync group it holds the whole group out of Master, and in Fault while its link is down, as keepalived does), and a weighted tracking changes nothing, nor does a script a reload adds to a running router."},
}

// DefaultControlSocket is where govrrpd listens and govrrp connects.
const DefaultControlSocket = "/run/govrrpd.sock"

// DefaultFile is the configuration govrrpd reads without -c.
const DefaultFile = "/etc/govrrp/govrrpd.yaml"

// childKeys returns the keys one level below path ("" for the top level).
func childKeys(path string) []string {
	var out []string
	prefix := path + "."
	if path == "" {
		prefix = ""
	}
	for _, k := range Schema {
		rest, ok := strings.CutPrefix(k.Path, prefix)
		if !ok || rest == "" {
			continue
		}
		if !strings.ContainsAny(rest, ".[") {
			out = append(out, rest)
		}
	}
	return out
}
