package config

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/vrrp"
)

// Input limits. A configuration of thousands of routers is a few hundred
// KiB; beyond these a file is a mistake or an attack, and refusing it early
// keeps validate and a reload fast and small.
const (
	// MaxFileSize is the largest configuration file read.
	MaxFileSize = 4 << 20
	// MaxAliasNodes bounds what YAML aliases may add to the file: each
	// alias stands for a copy of its anchor's nodes, so a small file of
	// aliases of aliases can stand for billions of nodes.
	MaxAliasNodes = 100_000
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
	p := &parser{file: file}
	c := p.parse(data)
	if p.errs.Len() > 0 {
		return nil, &p.errs
	}
	c.Warnings = p.warns
	return c, nil
}

type parser struct {
	file  string
	errs  Errors
	warns []*Error // accepted, but worth saying (Config.Warnings)
	// routerKeys holds, per router, the value node of each key written, so
	// cross-field checks can point at the right line and know what was
	// explicit (checksum on a VRRPv2 router is an error, its default is not).
	routerKeys []map[string]*yaml.Node
	// labels are the labels of the router being read whose device is its
	// interface, checked once it is known (routes.go).
	labels []pendingLabel
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) fail(n *yaml.Node, fix, format string, args ...any) {
	p.errs.add(&Error{Pos: p.pos(n), What: clip(fmt.Sprintf(format, args...)), Fix: clip(fix)})
}

// warn records what the file may say but probably should not.
func (p *parser) warn(n *yaml.Node, fix, format string, args ...any) {
	p.warns = append(p.warns, &Error{Pos: p.pos(n), What: clip(fmt.Sprintf(format, args...)), Fix: clip(fix)})
}

func (p *parser) failAt(line int, fix, what string) {
	p.errs.add(&Error{Pos: Pos{File: p.file, Line: line, Col: 1}, What: clip(what), Fix: fix})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) parse(data []byte) *Config {
	c := &Config{File: p.file, ControlSocket: DefaultControlSocket, NotifyTimeout: DefaultNotifyTimeout, Log: Log{Format: "text", Level: "info"}, Scripts: map[string]Script{}}
	if len(data) > MaxFileSize {
		p.failAt(1, "split it, or remove what is not configuration", fmt.Sprintf("the file is larger than %d MiB", MaxFileSize>>20))
		return c
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		p.yamlError(err)
		return c
	}
	if len(doc.Content) == 0 {
		p.failAt(1, "write at least `routers:` with one router (see docs/CONFIG.md)", "the file is empty")
		return c
	}
	// A second document (after ---) would be silently ignored: nothing in
	// it would run. Reported after the first, in file order.
	// Empty documents (a bare --- or ...) say nothing: the first one that
	// is not empty is what would be ignored.
	var extra yaml.Node
	extraErr := dec.Decode(&extra)
	for extraErr == nil && (len(extra.Content) == 0 || extra.Content[0].Tag == "!!null") {
		extra = yaml.Node{}
		extraErr = dec.Decode(&extra)
	}
	if n := aliasNodes(&doc); n > MaxAliasNodes {
		p.failAt(1, "write the values out, or use fewer aliases (*name)", fmt.Sprintf("YAML aliases add more than %d nodes to the file", MaxAliasNodes))
		return c
	}
	root := doc.Content[0]
	var routersNode *yaml.Node
	c.KeyPos = map[string]Pos{}
	p.mapping(root, "", func(k, v *yaml.Node) {
		c.KeyPos[k.Value] = p.pos(v)
		switch k.Value {
		case "control_socket":
			c.ControlSocket = p.str(v)
			if c.ControlSocket != "" && !strings.HasPrefix(c.ControlSocket, "/") {
				p.fail(v, "write an absolute path such as "+DefaultControlSocket, "control_socket %q is not an absolute path", c.ControlSocket)
			}
		case "control_group":
			c.ControlGroup = p.str(v)
		case "metrics_listen":
			c.MetricsListen = p.str(v)
			if err := checkListen(c.MetricsListen); err != nil {
				p.fail(v, "write host:port with an IP address and a port number, e.g. 127.0.0.1:9624 or [::1]:9624", "metrics_listen %q: %v", c.MetricsListen, err)
			}
		case "snmp_agentx":
			c.SNMPAgentX = p.str(v)
			if err := checkAgentX(c.SNMPAgentX); err != nil {
				p.fail(v, "write snmpd's agentXSocket: an absolute path such as /var/agentx/master, or tcp:127.0.0.1:705", "snmp_agentx %q: %v", c.SNMPAgentX, err)
			}
		case "notify_timeout":
			c.NotifyTimeout = p.duration(v, time.Second, 10*time.Minute)
		case "log":
			p.mapping(v, "log", func(k, v *yaml.Node) {
				switch k.Value {
				case "format":
					c.Log.Format = p.oneOf(v, "text", "json")
				case "level":
					c.Log.Level = p.oneOf(v, "debug", "info", "warn", "error")
				}
			})
		case "routers":
			routersNode = v
			for _, item := range p.seq(v, "routers") {
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
		}
	})
	if routersNode == nil {
		p.fail(root, "add `routers:` with at least one router (see docs/CONFIG.md)", "no routers configured")
	} else if len(c.Routers) == 0 && routersNode.Kind == yaml.SequenceNode {
		p.fail(routersNode, "add at least one router", "routers is empty")
	}
	p.crossCheck(c)
	if extraErr != io.EOF {
		if extraErr != nil {
			p.yamlError(extraErr)
		} else {
			p.failAt(extra.Line, "keep one document: remove the --- line and merge what follows it", "a second YAML document starts here; govrrpd reads only one")
		}
	}
	return c
}

// yamlError adds the errors of the YAML decoder, one per line of its
// message, at the line it names.
func (p *parser) yamlError(err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(line, "yaml: unmarshal errors:"))
		if line == "" {
			continue
		}
		e := &Error{Pos: Pos{File: p.file, Line: 1, Col: 1}, What: "YAML syntax: " + line, Fix: "check the indentation and quoting there"}
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			e.Pos.Line, _ = strconv.Atoi(m[1])
			e.What = "YAML syntax near here: " + m[2]
		}
		e.What = clip(e.What)
		p.errs.add(e)
	}
}

