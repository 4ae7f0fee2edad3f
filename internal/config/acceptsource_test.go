package config

import (
	"net/netip"
	"strings"
	"testing"
)

// With Accept_Mode false [5798-6.4.3-f] the Master drops what comes to its
// VIPs, so an IPv4 VIP the kernel makes a primary address, and with it a
// source, is warned about; linux:TestAcceptSourceIPv4 shows the kernel's
// choice and e2e:TestConfigMistakesAgreeEverywhere the warning from validate
// and the daemon.
func TestAcceptSourceWarnings(t *testing.T) {
	const r = "  - {name: a, interface: eth0, vrid: 1, addresses: [%s]%s}\n"
	pfx := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, x := range s {
			out = append(out, netip.MustParsePrefix(x))
		}
		return out
	}
	eth0 := pfx("10.77.0.1/24", "fd77::1/64")
	for _, tc := range []struct {
		name, vips, extra string
		addrs             []netip.Prefix // eth0's
		own               string         // an address that is govrrpd's
		want              []string       // substrings, one per warning
	}{
		{"in the interface's subnet: a secondary", "10.77.0.254/24", "", eth0, "", nil},
		{"another subnet", "10.78.0.254/24", "", eth0, "", []string{"t.yaml:2:53: 10.78.0.254/24 would be a primary address (eth0 has none of its own in 10.78.0.0/24), the source of the box's own traffic into that subnet; with accept: false the Master drops the replies; write accept: true, or give eth0 an address of its own in 10.78.0.0/24"}},
		{"the same subnet at another length is a primary too", "10.77.0.254/25", "", eth0, "", []string{"none of its own in 10.77.0.128/25"}},
		{"one warning per VIP", "10.77.0.254/24, 10.78.0.254/24, 10.79.0.254/24", "", eth0, "", []string{"10.78.0.254/24", "10.79.0.254/24"}},
		{"a /32 beside the interface's address has no subnet route", "10.78.0.254/32", "", eth0, "", nil},
		{"a /32 on an interface without IPv4", "10.78.0.254/32", "", pfx("fd77::1/64"), "", []string{"eth0 has no IPv4 address of its own"}},
		{"a VIP of govrrpd's is not the interface's", "10.77.0.254/24", "", pfx("10.77.0.9/24"), "10.77.0.9", []string{"10.77.0.254/24 would be a primary address"}},
		{"accept: true", "10.78.0.254/24", ", accept: true", eth0, "", nil},
		{"the owner accepts", "10.78.0.254/24", ", priority: 255", eth0, "", nil},
		{"IPv6 VIPs are installed deprecated", "fe80::1, fd78::1/64", "", eth0, "", nil},
		{"missing interface", "10.78.0.254/24", ", interface: eth9", eth0, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := "routers:\n" + strings.Replace(r, "%s", tc.vips, 1)
			y = strings.Replace(y, "%s", tc.extra, 1)
			if strings.Contains(tc.extra, "eth9") {
				y = strings.Replace(y, "interface: eth0, ", "", 1)
			}
			c, err := Parse("t.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			own := map[netip.Addr]bool{}
			if tc.own != "" {
				own[netip.MustParseAddr(tc.own)] = true
			}
			got := AcceptSourceWarnings(c, map[string]*Interface{"eth0": {Name: "eth0", MTU: 1500, Addrs: tc.addrs}}, own)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d warnings, want %d: %v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				if s := got[i].Error(); !strings.Contains(s, w) || !strings.HasPrefix(s, "t.yaml:") {
					t.Errorf("warning %q lacks %q or the position", s, w)
				}
			}
		})
	}
}
