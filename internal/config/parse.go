package config

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/internal/yamlwalk"
	"govrrp/vrrp"
)

// Input limits. A configuration of thousands of routers is a few hundred
// KiB; beyond these a file is a mistake or an attack, and refusing it early
// keeps validate and a reload fast and small.
const (
	// MaxFileSize is the largest configuration file read.
	MaxFileSize = yamlwalk.MaxFileSize
	// MaxAliasNodes bounds what YAML aliases may add to the file: each
	// alias stands for a copy of its anchor's nodes, so a small file of
	// aliases of aliases can stand for billions of nodes.
	MaxAliasNodes = yamlwalk.MaxAliasNodes
)

// Load reads and checks the configuration file at path. It does not look at
// the host; see Check and LoadAndCheck.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse checks data, the contents of file. On failure the error is an
// *Errors listing the problems found.
func Parse(file string, data []byte) (*Config, error) {
	p := &parser{Walker: yamlwalk.Walker{File: file, Reader: "govrrpd"}}
	c := p.parse(data)
	if p.Errs.Len() > 0 {
		return nil, &p.Errs
	}
	c.Warnings = p.warns
	return c, nil
}

type parser struct {
	yamlwalk.Walker
	warns []*Error // accepted, but worth saying (Config.Warnings)
	// routerKeys holds, per router, the value node of each key written, so
	// cross-field checks can point at the right line and know what was
	// explicit (checksum on a VRRPv2 router is an error, its default is not).
	routerKeys []map[string]*yaml.Node
	// labels are the labels of the router being read whose device is its
	// interface, checked once it is known (routes.go).
	labels []pendingLabel
}

// warn records what the file may say but probably should not.
func (p *parser) warn(n *yaml.Node, fix, format string, args ...any) {
	p.warns = append(p.warns, &Error{Pos: p.Pos(n), What: yamlwalk.Clip(fmt.Sprintf(format, args...)), Fix: yamlwalk.Clip(fix)})
}

func (p *parser) parse(data []byte) *Config {
	c := &Config{File: p.File, ControlSocket: DefaultControlSocket, NotifyTimeout: DefaultNotifyTimeout, Log: Log{Format: "text", Level: "info"}, Scripts: map[string]Script{}}
	root, extra := p.Decode(data, "write at least `routers:` with one router (see docs/CONFIG.md)")
	if root == nil {
		return c
	}
	var routersNode, notifyUser, notifyGroup *yaml.Node
	c.KeyPos = map[string]Pos{}
	p.mapping(root, "", func(k, v *yaml.Node) {
		c.KeyPos[k.Value] = p.Pos(v)
		switch k.Value {
		case "control_socket":
			c.ControlSocket = p.Str(v)
			if c.ControlSocket != "" && !strings.HasPrefix(c.ControlSocket, "/") {
				p.Fail(v, "write an absolute path such as "+DefaultControlSocket, "control_socket %q is not an absolute path", c.ControlSocket)
			}
		case "control_group":
			c.ControlGroup = p.Str(v)
		case "metrics_listen":
			c.MetricsListen = p.Str(v)
			if err := checkListen(c.MetricsListen); err != nil {
				p.Fail(v, "write host:port with an IP address and a port number, e.g. 127.0.0.1:9624 or [::1]:9624", "metrics_listen %q: %v", c.MetricsListen, err)
			}
		case "snmp_agentx":
			c.SNMPAgentX = p.Str(v)
			if err := CheckAgentX(c.SNMPAgentX); err != nil {
				p.Fail(v, "write snmpd's agentXSocket: an absolute path such as /var/agentx/master, or tcp:127.0.0.1:705", "snmp_agentx %q: %v", c.SNMPAgentX, err)
			}
		case "notify_timeout":
			c.NotifyTimeout = p.Duration(v, time.Second, 10*time.Minute)
		case "notify_user":
			c.NotifyAs.User, notifyUser = p.Str(v), v
		case "notify_group":
			c.NotifyAs.Group, notifyGroup = p.Str(v), v
		case "log":
			p.mapping(v, "log", func(k, v *yaml.Node) {
				switch k.Value {
				case "format":
					c.Log.Format = p.OneOf(v, "text", "json")
				case "level":
					c.Log.Level = p.OneOf(v, "debug", "info", "warn", "error")
				}
			})
		case "routers":
			routersNode = v
			for _, item := range p.Seq(v, "routers") {
				c.Routers = append(c.Routers, p.router(item))
			}
		case "sync_groups":
			p.mapping(v, "sync_groups", func(k, v *yaml.Node) {
				c.SyncGroups = append(c.SyncGroups, p.syncGroup(k, v))
			})
		case "scripts":
			p.mapping(v, "scripts", func(k, v *yaml.Node) {
				c.Scripts[k.Value] = p.script(k, v)
			})
		case "bfd":
			c.BFD = p.bfdSessions(v)
		}
	})
	p.runAs(&c.NotifyAs, notifyUser, notifyGroup)
	if routersNode == nil {
		p.Fail(root, "add `routers:` with at least one router (see docs/CONFIG.md)", "no routers configured")
	} else if len(c.Routers) == 0 && routersNode.Kind == yaml.SequenceNode {
		p.Fail(routersNode, "add at least one router", "routers is empty")
	}
	p.crossCheck(c)
	// A second document (after ---) would be silently ignored: nothing in
	// it would run. Reported after the first, in file order.
	extra()
	return c
}

