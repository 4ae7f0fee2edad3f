package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Host is what the host checks need to know about the machine. They only
// read: validating a file never changes the network.
type Host interface {
	// Interfaces lists every interface with its MTU and addresses.
	Interfaces() ([]Interface, error)
	// Group returns nil when the named group exists.
	Group(name string) error
	// Executable returns nil when path is a file that can be run.
	Executable(path string) error
	// Recorded returns the addresses in the record file at path (see
	// Record), nil when there is none.
	Recorded(path string) []netip.Addr
}

// Interface is one interface of the host.
type Interface struct {
	Name  string
	MTU   int
	Addrs []netip.Prefix
}

// ErrNoInterface reports a missing interface.
var ErrNoInterface = errors.New("no such interface")

// LoadAndCheck is the one way a configuration is accepted: govrrp validate,
// govrrpd --check, govrrpd's start and every reload call it. It reads and
// parses path (Load), then, unless h is nil (validate --no-host), checks it
// against the host (Check). Warnings are the file's own (Config.Warnings),
// then the host's: what can work later (an interface
// that is not there yet, a hook that is not installed yet); err is what can
// never work and refuses the file.
func LoadAndCheck(path string, h Host) (*Config, []*Error, error) {
	c, err := Load(path)
	if err != nil {
		return nil, nil, err
	}
	if h == nil {
		return c, c.Warnings, nil
	}
	warns, err := Check(c, h)
	warns = append(slices.Clip(c.Warnings), warns...)
	if err != nil {
		return nil, warns, err
	}
	return c, warns, nil
}

