package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// v2_compat, the VRRPv2/v3 interoperation mode [5798-8.4.2-b][IMPL-15]:
// refused where it cannot work, with the line and what to write instead.
func TestV2Compat(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base+"    v2_compat: true\n"))
	if err != nil {
		t.Fatalf("[5798-8.4.2-b] a v3 IPv4 router at 1s: %v", err)
	}
	if r := c.Routers[0]; !r.V2Compat || r.Version != 3 {
		t.Fatalf("[5798-8.4.2-b] parsed %+v", r)
	}
	for _, tc := range []struct {
		name, yaml, want, fix string
	}{
		{"[5798-8.4.2-b] on a v2 router", base + "    version: 2\n    v2_compat: true\n", "c.yaml:6:16: v2_compat is for a VRRPv3 router", "version: 3"},
		{"[5798-8.4.2-b] IPv6", "routers:\n  - interface: eth0\n    vrid: 5\n    addresses: [fe80::5]\n    v2_compat: true\n", "c.yaml:5:16: v2_compat is IPv4 only", "remove it"},
		{"[IMPL-15] sub-second", base + "    v2_compat: true\n    advert_interval: 500ms\n", "c.yaml:6:22: advert_interval 500ms: with v2_compat the VRRPv2 copies carry whole seconds", "e.g. 1s"},
		{"[IMPL-15] 1.5s", base + "    advert_interval: 1500ms\n    v2_compat: true\n", "c.yaml:5:22: advert_interval 1.5s", "e.g. 2s"},
		{"[IMPL-15] no auth in VRRPv3", base + "    v2_compat: true\n    auth: {type: pass, password: x}\n", "c.yaml:6:11: auth is VRRPv2 only", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			if msg := errs.List[0].Error(); !strings.HasPrefix(msg, tc.want) {
				t.Fatalf("got  %s\nwant %s…", msg, tc.want)
			}
			if !strings.Contains(errs.List[0].Fix, tc.fix) {
				t.Fatalf("fix %q lacks %q", errs.List[0].Fix, tc.fix)
			}
		})
	}
}

// The interoperation mode is for a migration, not for good [5798-8.4.2-a]:
// a router has it only when its configuration says so.
func TestV2CompatOffByDefault(t *testing.T) {
	c, err := Parse("c.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Routers[0]; r.V2Compat {
		t.Fatalf("[5798-8.4.2-a] v2_compat on without being written: %+v", r)
	}
	i := slices.IndexFunc(Schema, func(k Key) bool { return k.Path == "routers[].v2_compat" })
	if i < 0 || Schema[i].Default != "false" || !strings.Contains(Schema[i].Doc, "only while migrating") {
		t.Fatal("[5798-8.4.2-a] the reference does not say v2_compat is off by default and only for a migration")
	}
}
