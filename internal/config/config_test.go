package config

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"govrrp/internal/testenv"
	"govrrp/vrrp"
)

func TestParseFull(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "127.0.0.1:9624" || c.ControlSocket != DefaultControlSocket || c.Log.Format != "text" {
		t.Fatalf("globals: %+v", c)
	}
	if len(c.Routers) != 3 {
		t.Fatalf("%d routers", len(c.Routers))
	}
	gw := c.Routers[0]
	want := Router{
		Name: "gw", Interface: "eth0", VRID: 51, Version: 3, Family: vrrp.IPv4, Priority: 150,
		AdvertInterval: time.Second, Preempt: true, ReplyLower: true,
		UnicastPeers: []netip.Addr{netip.MustParseAddr("10.77.0.2")},
		Addresses:    []netip.Prefix{netip.MustParsePrefix("10.77.0.254/24"), netip.MustParsePrefix("10.77.0.253/24")},
		Track: Track{
			Interfaces: []TrackItem{{"eth1", -50}},
			Scripts:    []TrackItem{{"chk_web", -30}},
		},
		Announce: Announce{Repeat: 5, Delay: 5 * time.Second},
		Notify:   [][]string{{"/usr/local/bin/on-vrrp-change"}},
	}
	if p := gw.PosOf("priority"); p.Line != 9 || p.Col != 15 {
		t.Fatalf("PosOf(priority) = %v", p)
	}
	if len(gw.Routes) != 2 || len(gw.Rules) != 1 { // routes_test.go checks them
		t.Fatalf("routes %v rules %v", gw.Routes, gw.Rules)
	}
	gw.Pos, gw.KeyPos, gw.Routes, gw.Rules = Pos{}, nil, nil, nil
	if !reflect.DeepEqual(gw, want) {
		t.Fatalf("router gw:\n got %+v\nwant %+v", gw, want)
	}
	v2 := c.Routers[1]
	if v2.Name != "eth0-52-ipv4" || v2.Version != 2 || v2.AuthType != vrrp.AuthPassword || v2.AuthPassword != "secret12" ||
		v2.Priority != DefaultPriority || v2.Addresses[0] != netip.MustParsePrefix("10.77.0.252/32") ||
		v2.Announce != (Announce{Repeat: DefaultAnnounceRepeat, Delay: DefaultAnnounceDelay}) {
		t.Fatalf("defaults for the v2 router: %+v", v2)
	}
	v6 := c.Routers[2]
	if v6.Name != "eth0-51-ipv6" || v6.Family != vrrp.IPv6 || v6.AdvertInterval != 100*time.Millisecond ||
		!reflect.DeepEqual(v6.Notify, [][]string{{"/usr/bin/logger", "-t", "vrrp"}}) {
		t.Fatalf("v6 router: %+v", v6)
	}
	if s := c.Scripts["chk_web"]; s.Rise != 2 || s.Fall != 2 || s.Interval != 2*time.Second || len(s.Exec) != 3 {
		t.Fatalf("script: %+v", s)
	}
}

const base = `routers:
  - interface: eth0
    vrid: 51
    addresses: [10.77.0.254/24]
`

