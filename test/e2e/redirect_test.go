package e2e

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"govrrp/internal/config"
	"govrrp/internal/lab"
)

// redirectSeen is one ICMP/ICMPv6 redirect the host received.
type redirectSeen struct {
	src netip.Addr // the redirect's IP source: the router the host should recognise
}

// nextRedirect waits for an ICMP redirect (type 5) or ICMPv6 redirect (type
// 137) on the host's sniffer.
func nextRedirect(s *lab.Sniffer, within time.Duration) (redirectSeen, bool) {
	f, err := s.Next(within, func(f []byte) bool {
		switch lab.EtherType(f) {
		case 0x0800:
			return len(f) > 34 && f[23] == 1 && f[14+int(f[14]&0x0f)*4] == 5
		case 0x86dd:
			return len(f) > 54 && f[20] == 58 && f[54] == 137
		}
		return false
	})
	if err != nil {
		return redirectSeen{}, false
	}
	if lab.EtherType(f) == 0x0800 {
		return redirectSeen{src: netip.AddrFrom4([4]byte(f[26:30]))}, true
	}
	return redirectSeen{src: netip.AddrFrom16([16]byte(f[22:38]))}, true
}

// A Master forwarding a host's packet back onto the LAN it came from:
// which redirect does the host get [5798-8.1.1-a][5798-8.2.1-a]? The RFC
// wants the source to be the virtual address the host used as next hop.
// Linux sends a redirect only when a packet leaves by the interface it came
// in on. With a VMAC the host's packets arrive on the macvlan and leave by
// the parent, so the kernel sends none (allowed: redirects are optional).
// Without one they arrive and leave on the parent and the kernel sources the
// redirect from the parent's own address (IPv4: the primary address; IPv6:
// the interface's first link-local), which a host ignores: it is not its
// next hop. That case is what config.RedirectWarnings reports, at validate
// and at start, with the sysctl (IPv4) or vmac: true (IPv6) that fixes it.
func TestRedirectSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		vmac bool
	}{{"no-vmac", false}, {"vmac", true}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 2)
			r1, r2 := l.Nodes[0], l.Nodes[1]
			// r2 is a second router on the LAN reaching 10.78.0.1 and
			// fd77:78::1; the Master (r1) routes there through r2, so a
			// host using the VIP as gateway should be redirected.
			r2.MustIP(t, "addr", "add", "10.78.0.1/32", "dev", "lo")
			r2.MustIP(t, "-6", "addr", "add", "fd77:78::1/128", "dev", "lo")
			for _, k := range []string{"net/ipv4/conf/all/forwarding", "net/ipv6/conf/all/forwarding"} {
				r1.MustSysctl(t, k, "1")
			}
			r1.MustIP(t, "route", "add", "10.78.0.1/32", "via", "10.77.0.2")
			// The kernel redirects IPv6 only to a link-local target.
			r2ll, err := r2.LinkLocal("eth0")
			if err != nil {
				t.Fatal(err)
			}
			r1.MustIP(t, "-6", "route", "add", "fd77:78::1/128", "via", r2ll.String(), "dev", "eth0")
			ll, err := r1.LinkLocal("eth0") // before fe80::51 is added
			if err != nil {
				t.Fatal(err)
			}
			l.host.MustIP(t, "route", "add", "default", "via", "10.77.0.254")
			l.host.MustIP(t, "-6", "route", "add", "default", "via", "fe80::51", "dev", "eth0")

			extra := ""
			if tc.vmac {
				extra = "    vmac: true\n"
			}
			routers := routerYAML("gw4", "51", 150, "100ms", extra, "10.77.0.254/24") +
				routerYAML("gw6", "51", 150, "100ms", extra, "fe80::51", "fd77::254/64")
			p := start(t, r1, routers)
			p.waitState("gw4", "Master", 5*time.Second)
			p.waitState("gw6", "Master", 5*time.Second)

			cfg, err := config.Load(p.Conf)
			if err != nil {
				t.Fatal(err)
			}
			var warns []*config.Error
			r1.MustDo(t, func() error {
				warns = config.RedirectWarnings(cfg, config.System{})
				return nil
			})

			sniff := lab.Sniff(t, l.host, "eth0")
			for _, c := range []struct {
				dst      string
				wrongSrc netip.Addr // the parent's own address
			}{
				{"10.78.0.1", netip.MustParseAddr("10.77.0.1")},
				{"fd77:78::1", ll},
			} {
				sniff.Drain()
				if !ping(l.host, c.dst) {
					t.Fatalf("host cannot reach %s through the Master", c.dst)
				}
				got, ok := nextRedirect(sniff, 500*time.Millisecond)
				switch {
				case tc.vmac && ok:
					t.Errorf("to %s: a redirect from %v; with a VMAC the packet came in on the macvlan and left by the parent, so the kernel should send none", c.dst, got.src)
				case !tc.vmac && !ok:
					t.Errorf("to %s: no redirect without a VMAC; the kernel was expected to send one from %v", c.dst, c.wrongSrc)
				case !tc.vmac && got.src != c.wrongSrc:
					t.Errorf("to %s: redirect from %v, expected the kernel's choice %v (the parent's own address)", c.dst, got.src, c.wrongSrc)
				}
				t.Logf("to %s: redirect %v from %v", c.dst, ok, got.src)
				// The host ignores a redirect that does not come from its
				// next hop: it still routes through the virtual address.
				if out, _ := l.host.IP("route", "get", c.dst); !strings.Contains(out, "via 10.77.0.254") && !strings.Contains(out, "via fe80::51") {
					t.Errorf("host took the redirect: ip route get %s: %s", c.dst, out)
				}
			}
			// The kernel's wrong-source redirects are what the host check
			// reports: one warning per family without a VMAC, none with one.
			if want := 2; tc.vmac {
				if len(warns) != 0 {
					t.Errorf("VMAC routers got redirect warnings: %v", warns)
				}
			} else if len(warns) != want {
				t.Errorf("got %d redirect warnings, want %d (IPv4 and IPv6): %v", len(warns), want, warns)
			}
			for _, w := range warns {
				t.Logf("warning: %v", w)
			}
			// govrrp validate and govrrpd's start say the same.
			out, err := exec.Command("ip", "netns", "exec", r1.Name, bin.govrrp, "validate", p.Conf).CombinedOutput()
			if err != nil || strings.Contains(string(out), "redirect") == tc.vmac {
				t.Errorf("govrrp validate (exit %v) should warn about redirects only without a VMAC:\n%s", err, out)
			}
			if strings.Contains(p.Logs(), "redirect") == tc.vmac {
				t.Errorf("govrrpd's log should warn about redirects only without a VMAC:\n%s", p.Logs())
			}
			// With the IPv4 sysctls the warning names applied, the kernel
			// sends no IPv4 redirect and the IPv4 warning goes away.
			if !tc.vmac {
				r1.MustSysctl(t, "net/ipv4/conf/all/send_redirects", "0")
				r1.MustSysctl(t, "net/ipv4/conf/eth0/send_redirects", "0")
				sniff.Drain()
				if !ping(l.host, "10.78.0.1") {
					t.Fatal("host cannot reach 10.78.0.1")
				}
				if got, ok := nextRedirect(sniff, 500*time.Millisecond); ok {
					t.Errorf("redirect from %v after send_redirects=0", got.src)
				}
				r1.MustDo(t, func() error {
					warns = config.RedirectWarnings(cfg, config.System{})
					return nil
				})
				if len(warns) != 1 {
					t.Errorf("after send_redirects=0: %d warnings, want 1 (IPv6 has no such switch): %v", len(warns), warns)
				}
			}
		})
	}
}
