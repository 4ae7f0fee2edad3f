package scenario

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

const pair = "routers: [{name: r1, priority: 200}, {name: r2, priority: 100}]\n"

// Each refusal names its place (file:line:col), what is wrong and what to
// write instead; a near miss is answered with the key or router meant.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // the errors, in order
	}{
		{"empty", "", []string{`s.yaml:1:1: the file is empty; write at least routers:`}},
		{"syntax", "routers: [", []string{`s.yaml:1:1: YAML syntax near here`}},
		{"typo at the top", "intervall: 1s\n" + pair, []string{`s.yaml:1:1: unknown key "intervall" in the scenario; did you mean "interval"?`}},
		{"typo in a router", "routers: [{name: r1, priorty: 200}]", []string{`s.yaml:1:22: unknown key "priorty" in a router; did you mean "priority"?`}},
		{"typo in an event", pair + "events: [{at: 1s, crahs: r1}]", []string{`s.yaml:2:19: unknown key "crahs" in an event; did you mean "crash"?`}},
		{"unknown router, near", "routers: [{name: left, priority: 200}, {name: right, priority: 100}]\nevents: [{at: 1s, crash: lefty}]",
			[]string{`s.yaml:2:26: no router is named "lefty"; did you mean "left"?`}},
		{"unknown router, far", pair + "events: [{at: 1s, stop: zz}]", []string{`s.yaml:2:25: no router is named "zz"; name one of: r1, r2, or master`}},
		{"master is not in a group", pair + "events: [{at: 1s, partition: [[master], [r2]]}]", []string{`s.yaml:2:32: no router is named "master"; name one of: r1, r2`}},
		{"set twice", "seed: 1\nseed: 2\n" + pair, []string{`s.yaml:2:1: "seed" is set twice; keep one of them (the first is at line 1)`}},
		{"interval twice by two names", "interval: 1s\nadvert_interval: 2s\n" + pair, []string{`s.yaml:2:1: interval and advert_interval are the same key; keep one of them`}},
		{"duration without unit", "interval: 1\n" + pair, []string{`s.yaml:1:11: 1 has no unit; write 1s (or 1ms)`}},
		{"interval step [5798-6.1-c]", "interval: 15ms\n" + pair, []string{`s.yaml:2:11: router r1: VRRPv3 advert interval 15ms`, `s.yaml:2:38: router r2: VRRPv3 advert interval 15ms`}},
		{"priority 0 [5798-6.1-b]", "routers: [{name: r1, priority: 0}]", []string{`s.yaml:1:32: 0 is out of range 1..255`}},
		{"owner and priority", "routers: [{name: r1, priority: 100, owner: true}]", []string{`s.yaml:1:44: owner: true means priority 255, but priority is 100`}},
		{"no priority", "routers: [{name: r1}]", []string{`s.yaml:1:11: router r1 needs a priority; add priority: 1..254 (or owner: true)`}},
		{"no name", "routers: [{priority: 1}]", []string{`s.yaml:1:11: a router needs a name`}},
		{"bad name", "routers: [{name: 'a b', priority: 1}]", []string{`s.yaml:1:18: router name "a b" has characters that are not allowed`}},
		{"router not a mapping", "routers: [r1]", []string{`s.yaml:1:11: a router must be a mapping, not "r1"`}},
		{"no routers", "seed: 1", []string{`s.yaml:1:1: no routers; add routers:`}},
		{"routers not a list", "routers: {name: r1}", []string{`s.yaml:1:10: routers must be a list, not a mapping`}},
		{"family of an address", "addresses: [fd77::1]\n" + pair, []string{`s.yaml:1:12: virtual address fd77::1 is not IPv4`}},
		{"bad address", "addresses: [10.77.0.300/24]\n" + pair, []string{`s.yaml:1:13: "10.77.0.300/24" is not an address/prefix`}},
		{"same primary", "routers: [{name: r1, priority: 2, address: 10.77.0.9}, {name: r2, priority: 1, address: 10.77.0.9}]",
			[]string{`s.yaml:1:56: router r2: address 10.77.0.9 is also r1's; give each router its own`}},
		{"two actions", pair + "events: [{at: 1s, crash: r1, stop: r2}]", []string{`s.yaml:2:30: one action per event (this one also has crash)`}},
		{"no action", pair + "events: [{at: 1s}]", []string{`s.yaml:2:10: an event needs an action; add one of: crash, restart`}},
		{"no time", pair + "events: [{crash: r1}]", []string{`s.yaml:2:10: an event needs a time; add at:`}},
		{"owner's priority fixed", pair + "events: [{at: 1s, priority: {r1: 255}}]", []string{`s.yaml:2:34: 255 is out of range 1..254`}},
		{"two groups", pair + "events: [{at: 1s, partition: [[r1], [r1, r2]]}]", []string{`s.yaml:2:38: router "r1" is in two groups`}},
		{"loss", "loss: 2\n" + pair, []string{`s.yaml:1:7: "2" is not a probability; write a probability 0..1`}},
		{"late event", "duration: 5s\n" + pair + "events: [{at: 6s, heal: true}]", []string{`s.yaml:3:15: event at 6s comes after the end of the run (duration 5s)`}},
		{"too long [limits]", "interval: 10ms\nduration: 999h\n" + pair, []string{`s.yaml:1:1: duration 999h0m0s is more than 1000000 advert intervals`}},
		{"heal false", pair + "events: [{at: 1s, heal: false}]", []string{`s.yaml:2:25: heal: false does nothing; write heal: true`}},
		{"second document", pair + "---\nseed: 2\n", []string{`s.yaml:2:1: a second YAML document starts here; govrrp simulate reads only one`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("s.yaml", []byte(tc.in), nil)
			var es *yamlwalk.Errors
			if sc != nil || !errors.As(err, &es) {
				t.Fatalf("Parse = %v, %v; want *yamlwalk.Errors", sc, err)
			}
			if len(es.List) != len(tc.want) {
				t.Fatalf("errors:\n%v\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if got := es.List[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got, w)
				}
			}
		})
	}
}

