package config

import (
	"fmt"
	"net/netip"

	"govrrp/vrrp"
)

// AcceptSourceWarnings reports the IPv4 VIPs the kernel would make the
// source of the box's own traffic while a router with Accept_Mode false
// [5798-6.4.3-f] is Master, whose guard then drops the replies to it. An
// IPv4 address is a secondary only when the interface already has a primary
// of the same prefix length and subnet; otherwise it is a primary, the
// subnet route the kernel adds for it has it as source (prefix shorter than
// /32), and an interface with no IPv4 address of its own has no other
// source at all. Linux has no IPv4 flag to keep an address out of source
// selection (IPv6 VIPs are installed deprecated instead), so this is a
// warning that names the fix. ifs are the host's interfaces by name, own the
// addresses that are govrrpd's (recorded or installed), not the host's.
func AcceptSourceWarnings(c *Config, ifs map[string]*Interface, own map[netip.Addr]bool) []*Error {
	var out []*Error
	for i := range c.Routers {
		r := &c.Routers[i]
		ifi := ifs[r.Interface]
		if r.Accept || r.Owner() || r.Family != vrrp.IPv4 || ifi == nil {
			continue
		}
		var host []netip.Prefix // the interface's own IPv4 addresses
		for _, a := range ifi.Addrs {
			if a.Addr().Is4() && !own[a.Addr()] {
				host = append(host, a)
			}
		}
		for j, p := range r.Addresses {
			secondary := false
			for _, h := range host {
				if h.Bits() == p.Bits() && p.Masked().Contains(h.Addr()) {
					secondary = true
					break
				}
			}
			switch {
			case secondary:
			case p.Bits() < 32:
				out = append(out, &Error{
					Pos:  r.addrPos(j),
					What: fmt.Sprintf("%v would be a primary address (%s has none of its own in %v), the source of the box's own traffic into that subnet; with accept: false the Master drops the replies", p, r.Interface, p.Masked()),
					Fix:  fmt.Sprintf("write accept: true, or give %s an address of its own in %v (the VIP is then a secondary, never a source)", r.Interface, p.Masked()),
				})
			case len(host) == 0:
				out = append(out, &Error{
					Pos:  r.addrPos(j),
					What: fmt.Sprintf("%s has no IPv4 address of its own, so %v would be the source of the box's own traffic through it; with accept: false the Master drops the replies", r.Interface, p.Addr()),
					Fix:  fmt.Sprintf("write accept: true, or give %s an IPv4 address of its own", r.Interface),
				})
			}
		}
	}
	return out
}