// CheckAgentX refuses an AgentX address govrrpd could not dial: a unix
// socket path or tcp:IP:PORT, as snmpd's agentXSocket writes them (the
// keepalived import checks snmp_socket with it too).
func CheckAgentX(s string) error {
	if hp, ok := strings.CutPrefix(s, "tcp:"); ok {
		host, _, err := net.SplitHostPort(hp)
		if err == nil && host == "" {
			return fmt.Errorf("no IP address")
		}
		return checkListen(hp)
	}
	if !strings.HasPrefix(strings.TrimPrefix(s, "unix:"), "/") {
		return fmt.Errorf("not an absolute path")
	}
	return nil
}

// checkListen refuses what net.Listen would refuse at start, or resolve by
// name: metrics_listen is an IP address (or nothing, or localhost) and a
// port number.
func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number 1..65535", port)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q is not an IP address", host)
		}
	}
	return nil
}

// mapping calls fn for each key of n, refusing keys that Schema does not
// list under path (the keys of scripts and sync_groups are names).
func (p *parser) mapping(n *yaml.Node, path string, fn func(k, v *yaml.Node)) {
	var known []string
	if path != "scripts" && path != "sync_groups" {
		known = append([]string{}, childKeys(path)...)
	}
	p.Mapping(n, pathName(path), known, fn)
}