// A scenario may describe its routers with the keys of govrrpd.yaml:
// advert_interval, addresses with a /prefix, accept, vrid.
func TestParseConfigKeys(t *testing.T) {
	in := `vrid: 51
advert_interval: 500ms
addresses: [10.77.0.254/24]
routers:
  - {name: r1, priority: 200, advert_interval: 1s, accept: true, addresses: [10.77.0.250/24, 10.77.0.251]}
  - {name: r2, priority: 100, preempt: false, start: never}
events:
  - {at: 10s, start: r2}
`
	sc, err := Parse("s.yaml", []byte(in), func(s *Settings) { s.Seed = 7 })
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := sc.Routers[0].Config, sc.Routers[1].Config
	switch {
	case sc.VRID != 51 || r1.VRID != 51 || sc.Seed != 7:
		t.Errorf("vrid %d/%d seed %d", sc.VRID, r1.VRID, sc.Seed)
	case r1.AdvertInterval != time.Second || !r1.Accept || len(r1.Addresses) != 2 || r1.Addresses[0] != netip.MustParseAddr("10.77.0.250"):
		t.Errorf("r1 %+v", r1)
	case r2.AdvertInterval != 500*time.Millisecond || r2.Preempt || r2.Addresses[0] != netip.MustParseAddr("10.77.0.254"):
		t.Errorf("r2 %+v", r2)
	case len(sc.Events) != 1 || sc.Events[0].Kind != Start || sc.Events[0].Target != "r2":
		t.Errorf("events %+v", sc.Events)
	case sc.Duration != 10*time.Second+sc.Settle():
		t.Errorf("duration %v", sc.Duration)
	}
}

// A start time is a start event, ordered before the file's events at the
// same time; events at one time keep file order.
func TestParseEventOrder(t *testing.T) {
	in := pair[:len(pair)-2] + ", {name: r3, priority: 50, start: 2s}]\nevents:\n  - {at: 2s, priority: {master: 90}}\n  - {at: 1s, loss: 0.5}\n  - {at: 2s, delay: 1ms}\n"
	sc, err := Parse("s.yaml", []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, e := range sc.Events {
		kinds = append(kinds, e.Kind)
	}
	if want := []Kind{SetLoss, Start, SetPriority, SetDelay}; len(kinds) != len(want) || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] || kinds[3] != want[3] {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if sc.Family != vrrp.IPv4 || sc.Version != 3 {
		t.Errorf("defaults %+v", sc.Settings)
	}
}

func TestKindNames(t *testing.T) {
	for k := Crash; k <= SetDelay; k++ {
		if kindOf(k.String()) != k {
			t.Errorf("%v does not round-trip", k)
		}
	}
	if Kind(0).String() != "Kind(0)" || kindOf("explode") != 0 {
		t.Error("unknown kinds")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(pair + "events: [{at: 1s, crash: master}, {at: 2s, partition: [[r1], [r2]]}, {at: 3s, heal: true}]")
	f.Add("family: ipv6\nversion: 3\nrouters: [{name: a, owner: true}, {name: b, priority: 1, start: never}]\nevents: [{at: 1s, start: b}]")
	f.Add("vrid: 9\nadvert_interval: 10ms\naddresses: [10.77.0.1/24]\nrouters: [{name: x, priority: 9, version: 2, interval: 1s}]")
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := Parse("f.yaml", []byte(s), nil)
		if (sc == nil) == (err == nil) {
			t.Fatalf("Parse returned scenario %v and error %v", sc != nil, err)
		}
		if sc != nil && (len(sc.Routers) == 0 || sc.Duration <= 0) {
			t.Fatalf("accepted %d routers for %v", len(sc.Routers), sc.Duration)
		}
	})
}