// Each refusal names file:line:col, what is wrong and what to write instead.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want string // file:line:col: prefix and a fragment of the message
		fix  string // a fragment of the fix
	}{
		{"unknown key typo", base + "    priorty: 10\n", "c.yaml:5:5: unknown key \"priorty\"", `did you mean "priority"`},
		{"unknown top key", "foo: 1\n" + base, "c.yaml:1:1: unknown key \"foo\" in the top level", "valid keys here"},
		{"wrong type priority", base + "    priority: high\n", "c.yaml:5:15: expected a whole number", "1..254"},
		{"priority 0", base + "    priority: 0\n", "c.yaml:5:15: 0 is out of range 1..255", "0 is only sent on shutdown"},
		{"priority 256", base + "    priority: 256\n", "c.yaml:5:15: 256 is out of range", ""},
		{"vrid 0", strings.Replace(base, "vrid: 51", "vrid: 0", 1), "c.yaml:3:11: 0 is out of range 1..255", "VRIDs are 1..255"},
		{"bool as string", base + "    preempt: yes please\n", "c.yaml:5:14: expected true or false", "true or false"},
		{"duration without unit", base + "    advert_interval: 1\n", "c.yaml:5:22: 1 has no unit", "write 1s"},
		{"bad duration", base + "    advert_interval: fast\n", "c.yaml:5:22: \"fast\" is not a duration", ""},
		{"v3 interval not 10ms steps", base + "    advert_interval: 15ms\n", "c.yaml:5:22: advert_interval 15ms is not a VRRPv3 interval", "10ms steps"},
		{"v3 interval too long", base + "    advert_interval: 41s\n", "c.yaml:5:22: advert_interval 41s is not a VRRPv3 interval", ""},
		{"v2 fractional interval", base + "    version: 2\n    advert_interval: 1500ms\n", "c.yaml:6:22: advert_interval 1.5s: VRRPv2 counts in whole seconds", "write whole seconds, e.g. 2s"},
		{"v2 with IPv6", "routers:\n  - interface: eth0\n    vrid: 5\n    version: 2\n    addresses: [fe80::5, fd77::5]\n", "c.yaml:4:14: a VRRPv2 router cannot carry IPv6 addresses", "version: 3"},
		// Outside strict only a warning: TestParseWarnings [E8300].
		{"IPv6 first not link-local, strict", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fd77::5, fe80::5]\n    strict: true\n", "c.yaml:4:17: an IPv6 address list must start with the virtual link-local", "fe80::"},
		{"unicast_source without peers", base + "    unicast_source: 10.77.0.1\n", "c.yaml:5:21: unicast_source without unicast_peers", "unicast_peers: [...]"},
		{"unicast_source other family", base + "    unicast_peers: [10.77.0.2]\n    unicast_source: fd77::1\n", "c.yaml:6:21: unicast_source fd77::1 is not ipv4", "addresses' family"},
		{"unicast_source a VIP", base + "    unicast_peers: [10.77.0.2]\n    unicast_source: 10.77.0.254\n", "c.yaml:6:21: unicast_source 10.77.0.254 is one of the router's virtual addresses", "a Backup has no VIP"},
		{"unicast_source multicast", base + "    unicast_peers: [10.77.0.2]\n    unicast_source: 224.0.0.18\n", "c.yaml:6:21: unicast_source 224.0.0.18 cannot be the source", ""},
		{"unicast_source not an address", base + "    unicast_peers: [10.77.0.2]\n    unicast_source: eth0\n", "c.yaml:6:21: \"eth0\" is not an IP address", ""},
		// multicast_source (keepalived mcast_src_ip): the source of the
		// multicast adverts and the router's primary address.
		{"multicast_source with peers", base + "    unicast_peers: [10.77.0.2]\n    multicast_source: 10.77.0.1\n", "c.yaml:6:23: multicast_source with unicast_peers", "unicast_source"},
		{"multicast_source other family", base + "    multicast_source: fd77::1\n", "c.yaml:5:23: multicast_source fd77::1 is not ipv4", "addresses' family"},
		{"multicast_source a VIP", base + "    multicast_source: 10.77.0.254\n", "c.yaml:5:23: multicast_source 10.77.0.254 is one of the router's virtual addresses", "a Backup has no VIP"},
		{"multicast_source multicast", base + "    multicast_source: 224.0.0.18\n", "c.yaml:5:23: multicast_source 224.0.0.18 cannot be the source", ""},
		// [5798-5.1.2.1] IPv6 adverts leave from the interface's link-local.
		{"multicast_source IPv6 not link-local", "routers:\n  - {interface: eth0, vrid: 5, addresses: [fe80::5], multicast_source: fd77::1}\n", "c.yaml:2:72: multicast_source fd77::1 is not a link-local address", "fe80::"},
		{"multicast_source IPv6 with vmac", "routers:\n  - {interface: eth0, vrid: 5, vmac: true, addresses: [fe80::5], multicast_source: fe80::1}\n", "c.yaml:2:84: multicast_source with vmac", "link-local of its own"},
		{"mixed families", base[:len(base)-len("[10.77.0.254/24]\n")] + "[10.77.0.254/24, fd77::1]\n", "c.yaml:4:33: fd77::1 is not ipv4", "one router per family"},
		{"duplicate address", base[:len(base)-len("[10.77.0.254/24]\n")] + "[10.77.0.254/24, 10.77.0.254]\n", "c.yaml:4:33: 10.77.0.254 is listed twice", ""},
		{"bad address", base[:len(base)-len("[10.77.0.254/24]\n")] + "[10.77.0.300]\n", "c.yaml:4:17: \"10.77.0.300\" is not an IP address", ""},
		{"no addresses", "routers:\n  - interface: eth0\n    vrid: 5\n", "c.yaml:2:5: router has no addresses", "addresses:"},
		{"no interface", "routers:\n  - vrid: 5\n    addresses: [10.77.0.1]\n", "c.yaml:2:5: router has no interface", "interface: eth0"},
		{"no vrid", "routers:\n  - interface: eth0\n    addresses: [10.77.0.1]\n", "c.yaml:2:5: router has no vrid", ""},
		{"no routers", "log: {level: info}\n", "c.yaml:1:1: no routers configured", ""},
		{"empty file", "", "c.yaml:1:1: the file is empty", ""},
		{"duplicate vrid", base + "  - interface: eth0\n    vrid: 51\n    addresses: [10.77.0.253/24]\n", "c.yaml:6:11: interface eth0 VRID 51 ipv4 is already used", "line 2"},
		{"same vrid other family is fine", base + "  - interface: eth0\n    vrid: 51\n    addresses: [fe80::51]\n", "", ""},
		{"duplicate name", "routers:\n  - {name: a, interface: eth0, vrid: 1, addresses: [10.77.0.1]}\n  - {name: a, interface: eth0, vrid: 2, addresses: [10.77.0.2]}\n", "c.yaml:3:12: name \"a\" is already used at line 2", ""},
		{"bad name", base + "    name: my router\n", "c.yaml:5:11: name \"my router\" has characters", ""},
		{"auth on v3", base + "    auth: {type: pass, password: x}\n", "c.yaml:5:11: auth is VRRPv2 only", "version: 2"},
		{"AH", base + "    version: 2\n    auth: {type: ah}\n", "c.yaml:6:18: IPsec AH authentication is not supported", "type: pass"},
		{"long password", base + "    version: 2\n    auth: {type: pass, password: 123456789}\n", "c.yaml:6:34: password is 9 bytes", "1 to 8"},
		{"pass without password", base + "    version: 2\n    auth: {type: pass}\n", "c.yaml:6:11: auth type pass needs a password", ""},
		{"accept on v2 is an extension", base + "    version: 2\n    accept: true\n", "", ""},
		{"checksum on v2", base + "    version: 2\n    checksum: plain\n", "c.yaml:6:15: checksum is for VRRPv3 over IPv4", ""},
		{"checksum value", base + "    checksum: none\n", "c.yaml:5:15: \"none\" is not valid here", "pseudo-header, plain"},
		{"peer family", base + "    unicast_peers: [fd77::2]\n", "c.yaml:5:21: unicast peer fd77::2 is not ipv4", ""},
		{"undefined script", base + "    track: {scripts: [{name: chk}]}\n", "c.yaml:5:12: tracked script \"chk\" is not defined", "scripts:"},
		{"weight range", base + "    track: {interfaces: [{name: eth1, weight: -300}]}\n", "c.yaml:5:47: -300 is out of range -254..254", ""},
		{"relative notify", base + "    notify: [bin/notify.sh]\n", "c.yaml:5:14: notify command \"bin/notify.sh\" is a relative path", "bare command name"},
		{"script without exec", base + "scripts:\n  chk: {interval: 1s}\n", "c.yaml:6:3: script \"chk\" has no exec", ""},
		{"script init value", base + "scripts:\n  chk: {exec: [/bin/true], init: passing}\n", "c.yaml:6:34: \"passing\" is not valid here", "failed, unknown"},
		{"script timeout > interval", base + "scripts:\n  chk: {exec: [/bin/true], interval: 1s, timeout: 2s}\n", "c.yaml:6:51: timeout 2s is longer than the interval", ""},
		{"routers not a list", "routers: {a: 1}\n", "c.yaml:1:10: routers must be a list", ""},
		{"yaml syntax", "routers:\n  - interface: eth0\n   vrid: 5\n", "c.yaml:1:1: YAML syntax near here: did not find expected '-' indicator", "indentation"},
		{"duplicate key", base + "    priority: 10\n    priority: 20\n", "c.yaml:6:5: \"priority\" is set twice", "first is at line 5"},
		{"log level", base + "log: {level: loud}\n", "c.yaml:5:14: \"loud\" is not valid here", "debug, info, warn, error"},
		{"metrics listen", base + "metrics_listen: localhost\n", "c.yaml:5:17: metrics_listen \"localhost\"", "host:port"},
		{"metrics port out of range", base + "metrics_listen: 127.0.0.1:99999\n", "c.yaml:5:17: metrics_listen \"127.0.0.1:99999\": port \"99999\" is not a number 1..65535", "host:port"},
		{"metrics port name", base + "metrics_listen: 127.0.0.1:http\n", "c.yaml:5:17: port \"http\" is not a number", ""},
		{"metrics host not an address", base + "metrics_listen: 127.0.0.1.1:9624\n", "c.yaml:5:17: metrics_listen \"127.0.0.1.1:9624\": \"127.0.0.1.1\" is not an IP address", ""},
		{"metrics any address", base + "metrics_listen: :9624\n", "", ""},
		{"metrics v6", base + "metrics_listen: \"[::1]:9624\"\n", "", ""},
		{"snmp agentx path", base + "snmp_agentx: /var/agentx/master\n", "", ""},
		{"snmp agentx tcp", base + "snmp_agentx: tcp:127.0.0.1:705\n", "", ""},
		{"snmp agentx relative", base + "snmp_agentx: agentx/master\n", "c.yaml:5:14: snmp_agentx \"agentx/master\": not an absolute path", "/var/agentx/master"},
		{"snmp agentx tcp without address", base + "snmp_agentx: tcp::705\n", "c.yaml:5:14: snmp_agentx \"tcp::705\": no IP address", "tcp:127.0.0.1:705"},
		{"snmp agentx tcp port", base + "snmp_agentx: tcp:127.0.0.1:agentx\n", "c.yaml:5:14: snmp_agentx \"tcp:127.0.0.1:agentx\": port \"agentx\" is not a number", ""},
		// Nothing after --- would run; today it is silently dropped.
		{"second document", base + "---\n" + base, "c.yaml:5:1: a second YAML document starts here", "remove the --- line"},
		{"trailing document marker", base + "---\n", "", ""},
		// An empty document in between hides nothing: the next one is reported.
		{"document after an empty one", base + "---\n---\n" + base, "c.yaml:6:1: a second YAML document starts here", "remove the --- line"},
		{"empty documents only", base + "---\n---\n...\n", "", ""},
		// One address in two routers: each would delete it when it leaves Master.
		{"same address in two routers", base + "  - interface: eth1\n    vrid: 52\n    addresses:\n      - 10.77.0.9/24\n      - 10.77.0.254/24\n",
			"c.yaml:9:9: 10.77.0.254 is also a virtual address of \"eth0-51-ipv4\" at c.yaml:4:17", "one virtual router"},
		// fe80::51 on eth0 and on eth1 are two addresses: link-local is per link.
		{"same link-local on two links", "routers:\n  - {interface: eth0, vrid: 51, addresses: [fe80::51, fd77::1]}\n  - {interface: eth1, vrid: 51, addresses: [fe80::51, fd77::2]}\n", "", ""},
		{"same link-local on one link", "routers:\n  - {interface: eth0, vrid: 51, addresses: [fe80::51, fd77::1]}\n  - {interface: eth0, vrid: 52, addresses: [fe80::51, fd77::2]}\n", "c.yaml:3:45: fe80::51 is also a virtual address of \"eth0-51-ipv6\" at c.yaml:2:45", ""},
		{"file too large", base + "#" + strings.Repeat("x", MaxFileSize) + "\n", "c.yaml:1:1: the file is larger than 4 MiB", ""},
		{"alias bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + aliasLevels(6) + base, "c.yaml:1:1: YAML aliases add more than 100000 nodes", "fewer aliases"},
		{"refresh too fast", base + "    announce: {refresh: 100ms}\n", "c.yaml:5:25: refresh 100ms would flood", ""},
		// keepalived's forms (issue 13).
		{"script unknown user", base + "scripts:\n  chk: {exec: [/bin/true], user: no-such-user-x}\n", "c.yaml:6:34: unknown user \"no-such-user-x\"", "exists on this host"},
		{"script unknown group", base + "scripts:\n  chk: {exec: [/bin/true], group: no-such-group-x}\n", "c.yaml:6:35: unknown group \"no-such-group-x\"", "exists on this host"},
		{"script user root", base + "scripts:\n  chk: {exec: [/bin/true], user: root, group: root}\n", "", ""},
		{"notify unknown user", "notify_user: no-such-user-x\n" + base, "c.yaml:1:14: unknown user \"no-such-user-x\"", "exists on this host"},
		{"notify unknown group", "notify_group: no-such-group-x\n" + base, "c.yaml:1:15: unknown group \"no-such-group-x\"", "exists on this host"},
		{"relative notify_master", base + "    notify_master: [./up.sh]\n", "c.yaml:5:21: notify command \"./up.sh\" is a relative path", "absolute path"},
		{"notify_keepalived argv", base + "    notify_keepalived: [[/bin/logger, -t, ka]]\n", "", ""},
		{"track file relative", base + "    track: {files: [{path: drain}]}\n", "c.yaml:5:28: tracked file \"drain\" is not an absolute path", "absolute"},
		{"track file without path", base + "    track: {files: [{weight: 2}]}\n", "c.yaml:5:21: tracked file without a path", "path:"},
		{"track file weight", base + "    track: {files: [{path: /run/d, weight: 300}]}\n", "c.yaml:5:44: 300 is out of range -254..254", ""},
		{"bfd: no name", base + "bfd:\n  - {peer: 10.77.0.2, interface: eth0}\n", "c.yaml:6:5: BFD session without name", "name:"},
		{"bfd: no peer", base + "bfd:\n  - {name: a, interface: eth0}\n", "c.yaml:6:5: BFD session without peer", "peer:"},
		{"bfd: no interface", base + "bfd:\n  - {name: a, peer: 10.77.0.2}\n", "c.yaml:6:5: BFD session without interface", "interface:"},
		{"bfd: bad peer", base + "bfd:\n  - {name: a, peer: frr, interface: eth0}\n", "c.yaml:6:21: \"frr\" is not an IP address", ""},
		{"bfd: multicast peer", base + "bfd:\n  - {name: a, peer: 224.0.0.1, interface: eth0}\n", "c.yaml:6:21: BFD peer 224.0.0.1 is not a unicast address", ""},
		{"bfd: bad name", base + "bfd:\n  - {name: a b, peer: 10.77.0.2, interface: eth0}\n", "c.yaml:6:12: BFD session name \"a b\" has characters", "letters"},
		{"bfd: duplicate name", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: a, peer: 10.77.0.3, interface: eth0}\n", "c.yaml:7:5: BFD session name \"a\" is used twice", "its own name"},
		{"bfd: duplicate peer", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: b, peer: 10.77.0.2, interface: eth0}\n", "c.yaml:7:5: BFD peer 10.77.0.2 on eth0 is configured twice", ""},
		{"bfd: same peer other interface", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: b, peer: 10.77.0.2, interface: eth1}\n", "", ""},
		{"bfd: local family", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, local_address: fd77::1}\n", "c.yaml:6:64: local_address fd77::1 and peer 10.77.0.2 are of different families", "peer's family"},
		{"bfd: min_tx 9ms", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_tx: 9ms}\n", "c.yaml:6:57: 9ms is out of range", ""},
		{"bfd: min_tx 10ms", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_tx: 10ms}\n", "", ""},
		{"bfd: min_rx 60s", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 60s}\n", "", ""},
		{"bfd: min_rx 61s", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 61s}\n", "c.yaml:6:57: 1m1s is out of range", ""},
		{"bfd: sub-microsecond", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 10000500ns}\n", "c.yaml:6:57: BFD intervals are carried in microseconds", "whole microseconds"},
		{"bfd: multiplier 0", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 0}\n", "c.yaml:6:61: 0 is out of range 1..255", ""},
		{"bfd: multiplier 1", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 1}\n", "", ""},
		{"bfd: multiplier 256", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 256}\n", "c.yaml:6:61: 256 is out of range", ""},
		{"bfd: echo is not a key", base + "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, echo: true}\n", "c.yaml:6:49: unknown key \"echo\"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			msg := errs.List[0].Error()
			if !strings.HasPrefix(msg, tc.want[:strings.Index(tc.want, ": ")+2]) || !strings.Contains(msg, tc.want[strings.Index(tc.want, ": ")+2:]) {
				t.Fatalf("got  %s\nwant %s…", err, tc.want)
			}
			if tc.fix != "" && !strings.Contains(errs.List[0].Fix, tc.fix) {
				t.Fatalf("fix %q lacks %q", errs.List[0].Fix, tc.fix)
			}
		})
	}
}

