package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Top-level BFD sessions: defaults and every key (the refusals are in
// TestParseErrors, "bfd: ...").
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

}

// The host check warns about a session whose interface is missing or lacks
// its local address: the session stays off until a reload.
func TestCheckHostBFD(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+`bfd:
  - {name: ok, peer: 10.77.0.2, interface: eth0, local_address: 10.77.0.1}
  - {name: noif, peer: 10.77.0.2, interface: eth9}
  - {name: noaddr, peer: 10.77.0.3, interface: eth0, local_address: 10.77.0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	warns, err := Check(c, fakeHost{ifs: map[string][]netip.Prefix{"eth0": {netip.MustParsePrefix("10.77.0.1/24")}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		if strings.Contains(w.What, "BFD") {
			got = append(got, w.Error())
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "c.yaml:7:5: BFD session noif: interface \"eth9\"") ||
		!strings.HasPrefix(got[1], "c.yaml:8:5: BFD session noaddr: local_address 10.77.0.9 is not an address of eth0") {
		t.Fatalf("warnings %q", got)
	}
}

// Routers and sync groups track BFD sessions by name, with a weight and
// reverse (keepalived's track_bfd); a name the bfd list lacks is refused
// where it is written, with the closest name.
func TestTrackBFD(t *testing.T) {
	sessions := "bfd:\n  - {name: frr, peer: 10.77.0.2, interface: eth0}\n  - {name: ka, peer: 10.77.0.3, interface: eth0}\n"
	c, err := Parse("c.yaml", []byte(base+"    track: {bfd: [{name: frr, weight: -20}, {name: ka, reverse: true}]}\n"+sessions))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Routers[0].Track.BFD
	if len(got) != 2 || got[0].Name != "frr" || got[0].Weight != -20 || got[0].Reverse || got[1].Name != "ka" || got[1].Weight != 0 || !got[1].Reverse {
		t.Fatalf("%+v", got)
	}
	for _, tc := range []struct{ name, yaml, want, fix string }{
		{"unknown session", base + "    track: {bfd: [{name: frrr, weight: -20}]}\n" + sessions, `c.yaml:5:26: tracked BFD session "frrr" is not defined`, `did you mean "frr"?`},
		{"no sessions at all", base + "    track: {bfd: [{name: frr}]}\n", `c.yaml:5:26: tracked BFD session "frr" is not defined`, "top-level `bfd:`"},
		{"no name", base + "    track: {bfd: [{weight: -20}]}\n" + sessions, `c.yaml:5:19: tracked BFD session without a name`, "name:"},
		{"weight range", base + "    track: {bfd: [{name: frr, weight: 255}]}\n" + sessions, `c.yaml:5:39: 255 is out of range`, ""},
		{"reverse not a bool", base + "    track: {bfd: [{name: frr, reverse: maybe}]}\n" + sessions, `c.yaml:5:40: expected true or false`, ""},
		{"sync group", base + "    name: r1\nsync_groups:\n  g:\n    routers: [r1]\n    track: {bfd: [{name: kaa}]}\n" + sessions, `c.yaml:9:26: sync group "g": tracked BFD session "kaa" is not defined`, `did you mean "ka"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.fix) {
				t.Fatalf("got %v\nwant %q and %q", err, tc.want, tc.fix)
			}
		})
	}
	c, err = Parse("c.yaml", []byte(base+"    name: r1\nsync_groups:\n  g:\n    routers: [r1]\n    track: {bfd: [{name: ka, weight: -5}]}\n"+sessions))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Routers[0].Track.BFD; len(got) != 1 || got[0].Name != "ka" || got[0].Weight != -5 {
		t.Fatalf("the group's tracked session is not the member's: %+v", got)
	}
}
