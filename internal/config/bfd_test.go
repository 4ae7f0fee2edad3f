package config

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Top-level BFD sessions: defaults, every key, and each refusal with
// file:line:col and what to write instead.
func TestParseBFD(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`bfd:
  - {name: frr, peer: 10.77.0.2, interface: eth0}
  - name: frr6
    peer: fe80::2
    interface: eth0
    local_address: fe80::1
    min_tx: 10ms
    min_rx: 20ms
    multiplier: 5
    passive: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []BFDSession{
		{Name: "frr", Peer: netip.MustParseAddr("10.77.0.2"), Interface: "eth0", MinTx: 300 * time.Millisecond, MinRx: 300 * time.Millisecond, Multiplier: 3},
		{Name: "frr6", Peer: netip.MustParseAddr("fe80::2"), Interface: "eth0", Local: netip.MustParseAddr("fe80::1"),
			MinTx: 10 * time.Millisecond, MinRx: 20 * time.Millisecond, Multiplier: 5, Passive: true},
	}
	if len(c.BFD) != 2 {
		t.Fatalf("%+v", c.BFD)
	}
	for i := range want {
		want[i].Pos = c.BFD[i].Pos
		if c.BFD[i] != want[i] {
			t.Errorf("session %d: %+v\nwant %+v", i, c.BFD[i], want[i])
		}
	}

	for _, tc := range []struct{ name, yaml, want, fix string }{
		{"no name", "bfd:\n  - {peer: 10.77.0.2, interface: eth0}\n", "c.yaml:6:5: BFD session without name", "name:"},
		{"no peer", "bfd:\n  - {name: a, interface: eth0}\n", "c.yaml:6:5: BFD session without peer", "peer:"},
		{"no interface", "bfd:\n  - {name: a, peer: 10.77.0.2}\n", "c.yaml:6:5: BFD session without interface", "interface:"},
		{"bad peer", "bfd:\n  - {name: a, peer: frr, interface: eth0}\n", "c.yaml:6:21: \"frr\" is not an IP address", ""},
		{"multicast peer", "bfd:\n  - {name: a, peer: 224.0.0.1, interface: eth0}\n", "c.yaml:6:21: BFD peer 224.0.0.1 is not a unicast address", ""},
		{"bad name", "bfd:\n  - {name: a b, peer: 10.77.0.2, interface: eth0}\n", "c.yaml:6:12: BFD session name \"a b\" has characters", "letters"},
		{"duplicate name", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: a, peer: 10.77.0.3, interface: eth0}\n", "c.yaml:7:5: BFD session name \"a\" is used twice", "its own name"},
		{"duplicate peer", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: b, peer: 10.77.0.2, interface: eth0}\n", "c.yaml:7:5: BFD peer 10.77.0.2 on eth0 is configured twice", ""},
		{"same peer other interface", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0}\n  - {name: b, peer: 10.77.0.2, interface: eth1}\n", "", ""},
		{"local family", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, local_address: fd77::1}\n", "c.yaml:6:64: local_address fd77::1 and peer 10.77.0.2 are of different families", "peer's family"},
		{"min_tx 9ms", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_tx: 9ms}\n", "c.yaml:6:57: 9ms is out of range", ""},
		{"min_tx 10ms", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_tx: 10ms}\n", "", ""},
		{"min_rx 60s", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 60s}\n", "", ""},
		{"min_rx 61s", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 61s}\n", "c.yaml:6:57: 1m1s is out of range", ""},
		{"sub-microsecond", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, min_rx: 10000500ns}\n", "c.yaml:6:57: BFD intervals are carried in microseconds", "whole microseconds"},
		{"multiplier 0", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 0}\n", "c.yaml:6:61: 0 is out of range 1..255", ""},
		{"multiplier 1", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 1}\n", "", ""},
		{"multiplier 256", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, multiplier: 256}\n", "c.yaml:6:61: 256 is out of range", ""},
		{"echo is not a key", "bfd:\n  - {name: a, peer: 10.77.0.2, interface: eth0, echo: true}\n", "c.yaml:6:49: unknown key \"echo\"", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(base+tc.yaml))
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
			i := strings.Index(tc.want, ": ") + 2
			if !strings.HasPrefix(msg, tc.want[:i]) || !strings.Contains(msg, tc.want[i:]) {
				t.Fatalf("got  %s\nwant %s…", err, tc.want)
			}
			if tc.fix != "" && !strings.Contains(errs.List[0].Fix, tc.fix) {
				t.Fatalf("fix %q lacks %q", errs.List[0].Fix, tc.fix)
			}
		})
	}
}
