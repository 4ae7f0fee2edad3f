package config

import (
	"strings"
	"testing"
)

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