func (p *parser) router(n *yaml.Node) Router {
	r := Router{
		Version: DefaultVersion, Priority: DefaultPriority, AdvertInterval: DefaultAdvertInterval,
		Preempt: true, ReplyLower: true, Announce: Announce{Repeat: DefaultAnnounceRepeat, Delay: DefaultAnnounceDelay},
		Pos: p.Pos(n),
	}
	set := map[string]*yaml.Node{}
	var addrNodes []*yaml.Node // of the addresses parsed, for messages about one
	var exclNodes []*yaml.Node // of the excluded addresses parsed
	p.mapping(n, "routers[]", func(k, v *yaml.Node) {
		set[k.Value] = v
		switch k.Value {
		case "name":
			r.Name = p.Str(v)
		case "interface":
			r.Interface = p.Str(v)
		case "vrid":
			r.VRID = uint8(p.Int(v, 1, 255, "VRIDs are 1..255"))
		case "version", "priority", "advert_interval", "preempt", "preempt_delay", "accept":
			ElectionKey(&p.Walker, k.Value, v, &r)
		case "vmac":
			r.VMAC = p.Bool(v)
		case "strict":
			r.Strict = p.Bool(v)
		case "reply_lower_priority":
			r.ReplyLower = p.Bool(v)
		case "v2_compat":
			r.V2Compat = p.Bool(v)
		case "checksum":
			if p.OneOf(v, "pseudo-header", "plain") == "plain" {
				r.Checksum = vrrp.ChecksumPlain
			}
		case "unicast_source":
			if addr, ok := p.Addr(v); ok {
				r.UnicastSource = addr
			}
		case "multicast_source":
			if addr, ok := p.Addr(v); ok {
				r.MulticastSource = addr
			}
		case "unicast_peers":
			for _, a := range p.Seq(v, "routers[].unicast_peers") {
				if addr, ok := p.Addr(a); ok {
					r.UnicastPeers = append(r.UnicastPeers, addr)
				}
			}
		case "auth":
			p.mapping(v, "routers[].auth", func(k, v *yaml.Node) {
				switch k.Value {
				case "type":
					switch p.OneOf(v, "none", "pass", "ah") {
					case "pass":
						r.AuthType = vrrp.AuthPassword
					case "ah":
						p.Fail(v, "use `type: pass` (keepalived auth_type PASS) or no auth", "IPsec AH authentication is not supported (RFC 3768 removed it)")
					}
				case "password":
					r.AuthPassword = p.Str(v)
					if _, err := vrrp.Password(r.AuthPassword); err != nil {
						p.Fail(v, "write 1 to 8 characters (keepalived would silently cut a longer one)", "password is %d bytes", len(r.AuthPassword))
					}
				}
			})
		case "addresses":
			for _, a := range p.Seq(v, "routers[].addresses") {
				if pfx, ok := p.addrItem(&r, a, "routers[].addresses[]"); ok {
					addrNodes = append(addrNodes, a)
					r.Addresses = append(r.Addresses, pfx)
				}
			}
		case "excluded_addresses":
			items := p.Seq(v, "routers[].excluded_addresses")
			if len(items) > 255 {
				p.Fail(v, "split them over several routers", "%d excluded addresses; at most 255 per router", len(items))
				items = nil
			}
			for _, a := range items {
				if pfx, ok := p.addrItem(&r, a, "routers[].excluded_addresses[]"); ok {
					exclNodes = append(exclNodes, a)
					r.Excluded = append(r.Excluded, pfx)
				}
			}
		case "track":
			r.Track = p.track(v, "routers[].track")
		case "announce":
			p.mapping(v, "routers[].announce", func(k, v *yaml.Node) {
				switch k.Value {
				case "repeat":
					r.Announce.Repeat = p.Int(v, 1, 100, "write 1..100 messages per address")
				case "delay":
					r.Announce.Delay = p.Duration(v, 0, time.Hour)
				case "refresh":
					r.Announce.Refresh = p.Duration(v, 0, 24*time.Hour)
					if r.Announce.Refresh > 0 && r.Announce.Refresh < time.Second {
						p.Fail(v, "write 0s (off) or at least 1s", "refresh %v would flood the LAN", r.Announce.Refresh)
					}
				}
			})
		case "routes":
			r.Routes = p.routes(v)
		case "rules":
			r.Rules = p.rules(v)
		case "notify":
			r.Notify = p.argvs(v, "routers[].notify")
		case "bfd_master":
			r.BFDMaster = p.bfdMaster(v)
		default:
			p.keepalivedHook(&r.Hooks, k.Value, v, "routers[]")
		}
	})
	r.KeyPos = make(map[string]Pos, len(set)+len(addrNodes))
	for k, v := range set {
		r.KeyPos[k] = p.Pos(v)
	}
	for i, a := range addrNodes {
		r.KeyPos[fmt.Sprintf("addresses[%d]", i)] = p.Pos(a)
	}
	for i, a := range exclNodes {
		r.KeyPos[fmt.Sprintf("excluded_addresses[%d]", i)] = p.Pos(a)
	}
	p.routerKeys = append(p.routerKeys, set)
	p.checkRouter(&r, n, set)
	p.checkRoutes(&r)
	p.checkExcluded(&r)
	p.checkV2Compat(&r, set)
	return r
}

// ElectionKey reads key into r if it is one of the keys that decide an
// election (version, priority, advert_interval, preempt, preempt_delay,
// accept) and reports whether it was: the simulator's scenarios
// (sim/scenario) read these keys of theirs with it.
func ElectionKey(w *yamlwalk.Walker, key string, v *yaml.Node, r *Router) bool {
	switch key {
	case "version":
		r.Version = uint8(w.Int(v, 2, 3, "write 2 or 3"))
	case "priority":
		r.Priority = uint8(w.Int(v, 1, 255, "write 1..254, or 255 on the box that owns the addresses (0 is only sent on shutdown)"))
	case "advert_interval":
		r.AdvertInterval = w.Duration(v, 10*time.Millisecond, 255*time.Second)
	case "preempt":
		r.Preempt = w.Bool(v)
	case "preempt_delay":
		r.PreemptDelay = w.Duration(v, 0, time.Hour)
	case "accept":
		r.Accept = w.Bool(v)
	default:
		return false
	}
	return true
}

func (p *parser) track(n *yaml.Node, path string) Track {
	var t Track
	p.mapping(n, path, func(k, v *yaml.Node) {
		switch k.Value {
		case "interfaces":
			t.Interfaces = p.trackItems(v, path+".interfaces")
		case "scripts":
			t.Scripts = p.trackItems(v, path+".scripts")
		case "files":
			t.Files = p.trackFiles(v, path+".files")
		case "bfd":
			t.BFD = p.trackBFD(v, path+".bfd")
		}
	})
	return t
}