// aliasNodes counts the nodes that aliases add to the tree below n, up to
// a little over MaxAliasNodes, in time linear in the file: each alias adds
// a copy of its anchor, whose size (aliases inside it expanded) is computed
// once per anchor.
func aliasNodes(n *yaml.Node) int {
	const limit = MaxAliasNodes + 1
	size := map[*yaml.Node]int{}
	var expanded func(n *yaml.Node) int
	expanded = func(n *yaml.Node) int {
		if s, ok := size[n]; ok {
			return s
		}
		size[n] = limit // an anchor that contains itself
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s += expanded(n.Alias)
		}
		for _, c := range n.Content {
			s = min(s+expanded(c), limit)
		}
		size[n] = s
		return s
	}
	added := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if added >= limit {
			return
		}
		if depth > 10000 {
			added = limit // nesting no configuration needs
			return
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			added = min(added+expanded(n.Alias), limit)
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return added
}

// checkAgentX refuses an AgentX address govrrpd could not dial: a unix
// socket path or tcp:IP:PORT, as snmpd's agentXSocket writes them.
func checkAgentX(s string) error {
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
// list under path.
func (p *parser) mapping(n *yaml.Node, path string, fn func(k, v *yaml.Node)) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return
		}
		p.fail(n, "write `key: value` lines indented below it", "%s must be a mapping, not %s", pathName(path), kindName(n))
		return
	}
	known := childKeys(path)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if first := seen[k.Value]; first != nil {
			// The YAML library keeps the last value silently; a second
			// "priority:" is almost always a mistake worth stopping for.
			p.fail(k, fmt.Sprintf("keep one of them (the first is at line %d)", first.Line), "%q is set twice", k.Value)
			continue
		}
		seen[k.Value] = k
		if path != "scripts" && path != "sync_groups" && !slices.Contains(known, k.Value) {
			fix := "remove it; valid keys here: " + strings.Join(known, ", ")
			if s := closest(k.Value, known); s != "" {
				fix = fmt.Sprintf("did you mean %q?", s)
			}
			p.fail(k, fix, "unknown key %q in %s", k.Value, pathName(path))
			continue
		}
		fn(k, v)
	}
}

