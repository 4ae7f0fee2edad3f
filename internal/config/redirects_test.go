package config

import (
	"errors"
	"strings"
	"testing"
)

type fakeSysctls map[string]string

func (f fakeSysctls) Sysctl(key string) (string, error) {
	if v, ok := f[key]; ok {
		return v, nil
	}
	return "", errors.New("no such sysctl")
}

// The kernel sends redirects from the interface's own address when a
// router has no VMAC [5798-8.1.1-a][5798-8.2.1-a]; test/e2e
// TestRedirectSource shows it on the wire.
func TestRedirectWarnings(t *testing.T) {
	const v4 = "  - {name: a, interface: eth0, vrid: 1, priority: 100, addresses: [10.77.0.254/24]%s}\n"
	const v6 = "  - {name: b, interface: eth0, vrid: 1, priority: 100, addresses: [fe80::1, fd77::254/64]%s}\n"
	routing := fakeSysctls{
		"net/ipv4/conf/eth0/forwarding": "1", "net/ipv4/conf/all/send_redirects": "1", "net/ipv4/conf/eth0/send_redirects": "1",
		"net/ipv6/conf/eth0/forwarding": "1",
	}
	with := func(kv ...string) fakeSysctls {
		f := fakeSysctls{}
		for k, v := range routing {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return f
	}
	for _, tc := range []struct {
		name    string
		routers string
		sys     fakeSysctls
		want    []string // substrings, one per warning
	}{
		{"5798-8.1.1-a IPv4 forwarding with redirects", v4, routing, []string{"net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0"}},
		{"5798-8.2.1-a IPv6 forwarding", v6, routing, []string{"vmac: true"}},
		{"one warning per interface and family", v4 + strings.NewReplacer("name: a", "name: c", "vrid: 1", "vrid: 2", ".254", ".253").Replace(v4), routing, []string{"IPv4"}},
		{"VMAC: the kernel sends none", v4 + v6, routing, nil},
		{"owner", v4, routing, nil},
		{"no forwarding", v4 + v6, with("net/ipv4/conf/eth0/forwarding", "0", "net/ipv6/conf/eth0/forwarding", "0"), nil},
		{"redirects off on all and the interface", v4, with("net/ipv4/conf/all/send_redirects", "0", "net/ipv4/conf/eth0/send_redirects", "0"), nil},
		{"all on is enough (ORed)", v4, with("net/ipv4/conf/eth0/send_redirects", "0"), []string{"IPv4"}},
		{"interface on is enough (ORed)", v4, with("net/ipv4/conf/all/send_redirects", "0"), []string{"IPv4"}},
		{"a VLAN's dotted name in slash form", strings.ReplaceAll(v4, "eth0", "eth0.7"), fakeSysctls{
			"net/ipv4/conf/eth0.7/forwarding": "1", "net/ipv4/conf/all/send_redirects": "1",
		}, []string{"net.ipv4.conf.all.send_redirects=0 net/ipv4/conf/eth0.7/send_redirects=0"}},
		{"missing interface", strings.Replace(v4, "eth0", "eth9", 1), routing, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routers := tc.routers
			extra := ""
			switch {
			case strings.HasPrefix(tc.name, "VMAC"):
				extra = ", vmac: true"
			case tc.name == "owner":
				routers = strings.Replace(routers, "priority: 100", "priority: 255", 1)
			}
			c, err := Parse("t.yaml", []byte("routers:\n"+strings.ReplaceAll(routers, "%s", extra)))
			if err != nil {
				t.Fatal(err)
			}
			got := RedirectWarnings(c, tc.sys)
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
