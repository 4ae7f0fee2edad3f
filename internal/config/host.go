package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Host is what the host checks need to know about the machine. They only
// read: validating a file never changes the network.
type Host interface {
	// InterfaceAddrs returns the addresses of the named interface, or an
	// error when it does not exist.
	InterfaceAddrs(name string) ([]netip.Prefix, error)
}

// ErrNoInterface is returned by Host implementations for a missing interface.
var ErrNoInterface = errors.New("no such interface")

// CheckHost refuses what cannot run on this machine: a missing interface,
// or priority 255 where the interface does not own every address.
func (c *Config) CheckHost(h Host) error {
	var errs Errors
	for i := range c.Routers {
		r := &c.Routers[i]
		addrs, err := h.InterfaceAddrs(r.Interface)
		if err != nil {
			errs = append(errs, &Error{Pos: r.PosOf("interface"), What: fmt.Sprintf("interface %q: %v", r.Interface, err), Fix: "name an existing interface (`ip link` lists them)"})
			continue
		}
		if !r.Owner() {
			continue
		}
		for _, vip := range r.Addresses {
			if !hasAddr(addrs, vip.Addr()) {
				errs = append(errs, &Error{
					Pos:  r.PosOf("priority"),
					What: fmt.Sprintf("priority 255 means this box owns %v, but %s does not have it", vip.Addr(), r.Interface),
					Fix:  fmt.Sprintf("write priority 1..254, or add %v to %s as a real address", vip, r.Interface),
				})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func hasAddr(addrs []netip.Prefix, a netip.Addr) bool {
	for _, p := range addrs {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// System is the Host of the machine the process runs on (its network
// namespace), read through the standard library.
type System struct{}

// InterfaceAddrs implements Host.
func (System) InterfaceAddrs(name string) ([]netip.Prefix, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, ErrNoInterface
	}
	as, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(as))
	for _, a := range as {
		if ipn, ok := a.(*net.IPNet); ok {
			addr, _ := netip.AddrFromSlice(ipn.IP)
			ones, _ := ipn.Mask.Size()
			out = append(out, netip.PrefixFrom(addr.Unmap(), ones))
		}
	}
	return out, nil
}