// aliasLevels writes levels anchors a1..aN, each a list of ten aliases
// of the one before: ten to the N nodes in a few hundred bytes.
func aliasLevels(levels int) string {
	var b strings.Builder
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	return b.String()
}

// All problems of a file are reported at once, in file order.
// What the file may say but is worth a word: an IPv6 address list without
// a link-local address first [E8300] is accepted outside strict (keepalived
// accepts it, FRR never sends one, the receive side warns [IMPL-8]) and
// reported where it is written; the list is kept as written.
func TestParseWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // file:line:col: and a fragment, per warning
	}{
		{"IPv6 without link-local", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fd77::5, fd77::6]\n",
			[]string{"c.yaml:4:17: the IPv6 address list does not start with a link-local address"}},
		{"IPv6 link-local not first", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fd77::5, fe80::5]\n",
			[]string{"c.yaml:4:17: the IPv6 address list does not start with a link-local address"}},
		{"IPv6 link-local first", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fe80::5, fd77::5]\n", nil},
		{"IPv4", base, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if len(c.Warnings) != len(tc.want) {
				t.Fatalf("warnings %v, want %q", c.Warnings, tc.want)
			}
			for i, w := range c.Warnings {
				if !strings.HasPrefix(w.Error(), tc.want[i]) || !strings.Contains(w.Error(), "fe80::5:5") {
					t.Errorf("warning %q, want %q and the fix", w, tc.want[i])
				}
			}
			if tc.want != nil && c.Routers[0].Addresses[0].Addr().String() != "fd77::5" {
				t.Errorf("addresses %v, want them as written", c.Routers[0].Addresses)
			}
		})
	}
}

