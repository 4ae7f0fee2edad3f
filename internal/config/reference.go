package config

import (
	"fmt"
	"strings"
)

// Reference renders the configuration reference (docs/CONFIG.md) from Schema
// and the example file, so the document is generated, never hand-edited.
func Reference(example string) string {
	var b strings.Builder
	b.WriteString(`# govrrpd configuration reference

Generated from ` + "`internal/config/schema.go`" + ` by
` + "`go test ./internal/config -run TestReference -update`" + `; a test fails when it is out of date.

govrrpd reads one YAML file, ` + "`" + DefaultFile + "`" + ` by default or ` + "`govrrpd --config FILE`" + `.
Parsing is strict: an unknown key, a wrong type, an out-of-range value or a rule broken between keys is
refused with ` + "`file:line:col: what is wrong; what to write instead`" + `, the first 50 problems at once and
then how many more. ` + "`govrrp validate FILE`" + `, ` + "`govrrpd --check`" + `, govrrpd's start and every reload run the
same checks from the same code (` + "`config.LoadAndCheck`" + `), then the host checks below; ` + "`govrrp validate --no-host`" + `
skips those. A refused reload keeps the running configuration and logs one line: the count of
errors and the first three.

**Host checks.** Refused, as they would hurt the host or can never run:

- a virtual address that an interface of the host already has (its own address, ` + "`127.0.0.1`" + ` on ` + "`lo`" + `, ...),
  unless the router owns it (priority 255): a non-owner deletes its virtual addresses when it leaves Master.
  The message names the interface. Addresses govrrpd installed itself do not count: it records the virtual
  addresses it has on the interfaces for its network namespace, before installing each
  (` + "`/run/govrrpd/netns-INODE.vips`" + `, removed when it stops), so ` + "`govrrp validate`" + ` while it runs, a
  reload while Master and a start after a ` + "`kill -9`" + ` that left them on the interfaces all pass. A
  configured address it has not installed is not exempt: a reload or the next start refuses one that has
  since become the host's. An address the host gives an interface while govrrpd runs, equal to a virtual
  address, is left alone: a Master does not take it over (one error line), and leaving Master does not
  delete it;
- priority 255 where the interface lacks one of the addresses;
- an advert larger than the interface's MTU (IP header, 20 or 40 bytes, + 8 + 4 or 16 per address, + 8 for
  VRRPv2 authentication). An interface that appears after the check with too small an MTU, or whose MTU is
  lowered while govrrpd runs, makes the router wait in Fault (` + "`advert-exceeds-mtu`" + `) until the MTU allows
  the advert;
- a ` + "`control_group`" + ` that does not exist.

Warned about, and still accepted (` + "`govrrp validate`" + ` exits 0), as they may appear later: an interface that
does not exist (yet: a VLAN, bond or VRF created after govrrpd; the router waits in Fault), a
` + "`multicast_source`" + ` or ` + "`unicast_source`" + ` that is not an address of the interface (the router waits in Fault,
` + "`source-missing`" + `, until it is, and goes back there when it is removed while govrrpd runs: run anyway, a Master
unheard from it would let the peer become Master too), a track script
or notify command that is not an executable file, or a bare command name not found in ` + "`" + `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` + "`" + `. Also warned about: a router without ` + "`vmac`" + ` on an interface that
forwards with ICMP redirects on, where the kernel would send redirects from the interface's own address
instead of the virtual one (RFC 5798 §8.1.1, §8.2.1; hosts ignore them); the message names the sysctls to
set (IPv4) or ` + "`vmac: true`" + ` (IPv6). And an IPv4 address of a router with ` + "`accept: false`" + ` that the kernel
would make a primary address, because its interface has no address of its own in that subnet with that prefix
length (or, for a /32, no IPv4 address at all): the box's own traffic there would leave from the VIP and the
Master would drop the replies; the message says to write ` + "`accept: true`" + ` or give the interface such an address.

**Limits.** The file is at most 4 MiB. YAML anchors and aliases are allowed, but aliases may add at most
100000 nodes to the document (a few hundred bytes of aliases of aliases can otherwise stand for billions).
One YAML document per file: a second one (after ` + "`---`" + `) is refused, not ignored. Each message is at most
300 characters of text.

Durations are Go durations with a unit: ` + "`10ms`, `1s`, `1m30s`" + `.

| key | type | default | range | meaning |
|---|---|---|---|---|
`)
	for _, k := range Schema {
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		cell := strings.NewReplacer("|", `\|`).Replace
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Path, cell(k.Type), cell(def), cell(k.Range), cell(k.Doc))
	}
	b.WriteString(`
## Rules between keys

- One address family per router; the same VRID may run once per family on an interface.
- VRRPv2 is IPv4 only, counts the interval in whole seconds, and has no ` + "`checksum`" + `;
  ` + "`auth`" + ` is VRRPv2 only.
- An IPv6 address list starts with the virtual link-local address (RFC 9568 §5.2.9): required with
  ` + "`strict: true`" + `; otherwise a list without one first (keepalived accepts it) is a warning and is sent as written.
- ` + "`(interface, vrid, family)`" + ` and ` + "`name`" + ` are unique; so is each virtual address, across all routers;
  tracked scripts are defined under ` + "`scripts`" + `, tracked BFD sessions under the top-level ` + "`bfd`" + `.
- A tracked object with weight 0 puts the router in Fault while it fails; otherwise the effective priority
  is the configured one plus the weights of the failed objects, clamped to 1..254. An owner (255) is never
  changed by tracking.
- A tracked BFD session fails when an Up session goes Down on a lost path (detection time expired) or on
  the peer's Down, and recovers when it is Up again. AdminDown, ours or the peer's (FRR's ` + "`shutdown`" + `), is no
  failure (RFC 5882 §3.2): the object keeps the state it had, as keepalived's ` + "`track_bfd`" + ` does, so a peer
  shut down for maintenance moves no VIP; a session that then dies stays counted as it was until it comes
  Up again. A session not yet Up since govrrpd started, or since a reload restarted it (its peer, interface
  or local address changed), counts as failed. ` + "`reverse: true`" + ` fails it while Up instead.

## Sync groups

` + "`sync_groups`" + ` is keepalived's ` + "`vrrp_sync_group`" + `: routers that must be Master on the same box, such as the
outside and inside addresses of a firewall pair. Each router is in one group at most; members may run on
different interfaces and be of either family. What govrrpd does, as keepalived 2.2.7 does:

- **Fault.** While any member has a fault of its own (its interface is down or missing, or has no address
  to send from, or a tracked object with weight 0 fails), every other member is in Fault too, with
  ` + "`fault_reason`" + ` ` + "`sync-group-fault`" + `; a Master among them resigns with a priority-0 advert, so the peer's
  member takes over within Skew_Time. A member whose own fault clears stays in Fault while another member
  still has one; when the last fault clears, every member goes through Initialize to Backup, and they
  become Master together (below) if the protocol elects them.
- **A member whose link is down at start** (no carrier, or set down), or whose interface does not exist
  yet, holds the group in Fault from the start, also while it waits for a script's first result (below):
  the others, on whatever interface, never become Master on their own, and the group notifies FAULT once.
  When the link comes up, every member goes to Backup and they become Master together, as keepalived
  2.2.7 does (it logs ` + "`Syncing ... to FAULT state`" + ` at start).
- **Backup.** A Master member that goes Backup because it heard a better Master takes the group's other
  Masters to Backup with it (` + "`sync-group-backup`" + `; each sends a priority-0 advert and then waits
  Master_Down_Interval like any Backup).
- **Master.** Members become Master together. A Backup member whose Master_Down_Timer expires only wants to
  be Master, and stays Backup (its timer running on) until every other running member wants to or is
  Master; then all that want to become Master at once. So a member that still hears a Master holds the
  others in Backup: the group prefers Backup to being split between two boxes. A member waiting in
  Initialize for the first result of a script it tracks with weight 0 (` + "`scripts.*.init: unknown`" + `) holds
  them too: they wait in Backup, sending nothing, until the result starts it, as keepalived holds the whole
  group (in a silent FAULT) while a member's script is in its INIT state. An owner (priority 255) is not
  held.
- **Members on other interfaces** behave the same: each runs on its own interface's loop, and the group
  reaches them by message, typically within a millisecond. A better Master heard on one member's LAN takes
  the members on other LANs to Backup, and they stay Backup although they hear no Master there, until the
  group can be Master whole.
- **Tracking.** ` + "`sync_groups.*.track`" + ` is added to every member's own ` + "`track`" + `: weight 0 puts the whole group in
  Fault while the object fails; another weight changes every member's priority. Unlike keepalived, the
  members' own weights are kept as written. In a sync group without ` + "`sync_group_tracking_weight`" + `,
  keepalived makes a member's tracked interfaces and weight-1 files Fault-only (weight 0) and drops its
  weighted scripts and other-weight files; ` + "`govrrp import keepalived`" + ` writes exactly that. A script
  starts failed by default (` + "`scripts.*.init: failed`" + `, keepalived's ` + "`init_fail`" + `), so a group tracking one
  with weight 0 starts in Fault until it passes, and its ` + "`notify_fault`" + ` runs once at each start before
  ` + "`notify_backup`" + `; with ` + "`init: unknown`" + ` (keepalived's default, which the import writes) the group waits
  for the first result and goes straight to Backup, as keepalived's does.
- **Group notify.** The group's state is Fault when a member is in Fault, Master when every member is
  Master, Initialize when none runs or once a member has shut down (when the daemon stops, the group
  stops once, as keepalived's does), and Backup otherwise. ` + "`sync_groups.*.notify`" + ` runs once per change of
  it, with GROUP FROM TO REASON, REASON being that of the member whose change caused it (` + "`link-down`" + `); the
  change is also an event of type ` + "`sync_group`" + ` in ` + "`govrrp watch`" + `, naming the member.
  keepalived's forms run once per change too: ` + "`notify_master`" + `, ` + "`notify_backup`" + `, ` + "`notify_fault`" + ` and
  ` + "`notify_stop`" + ` (the group stops when its first member shuts down) unchanged, and ` + "`notify_keepalived`" + ` with
  GROUP NAME STATE 0, as keepalived calls a group's notify.
- **Reload.** A change of ` + "`sync_groups`" + ` membership or notify takes effect at the next start (a reload
  applies the rest and lists it as skipped, and ` + "`govrrp reload`" + ` exits 3); the group's tracked objects follow a
  reload. ` + "`govrrp disable`" + ` of a member is a fault of its own for the group: the other members go to Fault
  (` + "`sync-group-fault`" + `), Masters resigning with priority 0, so the peer's group takes over whole.
- **Stop.** A stopping govrrpd (SIGTERM) resigns every member with priority 0, so a peer's group, govrrpd's
  or keepalived's, takes every member over within Skew_Time, as when keepalived stops.
- **Checked against keepalived 2.2.7** in namespaces, with the same configuration (govrrpd running its
  import): each alone (a member's link down at start, group ` + "`track_interface`" + ` and ` + "`track_script`" + `, a better
  Master on one LAN, the group's notify calls), and beside each other (a cable pulled on one LAN, either
  side stopped): ` + "`interop:TestSyncGroupAloneMatchesKeepalived`" + ` and ` + "`interop:TestSyncGroupKeepalived`" + `.

## Example

` + "```yaml\n" + example + "```\n")
	return b.String()
}
