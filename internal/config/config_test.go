package config

import (
	"errors"
	"flag"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

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
	gw.Pos, gw.KeyPos = Pos{}, nil
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
		{"IPv6 first not link-local", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fd77::5, fe80::5]\n", "c.yaml:4:17: an IPv6 address list must start with the virtual link-local", "fe80::"},
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
		{"relative notify", base + "    notify: [notify.sh]\n", "c.yaml:5:14: notify command \"notify.sh\" is not an absolute path", "absolute path"},
		{"script without exec", base + "scripts:\n  chk: {interval: 1s}\n", "c.yaml:6:3: script \"chk\" has no exec", ""},
		{"script timeout > interval", base + "scripts:\n  chk: {exec: [/bin/true], interval: 1s, timeout: 2s}\n", "c.yaml:6:51: timeout 2s is longer than the interval", ""},
		{"routers not a list", "routers: {a: 1}\n", "c.yaml:1:10: routers must be a list", ""},
		{"yaml syntax", "routers:\n  - interface: eth0\n   vrid: 5\n", "c.yaml:1:1: YAML syntax near here: did not find expected '-' indicator", "indentation"},
		{"duplicate key", base + "    priority: 10\n    priority: 20\n", "c.yaml:6:5: \"priority\" is set twice", "first is at line 5"},
		{"log level", base + "log: {level: loud}\n", "c.yaml:5:14: \"loud\" is not valid here", "debug, info, warn, error"},
		{"metrics listen", base + "metrics_listen: localhost\n", "c.yaml:5:17: metrics_listen \"localhost\"", "host:port"},
		{"refresh too fast", base + "    announce: {refresh: 100ms}\n", "c.yaml:5:25: refresh 100ms would flood", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			msg := errs[0].Error()
			if !strings.HasPrefix(msg, tc.want[:strings.Index(tc.want, ": ")+2]) || !strings.Contains(msg, tc.want[strings.Index(tc.want, ": ")+2:]) {
				t.Fatalf("got  %s\nwant %s…", err, tc.want)
			}
			if tc.fix != "" && !strings.Contains(errs[0].Fix, tc.fix) {
				t.Fatalf("fix %q lacks %q", errs[0].Fix, tc.fix)
			}
		})
	}
}

// All problems of a file are reported at once, in file order.
func TestParseReportsAll(t *testing.T) {
	_, err := Parse("c.yaml", []byte(base+"    priority: 0\n    preempt: maybe\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 || errs[0].Pos.Line != 5 || errs[1].Pos.Line != 6 {
		t.Fatalf("got %v", err)
	}
}

type fakeHost map[string][]netip.Prefix

func (h fakeHost) InterfaceAddrs(name string) ([]netip.Prefix, error) {
	a, ok := h[name]
	if !ok {
		return nil, ErrNoInterface
	}
	return a, nil
}

func TestCheckHost(t *testing.T) {
	host := fakeHost{"eth0": {netip.MustParsePrefix("10.77.0.1/24")}}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"ok", base, ""},
		{"missing interface", strings.Replace(base, "eth0", "eth9", 1), `c.yaml:2:16: interface "eth9": no such interface; name an existing interface`},
		{"owner without the address", base + "    priority: 255\n", "c.yaml:5:15: priority 255 means this box owns 10.77.0.254, but eth0 does not have it; write priority 1..254"},
		{"owner with the address", strings.Replace(base, "10.77.0.254/24", "10.77.0.1/24", 1) + "    priority: 255\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			err = c.CheckHost(host)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
		})
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