// Check holds c against the machine h describes. It refuses (err, an
// *Errors) what would hurt the host or can never run there: a virtual
// address that an interface already has, unless the router owns it
// (priority 255), where the host's address would be deleted when the router
// leaves Master; an owner whose interface lacks the address; an advert
// larger than the interface's MTU; an unknown control_group. It warns about
// what may appear later: a missing interface (the router waits for it in
// Fault), a BFD session's missing interface or local address, a missing
// track script or notify command, an IPv4 VIP of a router
// with accept: false that the kernel would use as a source
// (AcceptSourceWarnings); and, when h can read
// sysctls (System can), about ICMP redirects the kernel would send from the
// wrong source (RedirectWarnings).
func Check(c *Config, h Host) (warnings []*Error, err error) {
	var errs Errors
	ifs, lerr := h.Interfaces()
	if lerr != nil {
		errs.Add(&Error{Pos: Pos{File: c.File, Line: 1, Col: 1}, What: "reading the host's interfaces: " + lerr.Error()})
		return nil, &errs
	}
	// The virtual addresses govrrpd in this network namespace has on the
	// interfaces (recorded as its Masters install them; left behind if it
	// was killed with -9) are not the host's. Only those: a configured VIP
	// that it has not installed is the host's if an interface has it.
	own := map[netip.Addr]bool{}
	for _, a := range h.Recorded(RecordFile()) {
		own[a] = true
	}
	byName := make(map[string]*Interface, len(ifs))
	holder := map[netip.Addr]string{}
	for i := range ifs {
		byName[ifs[i].Name] = &ifs[i]
		for _, a := range ifs[i].Addrs {
			if _, ok := holder[a.Addr()]; !ok && !own[a.Addr()] && !a.Addr().IsLinkLocalUnicast() {
				holder[a.Addr()] = ifs[i].Name
			}
		}
	}
	// A link-local address is one per link: only the router's interface
	// can hold the same one.
	holds := func(ifname string, a netip.Addr) (string, bool) {
		if !a.IsLinkLocalUnicast() {
			ifname, ok := holder[a]
			return ifname, ok
		}
		if ifi := byName[ifname]; ifi != nil && !own[a] && slices.ContainsFunc(ifi.Addrs, func(p netip.Prefix) bool { return p.Addr() == a }) {
			return ifname, true
		}
		return "", false
	}
	if c.ControlGroup != "" {
		if gerr := h.Group(c.ControlGroup); gerr != nil {
			e := &Error{Pos: c.posOf("control_group"), What: yamlwalk.Clip(fmt.Sprintf("control_group %q: %v", c.ControlGroup, gerr)), Fix: "name an existing group (getent group lists them), or remove the key"}
			// os/user's own words repeat "group" ("group: unknown group NAME").
			if errors.As(gerr, new(user.UnknownGroupError)) {
				e.What = yamlwalk.Clip(fmt.Sprintf("control_group %q: no such group on this host", c.ControlGroup))
				e.Fix = yamlwalk.Clip("create it with groupadd --system "+c.ControlGroup) + " (the Debian package creates govrrp), or " + e.Fix
			}
			errs.Add(e)
		}
	}
	checked := map[string]bool{}
	for i := range c.Routers {
		r := &c.Routers[i]
		if !r.Owner() {
			for j, vip := range r.Addresses {
				if ifname, ok := holds(r.AddrDev(vip.Addr()), vip.Addr()); ok {
					errs.Add(&Error{
						Pos:  r.addrPos(j),
						What: fmt.Sprintf("%v is already an address of %s; govrrpd would delete it when %s leaves Master", vip.Addr(), ifname, r.Name),
						Fix:  fmt.Sprintf("write an address no interface has, or priority 255 if this box owns %v; if an earlier govrrpd killed with -9 left it, remove it: ip address del %v dev %s", vip.Addr(), vip.Addr(), ifname),
					})
				}
			}
		}
		// Excluded addresses follow the VIPs' rule, owner or not: govrrpd
		// installs and removes them.
		for j, a := range r.Excluded {
			if ifname, ok := holds(r.AddrDev(a.Addr()), a.Addr()); ok {
				errs.Add(&Error{
					Pos:  r.excludedPos(j),
					What: fmt.Sprintf("%v is already an address of %s; govrrpd would delete it when %s leaves Master", a.Addr(), ifname, r.Name),
					Fix:  fmt.Sprintf("write an address no interface has; if an earlier govrrpd killed with -9 left it, remove it: ip address del %v dev %s", a.Addr(), ifname),
				})
			}
		}
		warnings = append(warnings, routeDevWarnings(r, byName)...)
		ifi := byName[r.Interface]
		if ifi == nil {
			warnings = append(warnings, &Error{Pos: r.PosOf("interface"), What: yamlwalk.Clip(fmt.Sprintf("interface %q: %v", r.Interface, ErrNoInterface)), Fix: "the router waits in Fault until it appears; check the name if it should exist (ip link lists them)"})
		} else {
			if r.Owner() {
				for _, vip := range r.Addresses {
					if !slices.ContainsFunc(ifi.Addrs, func(p netip.Prefix) bool { return p.Addr() == vip.Addr() }) {
						errs.Add(&Error{
							Pos:  r.PosOf("priority"),
							What: fmt.Sprintf("priority 255 means this box owns %v, but %s does not have it", vip.Addr(), r.Interface),
							Fix:  fmt.Sprintf("write priority 1..254, or add %v to %s as a real address", vip, r.Interface),
						})
					}
				}
			}
			if key, what := SourceMissing(r, func(a netip.Addr) bool {
				return slices.ContainsFunc(ifi.Addrs, func(p netip.Prefix) bool { return p.Addr() == a })
			}); what != "" {
				// A warning: the address may be added later, and until
				// then the router waits in Fault, sending nothing.
				warnings = append(warnings, &Error{
					Pos:  r.PosOf(key),
					What: what,
					Fix:  fmt.Sprintf("add it (ip address add %v dev %s), or write one of the interface's addresses; until then the router waits in Fault (source-missing)", r.Source(), r.Interface),
				})
			}
			if what := AdvertTooBig(r, ifi.MTU); what != "" {
				errs.Add(&Error{Pos: r.PosOf("addresses"), What: what, Fix: "split the addresses over several virtual routers"})
			}
		}
		for _, hooks := range []struct {
			key   string
			argvs [][]string
		}{
			{"notify", r.Notify}, {"notify_master", r.Hooks.Master}, {"notify_backup", r.Hooks.Backup},
			{"notify_fault", r.Hooks.Fault}, {"notify_stop", r.Hooks.Stop}, {"notify_keepalived", r.Hooks.Generic},
		} {
			for _, argv := range hooks.argvs {
				if checked[argv[0]] {
					continue // one warning per command, not per router
				}
				checked[argv[0]] = true
				if xerr := executable(h, argv[0]); xerr != nil {
					warnings = append(warnings, &Error{Pos: r.PosOf(hooks.key), What: yamlwalk.Clip(fmt.Sprintf("notify command %s: %v", argv[0], xerr)), Fix: "install it, or fix the path; until then every transition logs a failed hook"})
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Scripts)) {
		s := c.Scripts[name]
		if len(s.Exec) == 0 {
			continue
		}
		if xerr := executable(h, s.Exec[0]); xerr != nil {
			warnings = append(warnings, &Error{Pos: s.Pos, What: yamlwalk.Clip(fmt.Sprintf("script %q: %s: %v", name, s.Exec[0], xerr)), Fix: "install it, or fix the path; until then the script fails and its routers lose its weight"})
		}
	}
	warnings = append(warnings, bfdWarnings(c, byName)...)
	warnings = append(warnings, AcceptSourceWarnings(c, byName, own)...)
	if s, ok := h.(Sysctls); ok {
		warnings = append(warnings, RedirectWarnings(c, s)...)
	}
	if errs.Len() > 0 {
		return warnings, &errs
	}
	return warnings, nil
}

// executable checks a command: a bare name is one the load did not find in
// CommandPath.
func executable(h Host, cmd string) error {
	if !strings.Contains(cmd, "/") {
		return fmt.Errorf("not found in %s", CommandPath)
	}
	return h.Executable(cmd)
}

// AdvertSize is the length of r's adverts on the wire: the IP header (20
// bytes for IPv4, 40 for IPv6; VRRP sends no options) and the VRRP message.
func AdvertSize(r *Router) int {
	m := vrrp.Message{Version: r.Version, Family: r.Family, Addresses: r.VIPs()}
	ip := 20
	if r.Family == vrrp.IPv6 {
		ip = 40
	}
	return ip + m.Len()
}

// SourceMissing says why r's adverts cannot leave from its configured
// source (unicast_source or multicast_source, named by key): its interface
// does not have that address (has reports whether it does); "" when it has
// or none is configured. Check warns (the address may be added later); the
// daemon keeps the router in Fault (source-missing) until the interface
// has it, at start and whenever its addresses change. Run anyway, a Master
// whose adverts cannot leave from the address would go unheard and the
// peer would become Master too, and with the address on another interface
// its adverts would leave with it.
func SourceMissing(r *Router, has func(netip.Addr) bool) (key, what string) {
	key = "multicast_source"
	if r.UnicastSource.IsValid() {
		key = "unicast_source"
	}
	if src := r.Source(); src.IsValid() && !has(src) {
		return key, fmt.Sprintf("%s %v is not an address of %s", key, src, r.Interface)
	}
	return key, ""
}

// AdvertTooBig says why r's adverts cannot leave its interface of MTU mtu
// (they are larger), or "" when they fit or mtu is unknown (0). Check
// refuses it on the interfaces there when it runs; the daemon checks again
// when an interface appears or its MTU changes, and the router waits in
// Fault meanwhile.
func AdvertTooBig(r *Router, mtu int) string {
	if n := AdvertSize(r); mtu > 0 && n > mtu {
		return fmt.Sprintf("an advert of %d addresses is %d bytes, more than the MTU %d of %s", len(r.Addresses), n, mtu, r.Interface)
	}
	return ""
}

// Installed is h as govrrpd sees it while it runs (at a reload): its own
// virtual addresses are own(), those it has installed or is installing,
// not what the record file says. Check calls own after reading the
// interfaces, so an address being installed meanwhile is counted.
func Installed(h Host, own func() []netip.Addr) Host {
	return installed{h, own}
}

type installed struct {
	Host
	own func() []netip.Addr
}

func (i installed) Recorded(string) []netip.Addr { return i.own() }

// RecordDir holds the records of the virtual addresses govrrpd installs,
// one file per network namespace (see Record).
const RecordDir = "/run/govrrpd"

// RecordFile is the record of the network namespace this process runs in
// (addresses belong to a namespace, and so does the question whether one is
// govrrpd's), or "" when that cannot be told.
func RecordFile() string {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &st); err != nil {
		return ""
	}
	return filepath.Join(RecordDir, fmt.Sprintf("netns-%d.vips", st.Ino))
}

// maxRecord bounds the record file read: an address takes about as many
// bytes there as in the configuration (MaxFileSize).
const maxRecord = 4 * MaxFileSize

// Record writes addrs, the virtual addresses govrrpd has on the
// interfaces, to path, one per line, replacing the file at once. An
// instance killed with -9 leaves them there; with this record, the next
// start (and a validate while govrrpd runs) knows them for govrrpd's, not
// the host's. govrrpd keeps it current as its Masters come and go.
func Record(path string, addrs []netip.Addr) error {
	var b strings.Builder
	for _, a := range addrs {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// A new file of its own (O_EXCL, so never through a link planted in
	// the directory, nor shared with a concurrent writer), renamed over
	// the record at once.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// Unrecord removes the record at path, and its directory when no other
// network namespace's is left: at govrrpd's stop, its addresses removed.
func Unrecord(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Dir(path)) // fails while not empty: fine
	return nil
}

// System is the Host of the machine the process runs on (its network
// namespace), read through the standard library.
type System struct{}

// Interfaces implements Host.
func (System) Interfaces() ([]Interface, error) {
	nifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(nifs))
	for _, ni := range nifs {
		ifi := Interface{Name: ni.Name, MTU: ni.MTU}
		as, err := ni.Addrs()
		if err != nil {
			continue // gone since the list was read
		}
		for _, a := range as {
			if ipn, ok := a.(*net.IPNet); ok {
				addr, _ := netip.AddrFromSlice(ipn.IP)
				ones, _ := ipn.Mask.Size()
				ifi.Addrs = append(ifi.Addrs, netip.PrefixFrom(addr.Unmap(), ones))
			}
		}
		out = append(out, ifi)
	}
	return out, nil
}

// Group implements Host.
func (System) Group(name string) error {
	_, err := user.LookupGroup(name)
	return err
}

// Recorded implements Host.
func (System) Recorded(path string) []netip.Addr {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, maxRecord))
	var out []netip.Addr
	for line := range strings.Lines(string(data)) {
		if a, err := netip.ParseAddr(strings.TrimSpace(line)); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// Executable implements Host.
func (System) Executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("not found")
		}
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}