func TestParseReportsAll(t *testing.T) {
	_, err := Parse("c.yaml", []byte(base+"    priority: 0\n    preempt: maybe\n"))
	var errs *Errors
	if !errors.As(err, &errs) || errs.Len() != 2 || errs.List[0].Pos.Line != 5 || errs.List[1].Pos.Line != 6 {
		t.Fatalf("got %v", err)
	}
}

// A file of many mistakes keeps the first MaxErrors and counts the rest;
// each message is bounded even when the value it quotes is not.
func TestParseErrorsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(base)
	for i := range 1000 {
		fmt.Fprintf(&b, "    k%d: 1\n", i)
	}
	b.WriteString("    priority: " + strings.Repeat("y", 100000) + "\n")
	_, err := Parse("c.yaml", []byte(b.String()))
	var errs *Errors
	if !errors.As(err, &errs) || errs.Len() != 1001 || len(errs.List) != MaxErrors || errs.More != 1001-MaxErrors {
		t.Fatalf("got %d errors kept, %d more", len(errs.List), errs.More)
	}
	out := errs.Error()
	if lines := strings.Count(out, "\n") + 1; lines != MaxErrors+1 || !strings.HasSuffix(out, "\nand 951 more") {
		t.Fatalf("%d lines, ending %q", lines, out[len(out)-40:])
	}
	sum := Summary(err)
	if !strings.HasPrefix(sum, "1001 errors: c.yaml:5:5: unknown key \"k0\"") || !strings.HasSuffix(sum, " | and 998 more") || strings.Contains(sum, "\n") || len(sum) > 2000 {
		t.Fatalf("summary %q", sum)
	}
	// A huge key: its message is cut.
	_, err = Parse("c.yaml", []byte(base+"    priority: "+strings.Repeat("y", 100000)+"\n"))
	if len(err.Error()) > 1000 {
		t.Fatalf("one error is %d bytes", len(err.Error()))
	}
}

