package scenario

import (
	"strings"
	"testing"
	"time"

	"govrrp/fsm"
)

// A router's bfd key: defaults (those of routers[].bfd_master), every key,
// and refusals at file:line:col.
func TestParseBFD(t *testing.T) {
	sc, err := Parse("s.yaml", []byte(`routers:
  - {name: r1, priority: 200, bfd: {}}
  - {name: r2, priority: 100, bfd: {interval: 10ms, multiplier: 5, successor: true}}
  - {name: r3, priority: 50}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	b1, b2 := sc.Routers[0].BFD, sc.Routers[1].BFD
	if b1 == nil || b1.Interval != 300*time.Millisecond || b1.Multiplier != 3 || b1.Successor != fsm.SuccessorSkew {
		t.Errorf("defaults %+v", b1)
	}
	if b2 == nil || b2.Interval != 10*time.Millisecond || b2.Multiplier != 5 || b2.Successor != fsm.SuccessorNow || sc.Routers[1].Config.Successor != fsm.SuccessorNow {
		t.Errorf("r2 %+v, successor %v", b2, sc.Routers[1].Config.Successor)
	}
	if sc.Routers[2].BFD != nil || sc.Routers[2].Config.Successor != fsm.SuccessorNone {
		t.Errorf("r3 %+v", sc.Routers[2].BFD)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"  - {name: r1, priority: 1, bfd: {interval: 1ms}}\n", "s.yaml:2:45"},
		{"  - {name: r1, priority: 1, bfd: {successor: maybe}}\n", "s.yaml:2:46"},
		{"  - {name: r1, priority: 1, bfd: {intervall: 10ms}}\n", "s.yaml:2:35"},
	} {
		if _, err := Parse("s.yaml", []byte("routers:\n"+tc.yaml), nil); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %s", tc.yaml, err, tc.want)
		}
	}
}

// govrrpd configurations with bfd_master: the simulator runs their BFD,
// and the Backup takes over on the session's failure.
func TestFromConfigsBFD(t *testing.T) {
	bm := "bfd_master: {min_tx: 10ms, min_rx: 20ms, multiplier: 3, successor: true}"
	a := node(t, "a", "routers:\n  - {interface: eth0, vrid: 1, priority: 200, addresses: [10.77.0.254/24], "+bm+"}\n")
	b := node(t, "b", "routers:\n  - {interface: eth0, vrid: 1, priority: 100, addresses: [10.77.0.254/24], "+bm+"}\n")
	scs, err := FromConfigs([]Node{a, b}, []Fault{{Node: "a", Kind: Crash, At: 8 * time.Second}}, Defaults())
	if err != nil {
		t.Fatal(err)
	}
	sc := scs[0]
	if bf := sc.Routers[1].BFD; bf == nil || bf.Interval != 20*time.Millisecond || bf.Successor != fsm.SuccessorNow {
		t.Fatalf("b's BFD %+v", bf)
	}
	res, err := Run(sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range res.Timeline {
		if e.Type == BFDEntry || (e.Type == TransitionEntry && e.To == "Master") {
			seen = append(seen, e.Router+" "+e.To+" "+e.Reason)
		}
	}
	if !strings.Contains(strings.Join(seen, "; "), "b Down control_detection_time_expired; b Master bfd-master-down") {
		t.Fatalf("timeline %q", seen)
	}
}