// trackBFD reads tracked BFD sessions: {name, weight, reverse}.
func (p *parser) trackBFD(n *yaml.Node, path string) []TrackBFD {
	var out []TrackBFD
	for _, item := range p.Seq(n, path) {
		t := TrackBFD{Pos: p.Pos(item)}
		named := false
		p.mapping(item, path+"[]", func(k, v *yaml.Node) {
			switch k.Value {
			case "name":
				t.Name, t.Pos, named = p.Str(v), p.Pos(v), true
			case "weight":
				t.Weight = p.Int(v, -254, 254, "write -254..254; 0 means Fault while it fails")
			case "reverse":
				t.Reverse = p.Bool(v)
			}
		})
		if !named && item.Kind == yaml.MappingNode {
			p.Fail(item, "add `name: ...`, a session of the top-level bfd list", "tracked BFD session without a name")
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) syncGroup(k, n *yaml.Node) SyncGroup {
	g := SyncGroup{Name: k.Value, Pos: p.Pos(k)}
	if !nameRE.MatchString(g.Name) {
		p.Fail(k, "use letters, digits, '.', '_' and '-' (names appear in logs and hooks)", "sync group name %q has characters that are not allowed", g.Name)
	}
	p.mapping(n, "sync_groups.*", func(k, v *yaml.Node) {
		switch k.Value {
		case "routers":
			for _, item := range p.Seq(v, "sync_groups.*.routers") {
				g.Routers = append(g.Routers, p.Str(item))
			}
		case "track":
			g.Track = p.track(v, "sync_groups.*.track")
		case "notify":
			for _, item := range p.Seq(v, "sync_groups.*.notify") {
				if argv := p.argv(item, "notify command"); argv != nil {
					g.Notify = append(g.Notify, argv)
				}
			}
		default:
			p.keepalivedHook(&g.Hooks, k.Value, v, "sync_groups.*")
		}
	})
	if len(g.Routers) == 0 {
		p.Fail(k, "add `routers: [NAME, ...]` naming its virtual routers", "sync group %q has no routers", g.Name)
	}
	return g
}

func (p *parser) trackItems(n *yaml.Node, path string) []TrackItem {
	var out []TrackItem
	for _, item := range p.Seq(n, path) {
		var t TrackItem
		nameNode := item
		p.mapping(item, path+"[]", func(k, v *yaml.Node) {
			switch k.Value {
			case "name":
				t.Name, nameNode = p.Str(v), v
			case "weight":
				t.Weight = p.Int(v, -254, 254, "write -254..254; 0 means Fault while it fails")
			}
		})
		if t.Name == "" && item.Kind == yaml.MappingNode {
			p.Fail(nameNode, "add `name: ...`", "tracked object without a name")
		}
		out = append(out, t)
	}
	return out
}

// argvs reads a list of commands (see argv).
func (p *parser) argvs(n *yaml.Node, path string) [][]string {
	var out [][]string
	for _, item := range p.Seq(n, path) {
		if argv := p.argv(item, "notify command"); argv != nil {
			out = append(out, argv)
		}
	}
	return out
}

// keepalivedHook reads key (notify_master ... notify_keepalived) into h, if it
// is one; path is the mapping holding it, for the schema's key names.
func (p *parser) keepalivedHook(h *KeepalivedHooks, key string, v *yaml.Node, path string) bool {
	dst := map[string]*[][]string{
		"notify_master": &h.Master, "notify_backup": &h.Backup, "notify_fault": &h.Fault,
		"notify_stop": &h.Stop, "notify_keepalived": &h.Generic,
	}[key]
	if dst == nil {
		return false
	}
	*dst = p.argvs(v, path+"."+key)
	return true
}

// trackFiles reads keepalived track_file entries: {path, weight}; the weight
// defaults to 1, as keepalived's.
func (p *parser) trackFiles(n *yaml.Node, path string) []TrackFile {
	var out []TrackFile
	for _, item := range p.Seq(n, path) {
		t := TrackFile{Weight: 1}
		var pathNode *yaml.Node
		p.mapping(item, path+"[]", func(k, v *yaml.Node) {
			switch k.Value {
			case "path":
				t.Path, pathNode = p.Str(v), v
			case "weight":
				t.Weight = p.Int(v, -254, 254, "write -254..254; 0 means Fault while the file holds a value other than 0")
			}
		})
		switch {
		case item.Kind != yaml.MappingNode:
		case pathNode == nil:
			p.Fail(item, "add `path: /run/...`", "tracked file without a path")
		case !filepath.IsAbs(t.Path):
			p.Fail(pathNode, "write an absolute path", "tracked file %q is not an absolute path", t.Path)
		}
		out = append(out, t)
	}
	return out
}

// runAs resolves the user and group of a script or of the notify hooks, as
// keepalived's `user USER [GROUP]`: the user's own group unless a group is
// named; the daemon's own when neither is.
func (p *parser) runAs(s *RunAs, userNode, groupNode *yaml.Node) {
	s.UID, s.GID = uint32(os.Getuid()), uint32(os.Getgid()) // the daemon's, unless named
	if userNode != nil {
		u, err := user.Lookup(s.User)
		if err != nil {
			p.Fail(userNode, "write a user that exists on this host (see /etc/passwd)", "unknown user %q", s.User)
			return
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.UID, s.GID = uint32(uid), uint32(gid)
	}
	if groupNode != nil {
		g, err := user.LookupGroup(s.Group)
		if err != nil {
			p.Fail(groupNode, "write a group that exists on this host (see /etc/group)", "unknown group %q", s.Group)
			return
		}
		gid, _ := strconv.ParseUint(g.Gid, 10, 32)
		s.GID = uint32(gid)
	}
}

func (p *parser) script(k, n *yaml.Node) Script {
	s := Script{Interval: DefaultScriptInterval, Timeout: DefaultScriptTimeout, Rise: 1, Fall: 1}
	var timeoutNode, userNode, groupNode *yaml.Node
	p.mapping(n, "scripts.*", func(key, v *yaml.Node) {
		switch key.Value {
		case "exec":
			s.Exec, s.Pos = p.argv(v, "exec"), p.Pos(v)
		case "interval":
			s.Interval = p.Duration(v, 100*time.Millisecond, time.Hour)
		case "timeout":
			s.Timeout, timeoutNode = p.Duration(v, 10*time.Millisecond, time.Hour), v
		case "rise":
			s.Rise = p.Int(v, 1, 100, "write 1..100")
		case "fall":
			s.Fall = p.Int(v, 1, 100, "write 1..100")
		case "user":
			s.User, userNode = p.Str(v), v
		case "group":
			s.Group, groupNode = p.Str(v), v
		case "init":
			s.InitUnknown = p.OneOf(v, "failed", "unknown") == "unknown"
		}
	})
	p.runAs(&s.RunAs, userNode, groupNode)
	if s.Exec == nil && n.Kind == yaml.MappingNode {
		p.Fail(k, "add `exec: [/path/to/check, args...]`", "script %q has no exec", k.Value)
	}
	if timeoutNode != nil && s.Timeout > s.Interval {
		p.Fail(timeoutNode, fmt.Sprintf("write at most the interval (%v)", s.Interval), "timeout %v is longer than the interval", s.Timeout)
	}
	return s
}

// CommandPath is where a command written as a bare name (no slash) is
// looked up when the configuration is loaded (validate, govrrpd's start and
// each reload): a fixed list, not the caller's PATH, so validate and the
// daemon find the same program. It is systemd's default PATH for services,
// with /sbin and /bin for systems whose /usr is not merged.
const CommandPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookCommand finds name in CommandPath, as keepalived looks a script's bare
// name up in its PATH: the first executable regular file. ok is false when
// there is none.
func LookCommand(name string) (path string, ok bool) {
	for _, dir := range filepath.SplitList(CommandPath) {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return path, true
		}
	}
	return "", false
}

// argv reads a command: a path, or a list [path, args...]. No shell is
// involved: the path is absolute, or a bare name that LookCommand turns
// into one (left bare when it finds none: the host check warns).
func (p *parser) argv(n *yaml.Node, what string) []string {
	var argv []string
	if n.Kind == yaml.ScalarNode {
		argv = []string{n.Value}
	} else {
		for _, a := range p.Seq(n, what) {
			argv = append(argv, p.Str(a))
		}
	}
	if len(argv) == 0 || argv[0] == "" {
		p.Fail(n, "write [/absolute/path, args...]", "empty %s", what)
		return nil
	}
	if !strings.Contains(argv[0], "/") {
		if path, ok := LookCommand(argv[0]); ok {
			argv[0] = path
		}
		return argv
	}
	if !strings.HasPrefix(argv[0], "/") {
		p.Fail(n, "write the absolute path, or a bare command name to look up in "+CommandPath, "%s %q is a relative path", what, argv[0])
		return nil
	}
	return argv
}

func pathName(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