// The file: 200k aliases of one router, 1.4 MB. It took 21.7 s and
// 3.8 GB; it is refused before any router is read.
func TestParseManyAliases(t *testing.T) {
	data := []byte("routers:\n  - &r {interface: eth0, vrid: 1, addresses: [10.77.0.1/24]}\n" + strings.Repeat("  - *r\n", 200000))
	_, err := Parse("c.yaml", data)
	var errs *Errors
	if !errors.As(err, &errs) || errs.Len() != 1 || !strings.Contains(errs.List[0].What, "YAML aliases add more than") {
		t.Fatalf("got %v", err)
	}
	// A few aliases, as people write them to share a block, are fine.
	shared := "routers:\n  - {interface: eth0, vrid: 1, addresses: [10.77.0.1/24], notify: &n [[/usr/bin/logger, -t, vrrp]]}\n" +
		"  - {interface: eth0, vrid: 2, addresses: [10.77.0.2/24], notify: *n}\n"
	if _, err := Parse("c.yaml", []byte(shared)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkParseManyAliases(b *testing.B) {
	data := []byte("routers:\n  - &r {interface: eth0, vrid: 1, addresses: [10.77.0.1/24]}\n" + strings.Repeat("  - *r\n", 200000))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Parse("c.yaml", data)
	}
}

// fakeHost is a machine with the given interfaces (MTU 1500), groups and
// executables.
type fakeHost struct {
	ifs    map[string][]netip.Prefix
	groups []string
	execs  []string
	// recorded is what the record file of a running govrrpd lists.
	recorded []netip.Addr
}

func (h fakeHost) Recorded(string) []netip.Addr { return h.recorded }

func (h fakeHost) Interfaces() ([]Interface, error) {
	var out []Interface
	for _, name := range slices.Sorted(maps.Keys(h.ifs)) {
		out = append(out, Interface{Name: name, MTU: 1500, Addrs: h.ifs[name]})
	}
	return out, nil
}

func (h fakeHost) Group(name string) error {
	if slices.Contains(h.groups, name) {
		return nil
	}
	return user.UnknownGroupError(name) // as user.LookupGroup says it
}

func (h fakeHost) Executable(path string) error {
	if slices.Contains(h.execs, path) {
		return nil
	}
	return errors.New("not found")
}

func TestCheckHost(t *testing.T) {
	host := fakeHost{
		ifs: map[string][]netip.Prefix{
			"eth0": {netip.MustParsePrefix("10.77.0.1/24")},
			"lo":   {netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")},
		},
		groups: []string{"vrrp"},
		execs:  []string{"/bin/true"},
	}
	many6 := "routers:\n  - interface: eth0\n    vrid: 51\n    addresses: [fe80::1"
	for i := range 90 {
		many6 += fmt.Sprintf(", fd77::%x", i+1)
	}
	many6 += "]\n"
	for _, tc := range []struct {
		name, yaml, want, warn string
		h                      Host
	}{
		{name: "ok", yaml: base},
		// Missing interfaces may appear later (VLAN, bond, VRF): a warning.
		{name: "missing interface", yaml: strings.Replace(base, "eth0", "eth9", 1), warn: `c.yaml:2:16: interface "eth9": no such interface; the router waits in Fault`},
		// A route's or rule's device is like the interface (issue 13).
		{name: "missing route dev", yaml: base + "    routes: [{to: 10.78.0.0/16, dev: eth9}]\n", warn: `c.yaml:5:14: route dev "eth9": no such interface`},
		// Excluded and dev addresses follow the VIPs' rules (issue 13).
		{name: "excluded is the host's", yaml: base + "    excluded_addresses: [10.77.0.1/24]\n", want: "c.yaml:5:26: 10.77.0.1 is already an address of eth0; govrrpd would delete it"},
		{name: "dev address is the host's", yaml: "routers:\n  - {interface: eth0, vrid: 51, accept: true, addresses: [{address: 127.0.0.1/8, dev: lo}]}\n", want: "c.yaml:2:59: 127.0.0.1 is already an address of lo"},
		{name: "missing address dev", yaml: base + "    excluded_addresses: [{address: 10.78.0.1, dev: eth7}]\n", warn: `c.yaml:5:26: the device of 10.78.0.1 "eth7": no such interface`},
		{name: "missing rule oif", yaml: base + "    rules: [{table: 1, oif: eth8}]\n", warn: `c.yaml:5:13: rule oif "eth8": no such interface`},
		{name: "owner without the address", yaml: base + "    priority: 255\n", want: "c.yaml:5:15: priority 255 means this box owns 10.77.0.254, but eth0 does not have it; write priority 1..254"},
		{name: "owner with the address", yaml: strings.Replace(base, "10.77.0.254/24", "10.77.0.1/24", 1) + "    priority: 255\n"},
		// A non-owner's VIPs are deleted when it leaves Master: never one of the host's.
		{name: "VIP is the interface's own address", yaml: strings.Replace(base, "10.77.0.254/24", "10.77.0.1/24", 1),
			want: "c.yaml:4:17: 10.77.0.1 is already an address of eth0; govrrpd would delete it"},
		{name: "VIP is another interface's address", yaml: strings.Replace(base, "[10.77.0.254/24]", "[10.77.0.254/24, 127.0.0.1]", 1),
			want: "c.yaml:4:33: 127.0.0.1 is already an address of lo; govrrpd would delete it"},
		{name: "VIP on a missing interface is still the host's", yaml: strings.Replace(strings.Replace(base, "eth0", "eth9", 1), "10.77.0.254/24", "10.77.0.1/24", 1),
			want: "c.yaml:4:17: 10.77.0.1 is already an address of eth0", warn: `interface "eth9"`},
		{name: "link-local VIP held by another link", yaml: strings.Replace(base, "[10.77.0.254/24]", "[fe80::51, fd77::1]", 1), h: fakeHost{ifs: map[string][]netip.Prefix{"eth0": nil, "eth1": {netip.MustParsePrefix("fe80::51/64")}}}},
		{name: "link-local VIP held by its link", yaml: strings.Replace(base, "[10.77.0.254/24]", "[fe80::51, fd77::1]", 1), h: fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("fe80::51/64")}}},
			want: "c.yaml:4:17: fe80::51 is already an address of eth0"},
		// At a reload the Master's own VIPs are on the interface: not the host's.
		{name: "VIP installed by govrrpd", yaml: base, h: Installed(fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.1/24"), netip.MustParsePrefix("10.77.0.254/24")}}}, own("10.77.0.254"))},
		// At a reload only what govrrpd installed is exempt, whatever the
		// record file says: a configured VIP it has not installed, that
		// the host has since taken, is refused.
		{name: "VIP recorded, not installed, at a reload", yaml: base, h: Installed(fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.254/24")}}, recorded: []netip.Addr{netip.MustParseAddr("10.77.0.254")}}, own()),
			want: "c.yaml:4:17: 10.77.0.254 is already an address of eth0"},
		// After a kill -9 the VIPs stay, and the record says they were govrrpd's.
		{name: "VIP recorded by govrrpd", yaml: base, h: fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.1/24"), netip.MustParsePrefix("10.77.0.254/24")}}, recorded: []netip.Addr{netip.MustParseAddr("10.77.0.254")}}},
		{name: "VIP not installed by govrrpd", yaml: base, h: Installed(fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.254/24")}}}, own("10.77.0.9")),
			want: "c.yaml:4:17: 10.77.0.254 is already an address of eth0"},
		// 40 + 8 + 91·16 = 1504 bytes.
		{name: "advert larger than the MTU", yaml: many6, want: "c.yaml:4:16: an advert of 91 addresses is 1504 bytes, more than the MTU 1500 of eth0", warn: ""},
		{name: "unknown control_group", yaml: "control_group: nobody-here\n" + base, want: `c.yaml:1:16: control_group "nobody-here": no such group on this host; create it with groupadd --system nobody-here (the Debian package creates govrrp), or name an existing group (getent group lists them), or remove the key`},
		{name: "known control_group", yaml: "control_group: vrrp\n" + base},
		{name: "missing notify", yaml: base + "    notify: [/opt/hook]\n", warn: "c.yaml:5:13: notify command /opt/hook: not found; install it"},
		{name: "missing notify in two routers warns once", yaml: base + "    notify: [/opt/hook]\n  - {interface: eth0, vrid: 52, addresses: [10.77.0.253/24], notify: [/opt/hook]}\n", warn: "c.yaml:5:13: notify command /opt/hook: not found"},
		{name: "missing notify_master", yaml: base + "    notify_master: [/opt/up]\n", warn: "c.yaml:5:20: notify command /opt/up: not found; install it"},
		{name: "missing script", yaml: base + "scripts:\n  chk: {exec: [/opt/chk, -q]}\n", warn: `c.yaml:6:15: script "chk": /opt/chk: not found`},
		{name: "present script", yaml: base + "scripts:\n  chk: {exec: [/bin/true]}\n"},
		// A bare name the load did not find in CommandPath (keepalived's
		// script "pidof haproxy" on a box without it).
		{name: "bare script not found", yaml: base + "scripts:\n  chk: {exec: [no-such-command-x, -q]}\n", warn: `c.yaml:6:15: script "chk": no-such-command-x: not found in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; install it`},
		{name: "bare notify not found", yaml: base + "    notify_master: [no-such-hook-x]\n", warn: "c.yaml:5:20: notify command no-such-hook-x: not found in /usr/local/sbin"},
		// A configured source (keepalived unicast_src_ip, mcast_src_ip)
		// is the interface's: else a warning for either, one check
		// (SourceMissing), as the address may be added later and the
		// daemon keeps the router in Fault (source-missing) until it is.
		{name: "unicast_source on the interface", yaml: base + "    unicast_peers: [10.77.0.2]\n    unicast_source: 10.77.0.1\n"},
		{name: "multicast_source on the interface", yaml: base + "    multicast_source: 10.77.0.1\n"},
		{name: "multicast_source not on the interface", yaml: base + "    multicast_source: 10.77.0.9\n",
			warn: "c.yaml:5:23: multicast_source 10.77.0.9 is not an address of eth0; add it (ip address add 10.77.0.9 dev eth0), or write one of the interface's addresses; until then the router waits in Fault (source-missing)"},
		{name: "multicast_source on a missing interface", yaml: strings.Replace(base, "eth0", "eth9", 1) + "    multicast_source: 10.77.0.9\n", warn: `interface "eth9"`},
		{name: "unicast_source not on the interface", yaml: base + "    unicast_peers: [10.77.0.2]\n    unicast_source: 10.77.0.9\n",
			warn: "c.yaml:6:21: unicast_source 10.77.0.9 is not an address of eth0; add it (ip address add 10.77.0.9 dev eth0), or write one of the interface's addresses; until then the router waits in Fault (source-missing)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			h := tc.h
			if h == nil {
				h = host
			}
			warns, err := Check(c, h)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
			switch {
			case tc.warn == "" && len(warns) > 0:
				t.Fatalf("unexpected warnings %v", warns)
			case tc.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0].Error(), tc.warn)):
				t.Fatalf("warnings %v, want %s", warns, tc.warn)
			}
		})
	}
}