func (p *parser) seq(n *yaml.Node, path string) []*yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		if n.Tag == "!!null" {
			return nil
		}
		p.fail(n, "write a list: `- item` lines, or [a, b]", "%s must be a list, not %s", pathName(path), kindName(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func (p *parser) router(n *yaml.Node) Router {
	r := Router{
		Version: DefaultVersion, Priority: DefaultPriority, AdvertInterval: DefaultAdvertInterval,
		Preempt: true, ReplyLower: true, Announce: Announce{Repeat: DefaultAnnounceRepeat, Delay: DefaultAnnounceDelay},
		Pos: p.pos(n),
	}
	set := map[string]*yaml.Node{}
	var addrNodes []*yaml.Node // of the addresses parsed, for messages about one
	var exclNodes []*yaml.Node // of the excluded addresses parsed
	p.mapping(n, "routers[]", func(k, v *yaml.Node) {
		set[k.Value] = v
		switch k.Value {
		case "name":
			r.Name = p.str(v)
		case "interface":
			r.Interface = p.str(v)
		case "vrid":
			r.VRID = uint8(p.integer(v, 1, 255, "VRIDs are 1..255"))
		case "version":
			r.Version = uint8(p.integer(v, 2, 3, "write 2 or 3"))
		case "priority":
			r.Priority = uint8(p.integer(v, 1, 255, "write 1..254, or 255 on the box that owns the addresses (0 is only sent on shutdown)"))
		case "advert_interval":
			r.AdvertInterval = p.duration(v, 10*time.Millisecond, 255*time.Second)
		case "preempt":
			r.Preempt = p.boolean(v)
		case "preempt_delay":
			r.PreemptDelay = p.duration(v, 0, time.Hour)
		case "accept":
			r.Accept = p.boolean(v)
		case "vmac":
			r.VMAC = p.boolean(v)
		case "strict":
			r.Strict = p.boolean(v)
		case "reply_lower_priority":
			r.ReplyLower = p.boolean(v)
		case "v2_compat":
			r.V2Compat = p.boolean(v)
		case "checksum":
			if p.oneOf(v, "pseudo-header", "plain") == "plain" {
				r.Checksum = vrrp.ChecksumPlain
			}
		case "unicast_source":
			if addr, ok := p.addr(v); ok {
				r.UnicastSource = addr
			}
		case "unicast_peers":
			for _, a := range p.seq(v, "routers[].unicast_peers") {
				if addr, ok := p.addr(a); ok {
					r.UnicastPeers = append(r.UnicastPeers, addr)
				}
			}
		case "auth":
			p.mapping(v, "routers[].auth", func(k, v *yaml.Node) {
				switch k.Value {
				case "type":
					switch p.oneOf(v, "none", "pass", "ah") {
					case "pass":
						r.AuthType = vrrp.AuthPassword
					case "ah":
						p.fail(v, "use `type: pass` (keepalived auth_type PASS) or no auth", "IPsec AH authentication is not supported (RFC 3768 removed it)")
					}
				case "password":
					r.AuthPassword = p.str(v)
					if _, err := vrrp.Password(r.AuthPassword); err != nil {
						p.fail(v, "write 1 to 8 characters (keepalived would silently cut a longer one)", "password is %d bytes", len(r.AuthPassword))
					}
				}
			})
		case "addresses":
			for _, a := range p.seq(v, "routers[].addresses") {
				if pfx, ok := p.addrItem(&r, a, "routers[].addresses[]"); ok {
					addrNodes = append(addrNodes, a)
					r.Addresses = append(r.Addresses, pfx)
				}
			}
		case "excluded_addresses":
			items := p.seq(v, "routers[].excluded_addresses")
			if len(items) > 255 {
				p.fail(v, "split them over several routers", "%d excluded addresses; at most 255 per router", len(items))
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
					r.Announce.Repeat = p.integer(v, 1, 100, "write 1..100 messages per address")
				case "delay":
					r.Announce.Delay = p.duration(v, 0, time.Hour)
				case "refresh":
					r.Announce.Refresh = p.duration(v, 0, 24*time.Hour)
					if r.Announce.Refresh > 0 && r.Announce.Refresh < time.Second {
						p.fail(v, "write 0s (off) or at least 1s", "refresh %v would flood the LAN", r.Announce.Refresh)
					}
				}
			})
		case "routes":
			r.Routes = p.routes(v)
		case "rules":
			r.Rules = p.rules(v)
		case "notify":
			r.Notify = p.argvs(v, "routers[].notify")
		default:
			p.keepalivedHook(&r.Hooks, k.Value, v, "routers[]")
		}
	})
	r.KeyPos = make(map[string]Pos, len(set)+len(addrNodes))
	for k, v := range set {
		r.KeyPos[k] = p.pos(v)
	}
	for i, a := range addrNodes {
		r.KeyPos[fmt.Sprintf("addresses[%d]", i)] = p.pos(a)
	}
	for i, a := range exclNodes {
		r.KeyPos[fmt.Sprintf("excluded_addresses[%d]", i)] = p.pos(a)
	}
	p.routerKeys = append(p.routerKeys, set)
	p.checkRouter(&r, n, set)
	p.checkRoutes(&r)
	p.checkExcluded(&r)
	p.checkV2Compat(&r, set)
	return r
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
		}
	})
	return t
}

