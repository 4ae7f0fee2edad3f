package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"govrrp/vrrp"
)

// Sysctls reads the host's sysctls; key is the path under /proc/sys
// ("net/ipv4/conf/eth0/forwarding"). System implements it.
type Sysctls interface {
	Sysctl(key string) (string, error)
}

// Sysctl implements Sysctls for the namespace of the calling thread.
func (System) Sysctl(key string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc/sys", key))
	return strings.TrimSpace(string(b)), err
}

// RedirectWarnings reports where the kernel would send ICMP redirects with
// the wrong source [5798-8.1.1-a][5798-8.2.1-a]: the RFC wants a redirect
// to come from the virtual address the host used as its next hop. Linux
// redirects only a packet that leaves by the interface it came in on. With
// a VMAC, packets for the virtual router come in on the macvlan and leave by
// the parent, so it sends none (redirects are optional). Without one it
// sends them from the interface's own address (IPv4: its primary address;
// IPv6: its first link-local), which hosts ignore as not their router: at
// best useless traffic. So it warns once per interface and family where a
// router without a VMAC runs, the interface forwards and redirects are on,
// naming the fix. govrrp does not change these sysctls: they belong to the
// host (net.ipv4.conf.all.send_redirects is ORed with the interface's).
// Owners are left out: their addresses are the interface's own. A missing
// interface or an unreadable sysctl gives no warning (the missing interface
// has its own). The host checks (validate, govrrpd --check, start and
// reload) add these to their warnings when their Host is also a Sysctls, as
// System is.
func RedirectWarnings(c *Config, s Sysctls) []*Error {
	var out []*Error
	seen := map[string]bool{}
	on := func(key string) bool {
		v, err := s.Sysctl(key)
		return err == nil && v != "0"
	}
	for i := range c.Routers {
		r := &c.Routers[i]
		// A name with a slash is no interface; it must not walk /proc/sys.
		// Otherwise a warning needs the interface's sysctls to exist, so
		// the name is a real one (at most 15 bytes).
		if r.VMAC || r.Owner() || strings.Contains(r.Interface, "/") {
			continue
		}
		k := fmt.Sprintf("%s/%d", r.Interface, r.Family)
		if seen[k] {
			continue
		}
		seen[k] = true
		if r.Family == vrrp.IPv6 {
			if !on("net/ipv6/conf/" + r.Interface + "/forwarding") {
				continue
			}
			out = append(out, &Error{
				Pos:  r.PosOf("interface"),
				What: fmt.Sprintf("%s forwards IPv6, so the kernel sends ICMPv6 redirects from %s's own link-local address, not the virtual one hosts route through; hosts ignore them [5798-8.2.1-a]", r.Interface, r.Interface),
				Fix:  "write vmac: true (then the kernel sends no redirects for the virtual router's traffic; Linux has no sysctl to stop IPv6 redirects)",
			})
			continue
		}
		if !on("net/ipv4/conf/"+r.Interface+"/forwarding") ||
			!(on("net/ipv4/conf/all/send_redirects") || on("net/ipv4/conf/"+r.Interface+"/send_redirects")) {
			continue
		}
		out = append(out, &Error{
			Pos:  r.PosOf("interface"),
			What: fmt.Sprintf("%s forwards IPv4 with send_redirects on, so the kernel sends ICMP redirects from %s's own address, not the virtual one hosts route through; hosts ignore them [5798-8.1.1-a]", r.Interface, r.Interface),
			Fix:  fmt.Sprintf("sysctl -w net.ipv4.conf.all.send_redirects=0 %s=0 (both: the kernel ORs them), or write vmac: true", sysctlName("net/ipv4/conf/"+r.Interface+"/send_redirects")),
		})
	}
	return out
}

// sysctlName writes key as sysctl(8) takes it: dotted, or with slashes when
// a part (an interface name like eth0.100) has a dot of its own.
func sysctlName(key string) string {
	if strings.Contains(key, ".") {
		return key
	}
	return strings.ReplaceAll(key, "/", ".")
}