// The record file round-trips through System.Recorded.
func TestRecord(t *testing.T) {
	if f := RecordFile(); !strings.HasPrefix(f, RecordDir+"/netns-") {
		t.Fatalf("RecordFile %q", f)
	}
	path := filepath.Join(t.TempDir(), "d", "netns-1.vips")
	if got := (System{}).Recorded(path); got != nil {
		t.Fatalf("no file: %v", got)
	}
	want := []netip.Addr{netip.MustParseAddr("10.77.0.254"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fd77::1")}
	if err := Record(path, want); err != nil {
		t.Fatal(err)
	}
	if got := (System{}).Recorded(path); !slices.Equal(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	// At stop: the file goes, and the directory when it is empty.
	if err := Unrecord(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record directory left: %v", err)
	}
	if err := Unrecord(path); err != nil {
		t.Fatalf("no record to remove: %v", err)
	}
}

// own is what Installed reports govrrpd installed.
func own(addrs ...string) func() []netip.Addr {
	return func() []netip.Addr {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
}

// Record, run as root in /run, never writes through a link planted where
// it writes (the fixed name path.new was followed, truncating the file it
// pointed at), and concurrent writers (a reload while another one runs)
// never share a temporary file: the record is always one writer's whole.
func TestRecordWritesNoLink(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "netns-1.vips")
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path+".new"); err != nil {
		t.Fatal(err)
	}
	if err := Record(path, c.Routers[0].VIPs()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Fatalf("Record wrote through a link: the file it pointed at now holds %q", b)
	}
	if got := (System{}).Recorded(path); len(got) != 1 || got[0] != netip.MustParseAddr("10.77.0.254") {
		t.Fatalf("recorded %v", got)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Fatalf("record file %v %v", fi, err)
	}
}

// The advert's size on the wire, IP header included (spec §3.1, length).
func TestAdvertSize(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want int
	}{
		{base, 20 + 8 + 4},
		{base + "    version: 2\n", 20 + 8 + 4 + 8},
		{strings.Replace(base, "[10.77.0.254/24]", "[fe80::1, fd77::1]", 1), 40 + 8 + 32},
	} {
		c, err := Parse("c.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if got := AdvertSize(&c.Routers[0]); got != tc.want {
			t.Errorf("%q: %d bytes, want %d", tc.yaml, got, tc.want)
		}
	}
}

// LoadAndCheck is the one entry point: parse errors stop before the host
// checks; nil host skips them.
func TestLoadAndCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(strings.Replace(base, "eth0", "eth9", 1)), 0o644)
	c, warns, err := LoadAndCheck(good, fakeHost{})
	if err != nil || c == nil || len(warns) != 1 {
		t.Fatalf("got %v, %v, %v", c, warns, err)
	}
	c, warns, err = LoadAndCheck(good, nil)
	if err != nil || c == nil || len(warns) != 0 {
		t.Fatalf("no host: got %v, %v, %v", c, warns, err)
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(base+"#"+strings.Repeat("x", 2*MaxFileSize)), 0o644)
	if _, _, err := LoadAndCheck(big, nil); err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Fatalf("big file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	full, _ := os.ReadFile("testdata/full.yaml")
	f.Add(string(full))
	f.Add(base)
	f.Add("routers: [{interface: e, vrid: 1, addresses: [fe80::1]}]")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f.yaml", []byte(s))
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
	})
}