func (p *parser) syncGroup(k, n *yaml.Node) SyncGroup {
	g := SyncGroup{Name: k.Value, Pos: p.pos(k)}
	if !nameRE.MatchString(g.Name) {
		p.fail(k, "use letters, digits, '.', '_' and '-' (names appear in logs and hooks)", "sync group name %q has characters that are not allowed", g.Name)
	}
	p.mapping(n, "sync_groups.*", func(k, v *yaml.Node) {
		switch k.Value {
		case "routers":
			for _, item := range p.seq(v, "sync_groups.*.routers") {
				g.Routers = append(g.Routers, p.str(item))
			}
		case "track":
			g.Track = p.track(v, "sync_groups.*.track")
		case "notify":
			for _, item := range p.seq(v, "sync_groups.*.notify") {
				if argv := p.argv(item, "notify command"); argv != nil {
					g.Notify = append(g.Notify, argv)
				}
			}
		default:
			p.keepalivedHook(&g.Hooks, k.Value, v, "sync_groups.*")
		}
	})
	if len(g.Routers) == 0 {
		p.fail(k, "add `routers: [NAME, ...]` naming its virtual routers", "sync group %q has no routers", g.Name)
	}
	return g
}

func (p *parser) trackItems(n *yaml.Node, path string) []TrackItem {
	var out []TrackItem
	for _, item := range p.seq(n, path) {
		var t TrackItem
		nameNode := item
		p.mapping(item, path+"[]", func(k, v *yaml.Node) {
			switch k.Value {
			case "name":
				t.Name, nameNode = p.str(v), v
			case "weight":
				t.Weight = p.integer(v, -254, 254, "write -254..254; 0 means Fault while it fails")
			}
		})
		if t.Name == "" && item.Kind == yaml.MappingNode {
			p.fail(nameNode, "add `name: ...`", "tracked object without a name")
		}
		out = append(out, t)
	}
	return out
}

