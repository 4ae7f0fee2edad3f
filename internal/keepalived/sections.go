package keepalived

import (
	"net/netip"
	"strings"
)

// The top-level sections of keepalived.conf(5)'s global and VRRP
// configuration that govrrp has no equivalent for: each is named once with
// why, and each of its keywords with what to write instead.

// sectionKeys notes a section, then each keyword of its block (keys: what
// the keyword does in keepalived and what takes its place; "" for a
// keyword that only the section's note concerns).
func sectionKeys(why, fix string, lost bool, keys map[string]string) handler {
	return func(t *translator, n *Node) {
		t.note(n, why, fix, lost)
		for _, c := range n.Children {
			if k, ok := keys[c.Key]; ok {
				t.note(c, k, "", false)
			} else {
				t.note(c, "unknown keyword of "+n.Key+" (keepalived ignores it too)", "check the spelling", false)
			}
		}
	}
}

// trackProcess is vrrp_track_process: not translated (docs/MIGRATING.md
// says why); the note writes the tracking script that replaces it.
func (t *translator) trackProcess(n *Node) {
	name, proc, full := "NAME", "PROCESS", false
	if len(n.Args) > 0 {
		name = keyName(n.Args[0])
	}
	var args []string
	for _, c := range n.Children {
		switch c.Key {
		case "process":
			if len(c.Args) > 0 {
				proc, args = c.Args[0], c.Args[1:]
			}
		case "full_command":
			full = true
		}
	}
	exec := "[/usr/bin/pgrep, -x, " + q(proc) + "]"
	if full || len(args) > 0 {
		exec = "[/usr/bin/pgrep, -f, -x, " + q(strings.Join(append([]string{proc}, args...), " ")) + "]"
	}
	t.note(n, "govrrp does not track processes: not translated (docs/MIGRATING.md, \"Why track_process is not translated\")",
		"write a tracking script instead, scripts: {"+name+": {exec: "+exec+", interval: 1s}}, and track it where track_process "+name+" is", true)
	for _, c := range n.Children {
		if k, ok := processKeys[c.Key]; ok {
			t.note(c, k, "", false)
		} else {
			t.note(c, "unknown keyword of vrrp_track_process (keepalived ignores it too)", "check the spelling", false)
		}
	}
}

var processKeys = map[string]string{
	"process":         "matched exactly on the process name (or with parameters, on the command line): pgrep -x NAME, or pgrep -f -x 'NAME ARGS', matches the same",
	"param_match":     "initial or partial parameter match: use pgrep -f with an anchored regular expression, e.g. '^NAME ARG1'",
	"full_command":    "matches the whole command line: pgrep -f -x 'COMMAND LINE'",
	"weight":          "becomes the tracking script's weight, as a track_script's weight is translated (docs/MIGRATING.md)",
	"quorum":          "a minimum number of processes: count them in a script, e.g. test \"$(pgrep -c -x NAME)\" -ge N",
	"quorum_max":      "a maximum number of processes: count them in a script, e.g. test \"$(pgrep -c -x NAME)\" -le N",
	"fork_delay":      "debouncing of a restart: the script's rise (successes before it counts as passing)",
	"terminate_delay": "debouncing of a stop: the script's fall (failures before it counts as failed)",
	"delay":           "debouncing: the script's rise and fall",
}

var garpGroupKeys = map[string]string{
	"garp_interval": "the gap between gratuitous ARPs on the interface(s): govrrpd sends each burst at once",
	"gna_interval":  "the gap between unsolicited neighbour advertisements on the interface(s): govrrpd sends each burst at once",
	"interface":     "the interface the gaps apply to",
	"interfaces":    "the interfaces the gaps apply to together",
}

var trackGroupKeys = map[string]string{
	"group": "the instances that go to Fault when a static address, route or rule of this track_group cannot be restored",
}

func init() {
	topKeys["vrrp_track_process"] = (*translator).trackProcess
	topKeys["garp_group"] = sectionKeys("govrrp does not pace gratuitous ARPs / neighbour advertisements by interface: not translated",
		"lower announce.repeat on the routers of these interfaces if the switch cannot take the bursts", true, garpGroupKeys)
	topKeys["track_group"] = sectionKeys("static track groups only make instances track keepalived's static addresses, routes and rules, which govrrp does not manage: not translated",
		"track the interface the static route uses (track.interfaces), or check the route with a tracking script", true, trackGroupKeys)
	topKeys["interface_up_down_delays"] = func(t *translator, n *Node) {
		t.note(n, "govrrpd does not delay reacting to an interface going down or up: a router goes to Fault as soon as its interface or a tracked one is down, and leaves it when it is up",
			"fix a flapping link; or track it with a script whose fall and rise debounce it instead of track_interface", true)
	}
	topKeys["linkbeat_interfaces"] = func(t *translator, n *Node) {
		t.note(n, "not needed: govrrpd watches links by netlink (keepalived's default too)", "", false)
	}
	static := "keepalived's static addresses, routes and rules stay on the host whatever the VRRP state: not VRRP, skipped"
	fix := "configure them in the system's network configuration (systemd-networkd, ifupdown, NetworkManager)"
	topKeys["static_ipaddress"] = skipSection(static, fix)
	topKeys["static_routes"] = skipSection(static, fix)
	topKeys["static_rules"] = skipSection(static, fix)
}

// srcIP reads mcast_src_ip or unicast_src_ip: the address the instance's
// adverts leave from, unicast or multicast (complete and render decide
// which key it becomes).
func (t *translator) srcIP(r *router, n *Node) {
	a, err := netip.ParseAddr(t.strArg(n))
	if err != nil || a.Zone() != "" {
		t.note(n, "not an address", "write the address adverts are sent from", true)
		return
	}
	r.unicastSrc = a
}