var update = flag.Bool("update", false, "rewrite docs/CONFIG.md")

// docs/CONFIG.md is generated from Schema; this fails when it is stale.
func TestReference(t *testing.T) {
	example, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Reference(string(example))
	const path = "../../docs/CONFIG.md"
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("docs/CONFIG.md is out of date: go test ./internal/config -run TestReference -update")
	}
}

// The real machine's answers: lo exists with 127.0.0.1, root is a group,
// /bin/sh runs; a plain file and a missing path do not.
func TestSystemHost(t *testing.T) {
	ifs, err := System{}.Interfaces()
	if err != nil || !slices.ContainsFunc(ifs, func(i Interface) bool {
		return i.Name == "lo" && i.MTU > 0 && slices.Contains(i.Addrs, netip.MustParsePrefix("127.0.0.1/8"))
	}) {
		t.Fatalf("interfaces %+v, %v", ifs, err)
	}
	if err := (System{}).Group("root"); err != nil {
		t.Fatal(err)
	}
	// The error control_group's check words without os/user's repetition.
	if err := (System{}).Group("govrrp-no-such-group"); !errors.As(err, new(user.UnknownGroupError)) {
		t.Fatalf("unknown group: %v, want a user.UnknownGroupError", err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(plain, nil, 0o644)
	for path, want := range map[string]string{"/bin/sh": "", plain: "not an executable file", "/govrrp/none": "not found", "/": "not an executable file"} {
		if err := (System{}).Executable(path); fmt.Sprint(err) != cmp.Or(want, "<nil>") {
			t.Errorf("Executable(%s) = %v, want %s", path, err, want)
		}
	}
}

// keepalived's hook forms, track files (weight 1 by default, as keepalived's
// track_file) and a script's user and group are read (issue 13).
func TestParseKeepalivedForms(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`    notify_master: [/bin/up]
    notify_backup: [[/bin/state, backup]]
    notify_fault: [/bin/f]
    notify_stop: [/bin/s]
    notify_keepalived: [/bin/ka]
    track: {files: [{path: /run/drain}, {path: /run/w, weight: -10}]}
scripts:
  chk: {exec: [/bin/true], user: root}
  chk2: {exec: [/bin/true], group: root}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routers[0]
	want := KeepalivedHooks{Master: [][]string{{"/bin/up"}}, Backup: [][]string{{"/bin/state", "backup"}},
		Fault: [][]string{{"/bin/f"}}, Stop: [][]string{{"/bin/s"}}, Generic: [][]string{{"/bin/ka"}}}
	if !reflect.DeepEqual(r.Hooks, want) {
		t.Errorf("hooks %+v, want %+v", r.Hooks, want)
	}
	if f := r.Track.Files; !reflect.DeepEqual(f, []TrackFile{{"/run/drain", 1}, {"/run/w", -10}}) {
		t.Errorf("track files %+v", f)
	}
	if s := c.Scripts["chk"]; s.User != "root" || s.UID != 0 || s.GID != 0 {
		t.Errorf("script chk: %+v", s)
	}
	if s := c.Scripts["chk2"]; s.Group != "root" || s.GID != 0 || s.UID != uint32(os.Getuid()) {
		t.Errorf("script chk2: %+v", s)
	}
}

// TestBareCommandLookedUp: a command written as a bare name, as keepalived's
// script "killall -0 haproxy", is looked up in CommandPath when the file is
// loaded, the same for validate and the daemon, and run by its absolute path;
// one not found stays bare (Check warns, proc refuses to run it). It also
// reads a script's init (failed by default, or unknown).
func TestBareCommandLookedUp(t *testing.T) {
	sh, ok := LookCommand("sh")
	if !ok {
		testenv.Missing(t, "no sh in "+CommandPath)
	}
	const base = "routers:\n  - interface: eth0\n    vrid: 51\n    addresses: [10.77.0.254/24]\n    notify_master: [sh]\n    notify: [[sh, -c, 'exit 0']]\n"
	c, err := Parse("c.yaml", []byte(base+"scripts:\n  chk: {exec: [sh, -c, 'exit 0']}\n  gone: {exec: [no-such-command-x], init: unknown}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routers[0]
	if got := c.Scripts["chk"].Exec; !slices.Equal(got, []string{sh, "-c", "exit 0"}) {
		t.Errorf("script exec %q, want %s first", got, sh)
	}
	if r.Hooks.Master[0][0] != sh || r.Notify[0][0] != sh {
		t.Errorf("hooks %q %q, want %s", r.Hooks.Master, r.Notify, sh)
	}
	if c.Scripts["chk"].InitUnknown {
		t.Error("init defaults to unknown")
	}
	if !c.Scripts["gone"].InitUnknown {
		t.Error("init: unknown not read")
	}
	if got := c.Scripts["gone"].Exec[0]; got != "no-such-command-x" {
		t.Errorf("a command not found became %q", got)
	}
	if !filepath.IsAbs(sh) || filepath.Base(sh) != "sh" {
		t.Errorf("LookCommand(sh) = %s", sh)
	}
}

// TestNotifyUser: notify_user and notify_group are resolved like a script's
// user and group, into the credential every hook runs with.
func TestNotifyUser(t *testing.T) {
	const base = "routers:\n  - {interface: eth0, vrid: 51, addresses: [10.77.0.254/24]}\n"
	c, err := Parse("c.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.NotifyAs.Cred() != nil {
		t.Errorf("without notify_user the hooks run as %+v, want the daemon", c.NotifyAs.Cred())
	}
	c, err = Parse("c.yaml", []byte("notify_user: root\nnotify_group: root\n"+base))
	if err != nil {
		t.Fatal(err)
	}
	if cr := c.NotifyAs.Cred(); cr == nil || cr.Uid != 0 || cr.Gid != 0 || cr.Groups == nil || len(cr.Groups) != 0 {
		t.Errorf("notify_user root: credential %+v, want 0:0 and no supplementary groups", cr)
	}
}