// argvs reads a list of commands (see argv).
func (p *parser) argvs(n *yaml.Node, path string) [][]string {
	var out [][]string
	for _, item := range p.seq(n, path) {
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
	for _, item := range p.seq(n, path) {
		t := TrackFile{Weight: 1}
		var pathNode *yaml.Node
		p.mapping(item, path+"[]", func(k, v *yaml.Node) {
			switch k.Value {
			case "path":
				t.Path, pathNode = p.str(v), v
			case "weight":
				t.Weight = p.integer(v, -254, 254, "write -254..254; 0 means Fault while the file holds a value other than 0")
			}
		})
		switch {
		case item.Kind != yaml.MappingNode:
		case pathNode == nil:
			p.fail(item, "add `path: /run/...`", "tracked file without a path")
		case !filepath.IsAbs(t.Path):
			p.fail(pathNode, "write an absolute path", "tracked file %q is not an absolute path", t.Path)
		}
		out = append(out, t)
	}
	return out
}

// runAs resolves a script's user and group, as keepalived's `user USER
// [GROUP]`: the user's own group unless a group is named.
func (p *parser) runAs(s *Script, userNode, groupNode *yaml.Node) {
	if userNode != nil {
		u, err := user.Lookup(s.User)
		if err != nil {
			p.fail(userNode, "write a user that exists on this host (see /etc/passwd)", "unknown user %q", s.User)
			return
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.UID, s.GID = uint32(uid), uint32(gid)
	}
	if groupNode != nil {
		g, err := user.LookupGroup(s.Group)
		if err != nil {
			p.fail(groupNode, "write a group that exists on this host (see /etc/group)", "unknown group %q", s.Group)
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
			s.Exec, s.Pos = p.argv(v, "exec"), p.pos(v)
		case "interval":
			s.Interval = p.duration(v, 100*time.Millisecond, time.Hour)
		case "timeout":
			s.Timeout, timeoutNode = p.duration(v, 10*time.Millisecond, time.Hour), v
		case "rise":
			s.Rise = p.integer(v, 1, 100, "write 1..100")
		case "fall":
			s.Fall = p.integer(v, 1, 100, "write 1..100")
		case "user":
			s.User, userNode = p.str(v), v
		case "group":
			s.Group, groupNode = p.str(v), v
		}
	})
	s.UID, s.GID = uint32(os.Getuid()), uint32(os.Getgid()) // the daemon's, unless named
	p.runAs(&s, userNode, groupNode)
	if s.Exec == nil && n.Kind == yaml.MappingNode {
		p.fail(k, "add `exec: [/path/to/check, args...]`", "script %q has no exec", k.Value)
	}
	if timeoutNode != nil && s.Timeout > s.Interval {
		p.fail(timeoutNode, fmt.Sprintf("write at most the interval (%v)", s.Interval), "timeout %v is longer than the interval", s.Timeout)
	}
	return s
}

// argv reads a command: a path, or a list [path, args...]. No shell is
// involved, so the path must be absolute.
func (p *parser) argv(n *yaml.Node, what string) []string {
	var argv []string
	if n.Kind == yaml.ScalarNode {
		argv = []string{n.Value}
	} else {
		for _, a := range p.seq(n, what) {
			argv = append(argv, p.str(a))
		}
	}
	if len(argv) == 0 || argv[0] == "" {
		p.fail(n, "write [/absolute/path, args...]", "empty %s", what)
		return nil
	}
	if !strings.HasPrefix(argv[0], "/") {
		p.fail(n, "write the absolute path, e.g. /usr/bin/"+argv[0]+" (commands run without a shell or PATH lookup)", "%s %q is not an absolute path", what, argv[0])
		return nil
	}
	return argv
}

func (p *parser) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, "write a single value", "expected a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) oneOf(n *yaml.Node, choices ...string) string {
	s := p.str(n)
	if s == "" && n.Kind != yaml.ScalarNode {
		return ""
	}
	if !slices.Contains(choices, s) {
		p.fail(n, "write one of: "+strings.Join(choices, ", "), "%q is not valid here", s)
		return ""
	}
	return s
}

func (p *parser) boolean(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.fail(n, "write true or false", "expected true or false, got %q", n.Value)
		return false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
}

func (p *parser) integer(n *yaml.Node, lo, hi int, fix string) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.fail(n, fix, "expected a whole number, got %q", n.Value)
		return lo
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < lo || v > hi {
		p.fail(n, fix, "%s is out of range %d..%d", n.Value, lo, hi)
		return lo
	}
	return v
}

func (p *parser) duration(n *yaml.Node, lo, hi time.Duration) time.Duration {
	if n.Kind != yaml.ScalarNode {
		p.fail(n, "write a duration such as 1s or 100ms", "expected a duration, got %s", kindName(n))
		return lo
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		p.fail(n, fmt.Sprintf("write %ss (or %sms)", n.Value, n.Value), "%s has no unit", n.Value)
		return lo
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.fail(n, "write a duration such as 1s, 100ms or 1m30s", "%q is not a duration", n.Value)
		return lo
	}
	if d < lo || d > hi {
		p.fail(n, fmt.Sprintf("write %v..%v", lo, hi), "%v is out of range", d)
		return lo
	}
	return d
}

func (p *parser) addr(n *yaml.Node) (netip.Addr, bool) {
	a, err := netip.ParseAddr(p.str(n))
	if err != nil {
		if n.Kind == yaml.ScalarNode {
			p.fail(n, "write an address such as 10.77.0.2 or fd77::2", "%q is not an IP address", n.Value)
		}
		return a, false
	}
	return a.Unmap(), true
}

func (p *parser) prefix(n *yaml.Node) (netip.Prefix, bool) {
	s := p.str(n)
	if n.Kind != yaml.ScalarNode {
		return netip.Prefix{}, false
	}
	if !strings.Contains(s, "/") {
		a, ok := p.addr(n)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		p.fail(n, "write address/prefix-length, e.g. 10.77.0.254/24 or fd77::254/64", "%q is not an address/prefix", s)
		return pfx, false
	}
	return netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()), true
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return resolve(n.Content[0])
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

func pathName(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}

// closest suggests the known key nearest to s, if it is near enough to be a typo.
func closest(s string, known []string) string {
	best, bestD := "", min(3, (len(s)+1)/2)
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
