package config

import (
	"errors"
	"strings"
	"testing"
)

const syncBase = `routers:
  - name: out
    interface: eth0
    vrid: 1
    addresses: [10.77.0.254/24]
  - name: in
    interface: eth1
    vrid: 2
    addresses: [10.78.0.254/24]
  - name: in6
    interface: eth1
    vrid: 2
    addresses: [fe80::2, fd77::2]
scripts:
  chk: {exec: [/bin/true]}
`

// Members on different interfaces and of both families form one group;
// the group's tracked objects are added to every member.
func TestSyncGroupParse(t *testing.T) {
	c, err := Parse("c.yaml", []byte(syncBase+`sync_groups:
  fw:
    routers: [out, in, in6]
    track:
      interfaces: [{name: eth9}]
      scripts: [{name: chk, weight: -20}]
    notify: [/usr/local/bin/group-hook]
    notify_master: [/usr/local/bin/to-master]
    notify_keepalived: [[/usr/local/bin/ka, x]]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SyncGroups) != 1 || c.SyncGroups[0].Name != "fw" || strings.Join(c.SyncGroups[0].Routers, ",") != "out,in,in6" {
		t.Fatalf("groups: %+v", c.SyncGroups)
	}
	if h := c.SyncGroups[0].Hooks; len(h.Master) != 1 || len(h.Generic) != 1 || h.Generic[0][1] != "x" {
		t.Fatalf("keepalived hooks: %+v", h)
	}
	if len(c.SyncGroups[0].Notify) != 1 {
		t.Fatalf("notify: %v", c.SyncGroups[0].Notify)
	}
	for _, r := range c.Routers {
		if len(r.Track.Interfaces) != 1 || r.Track.Interfaces[0] != (TrackItem{"eth9", 0}) ||
			len(r.Track.Scripts) != 1 || r.Track.Scripts[0] != (TrackItem{"chk", -20}) {
			t.Fatalf("%s: the group's tracking not applied: %+v", r.Name, r.Track)
		}
	}
}

func TestSyncGroupErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want, fix string }{
		{"unknown member", "sync_groups:\n  fw:\n    routers: [out, inn]\n", `c.yaml:17:3: sync group "fw": no router is named "inn"`, `did you mean "in"?`},
		{"member in two groups", "sync_groups:\n  a:\n    routers: [out, in]\n  b:\n    routers: [in6, in]\n", `c.yaml:19:3: router "in" is in sync groups "a" and "b"`, "one group"},
		{"member twice", "sync_groups:\n  a:\n    routers: [out, out]\n", `c.yaml:17:3: sync group "a" lists router "out" twice`, "once"},
		{"no members", "sync_groups:\n  a:\n    track: {}\n", `c.yaml:17:3: sync group "a" has no routers`, "routers:"},
		{"unknown key", "sync_groups:\n  a:\n    routers: [out]\n    members: [in]\n", `c.yaml:19:5: unknown key "members"`, ""},
		{"undefined script", "sync_groups:\n  a:\n    routers: [out]\n    track: {scripts: [{name: nope}]}\n", `c.yaml:17:3: sync group "a": tracked script "nope" is not defined`, "scripts:"},
		{"bad name", "sync_groups:\n  a b:\n    routers: [out]\n", `c.yaml:17:3: sync group name "a b"`, "letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(syncBase+tc.yaml))
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want errors, got %v", err)
			}
			e := errs.List[0]
			if !strings.Contains(e.Error(), tc.want) || !strings.Contains(e.Fix, tc.fix) {
				t.Fatalf("got %v (fix %q), want %s (fix %q)", err, e.Fix, tc.want, tc.fix)
			}
		})
	}
}
