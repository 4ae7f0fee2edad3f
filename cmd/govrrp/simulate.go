package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"govrrp/fsm"
	"govrrp/sim"
	"govrrp/vrrp"
)

const simulateUsage = `Usage: govrrp simulate [FLAGS] [-f FILE]

Answers "what happens if..." without a network or privileges: runs a
scenario in the deterministic simulator, a LAN of govrrp's real state
machines exchanging real encoded adverts under a virtual clock. Prints each
router's Skew_Time and Master_Down_Interval, the timeline (events, state
transitions, and the first advert of each new Master, with virtual times),
how long each takeover took next to the RFC's timer and how long the LAN had
no Master, and who was Master after each event. The same flags and file give
the same output.

Without -f the scenario is the demo's: the routers elect a Master; one step
later the Master's cable is pulled (link down); two steps later it is
plugged back (it preempts, unless preempt is off); three steps later the
Master stops gracefully (priority-0 advert). A step is 10 advert intervals
plus the preempt delay and twice the LAN delay, rounded up to an interval.

  --routers P,P,...   priorities of routers r1, r2, ... (default 200,150,100;
                      255 is the address owner)
  --interval D        advert interval (default 1s; VRRPv3 10ms..40.95s in
                      10ms steps, VRRPv2 whole seconds)
  --version 3|2       VRRP version (default 3)
  --family ipv4|ipv6  address family (default ipv4; ipv6 needs version 3)
  --preempt=BOOL      Preempt_Mode (default true)
  --preempt-delay D   hold preemption off this long after first hearing a
                      lower-priority Master (default 0s)
  --loss F            probability 0..1 that one copy of an advert is lost
  --delay D           one-way delay on the LAN (default 0s)
  --seed N            seed of the loss draws (default 1)
  --duration D        virtual time to run (default: a step after the last
                      event)
  --adverts           print every advert, not only the first of each new
                      Master, priority changes and priority-0 adverts
  --json              print one JSON document instead of text: the settings,
                      the routers (timers, final state, counters), the
                      timeline as shown (times in at_ms), the phases, and
                      the Masters at the end
  -f, --file FILE     run the scenario in FILE; the flags above given beside
                      it override its top-level settings (--routers cannot)

Scenario file (YAML; see cmd/govrrp/testdata/simulate/partition.yaml):

  interval: 1s        # also version, family, preempt, preempt_delay, loss,
  seed: 1             # delay, seed and duration, as the flags
  addresses: [10.77.0.254]   # virtual addresses (default 10.77.0.254, or
                             # fe80::fe and fd77::fe for ipv6)
  routers:
    - {name: r1, priority: 200}
    - {name: r2, priority: 150, preempt: false}
    - {name: r3, priority: 100, start: 5s}
  events:
    - {at: 10s, partition: [[r1], [r2, r3]]}
    - {at: 20s, heal: true}

Router keys: name and priority (1..255; or owner: true for 255) are
required; address (primary; default 10.77.0.N or fe80::N for the Nth
router), addresses, interval, version, preempt, preempt_delay, and start (a
time, default 0s, or never) are optional.

Each event has at: (a time) and one action:
  crash: R                   R dies silently: no adverts, no timers
  restart: R                 a fresh state machine boots and starts at once
  stop: R                    graceful shutdown: a Master sends priority 0
  start: R                   starts a stopped router
  link-down: R               R's cable is pulled: Fault, nothing in or out
  link-up: R                 the cable is back
  priority: {R: P, ...}      effective priority 1..254, as tracking sets it
  partition: [[R, ...], ...] only routers in one group hear each other;
                             the routers in no group form one more group
  heal: true                 joins the partitions
  loss: F                    from now on
  delay: D                   from now on
R is a router's name, or master: the router that is Master at that moment
(the best one if there are several).

Exit status: 0 done, 1 the simulation failed, 2 usage error or a bad
scenario file (FILE:LINE:COL: what is wrong).
`

const (
	simVRID         = 1
	simMaxRouters   = 253
	simMaxIntervals = 1_000_000 // duration / shortest interval: bounds memory
)

// simScenario is what to simulate, from the flags or a file.
type simScenario struct {
	file         string // "" for the demo's scenario
	version      uint8
	family       vrrp.Family
	interval     time.Duration
	preempt      bool
	preemptDelay time.Duration
	loss         float64
	delay        time.Duration
	seed         uint64
	duration     time.Duration // 0 until computed
	addresses    []netip.Addr  // nil: the family's default
	routers      []simRouter
	events       []simEvent
}

// simRouter is one router; the pointers are unset unless its file entry
// sets them, and it then inherits from the scenario.
type simRouter struct {
	name         string
	priority     uint8
	address      netip.Addr
	addresses    []netip.Addr
	interval     *time.Duration
	version      *uint8
	preempt      *bool
	preemptDelay *time.Duration
	start        time.Duration
	never        bool
	node         *yaml.Node // nil for flags

	cfg fsm.Config // resolved
}

// simName is a router named in an event, where it was written.
type simName struct {
	name string
	node *yaml.Node
}

type simPrio struct {
	simName
	prio uint8
}

type simEvent struct {
	at     time.Duration
	kind   string
	target simName   // crash, restart, stop, start, link-down, link-up
	ref    int       // >0: act on the router event ref-1 acted on (the demo's link-up)
	prios  []simPrio // priority
	groups [][]simName
	loss   float64
	delay  time.Duration
	atNode *yaml.Node
	seq    int // file order, for a stable sort
}

var simActions = []string{"crash", "restart", "stop", "start", "link-down", "link-up", "priority", "partition", "heal", "loss", "delay"}

func simDefaults() *simScenario {
	return &simScenario{version: 3, family: vrrp.IPv4, interval: time.Second, preempt: true, seed: 1}
}

func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage) }
	d := simDefaults()
	routers := fs.String("routers", "200,150,100", "priorities of r1, r2, ...")
	interval := fs.Duration("interval", d.interval, "advert interval")
	version := fs.Uint("version", uint(d.version), "VRRP version")
	family := fs.String("family", "ipv4", "ipv4 or ipv6")
	preempt := fs.Bool("preempt", d.preempt, "Preempt_Mode")
	preemptDelay := fs.Duration("preempt-delay", 0, "preempt delay")
	loss := fs.Float64("loss", 0, "probability that an advert copy is lost")
	delay := fs.Duration("delay", 0, "one-way LAN delay")
	seed := fs.Uint64("seed", d.seed, "seed of the loss draws")
	duration := fs.Duration("duration", 0, "virtual time to run")
	adverts := fs.Bool("adverts", false, "print every advert")
	asJSON := fs.Bool("json", false, "print JSON")
	var file string
	fs.StringVar(&file, "f", "", "scenario file")
	fs.StringVar(&file, "file", "", "scenario file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "govrrp simulate: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (a scenario file goes after -f)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// Flags first, so that a bad flag is reported even with a file; the
	// rest (interval steps, v2 and IPv6) fsm.Config.Check says in resolve.
	if *version != 2 && *version != 3 {
		return usageErr("--version %d: must be 2 or 3", *version)
	}
	fam, ok := parseFamily(*family)
	if !ok {
		return usageErr("--family %q: must be ipv4 or ipv6", *family)
	}
	switch {
	case *loss < 0 || *loss > 1:
		return usageErr("--loss %v: must be a probability 0..1", *loss)
	case *interval <= 0:
		return usageErr("--interval %v: must be positive", *interval)
	case *preemptDelay < 0:
		return usageErr("--preempt-delay %v: must be 0 or more", *preemptDelay)
	case *delay < 0:
		return usageErr("--delay %v: must be 0 or more", *delay)
	case *duration < 0 || (*duration == 0 && set["duration"]):
		return usageErr("--duration %v: must be positive", *duration)
	}
	apply := func(sc *simScenario, all bool) {
		if all || set["interval"] {
			sc.interval = *interval
		}
		if all || set["version"] {
			sc.version = uint8(*version)
		}
		if all || set["family"] {
			sc.family = fam
		}
		if all || set["preempt"] {
			sc.preempt = *preempt
		}
		if all || set["preempt-delay"] {
			sc.preemptDelay = *preemptDelay
		}
		if all || set["loss"] {
			sc.loss = *loss
		}
		if all || set["delay"] {
			sc.delay = *delay
		}
		if all || set["seed"] {
			sc.seed = *seed
		}
		if all || set["duration"] {
			sc.duration = *duration
		}
	}

	var sc *simScenario
	if file != "" {
		if set["routers"] {
			return usageErr("--routers and -f do not mix: the file lists the routers")
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return usageErr("%v", err)
		}
		var errs []string
		sc, errs = parseSimFile(file, data, func(sc *simScenario) { apply(sc, false) })
		if len(errs) > 0 {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			return exitUsage
		}
	} else {
		sc = simDefaults()
		apply(sc, true)
		prios, err := parsePriorities(*routers)
		if err != nil {
			return usageErr("--routers %q: %v", *routers, err)
		}
		for i, p := range prios {
			sc.routers = append(sc.routers, simRouter{name: "r" + strconv.Itoa(i+1), priority: p})
		}
		if err := sc.resolve(nil); err != nil {
			return usageErr("%v", err)
		}
		sc.demo()
	}
	if err := sc.checkLength(); err != nil {
		return usageErr("%v", err)
	}

	res, err := sc.run(*adverts)
	if err != nil {
		fmt.Fprintf(stderr, "govrrp simulate: %v\n", err)
		return exitFail
	}
	if *asJSON {
		err = res.writeJSON(stdout)
	} else {
		err = res.writeText(stdout, *adverts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "govrrp simulate: %v\n", err)
		return exitFail
	}
	return exitOK
}

func parseFamily(s string) (vrrp.Family, bool) {
	switch strings.ToLower(s) {
	case "ipv4", "4", "inet":
		return vrrp.IPv4, true
	case "ipv6", "6", "inet6":
		return vrrp.IPv6, true
	}
	return 0, false
}

func familyName(f vrrp.Family) string {
	if f == vrrp.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

func parsePriorities(s string) ([]uint8, error) {
	var out []uint8
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		p, err := strconv.ParseUint(f, 10, 8)
		if err != nil || p == 0 {
			return nil, fmt.Errorf("%q is not a priority 1..255", f)
		}
		out = append(out, uint8(p))
	}
	if len(out) > simMaxRouters {
		return nil, fmt.Errorf("at most %d routers", simMaxRouters)
	}
	return out, nil
}

// defaultVIPs are the virtual addresses when none are given.
func (sc *simScenario) vips() []netip.Addr {
	if sc.addresses != nil {
		return sc.addresses
	}
	if sc.family == vrrp.IPv6 {
		return []netip.Addr{netip.MustParseAddr("fe80::fe"), netip.MustParseAddr("fd77::fe")}
	}
	return []netip.Addr{netip.MustParseAddr("10.77.0.254")}
}

func defaultPrimary(fam vrrp.Family, i int) netip.Addr {
	if fam == vrrp.IPv6 {
		return netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte((i + 1) >> 8), 15: byte(i + 1)})
	}
	return netip.AddrFrom4([4]byte{10, 77, 0, byte(i + 1)})
}

// resolve builds each router's fsm.Config from the scenario and its own
// settings and checks it. fail, when set, reports errors at a file position
// (and resolve goes on); without it the first error is returned.
func (sc *simScenario) resolve(fail func(n *yaml.Node, format string, a ...any)) error {
	var first error
	report := func(n *yaml.Node, format string, a ...any) {
		if fail != nil && n != nil {
			fail(n, format, a...)
		} else if first == nil {
			first = fmt.Errorf(format, a...)
		}
	}
	used := map[netip.Addr]string{}
	for i := range sc.routers {
		r := &sc.routers[i]
		c := fsm.Config{VRID: simVRID, Version: sc.version, Family: sc.family, Priority: r.priority,
			AdvertInterval: sc.interval, Preempt: sc.preempt, PreemptDelay: sc.preemptDelay,
			Addresses: sc.vips(), Primary: r.address}
		if r.version != nil {
			c.Version = *r.version
		}
		if r.interval != nil {
			c.AdvertInterval = *r.interval
		}
		if r.preempt != nil {
			c.Preempt = *r.preempt
		}
		if r.preemptDelay != nil {
			c.PreemptDelay = *r.preemptDelay
		}
		if r.addresses != nil {
			c.Addresses = r.addresses
		}
		if !c.Primary.IsValid() {
			c.Primary = defaultPrimary(sc.family, i)
		}
		if err := c.Check(); err != nil {
			msg := strings.TrimPrefix(err.Error(), fsm.ErrConfig.Error()+": ")
			if fail != nil {
				msg = "router " + r.name + ": " + msg
			}
			report(r.node, "%s", msg)
			continue
		}
		if other, dup := used[c.Primary]; dup {
			report(r.node, "router %s: address %v is also %s's; give each router its own", r.name, c.Primary, other)
			continue
		}
		used[c.Primary] = r.name
		r.cfg = c
	}
	return first
}

// settle is how long after an event the LAN surely has settled: 10 of
// the longest intervals, the longest preempt delay and twice the delay,
// rounded up to a whole interval so that event times stay round.
func (sc *simScenario) settle() time.Duration {
	var iv, pd time.Duration
	for _, r := range sc.routers {
		iv, pd = max(iv, r.cfg.AdvertInterval), max(pd, r.cfg.PreemptDelay)
	}
	dl := sc.delay
	for _, e := range sc.events {
		if e.kind == "delay" {
			dl = max(dl, e.delay)
		}
	}
	s := 10*iv + pd + 2*dl
	return (s + iv - 1) / iv * iv
}

// demo sets the demo's events: cable pull of the Master, cable back,
// graceful stop of the Master.
func (sc *simScenario) demo() {
	gap := sc.settle()
	all := []simEvent{
		{at: gap, kind: "link-down", target: simName{name: "master"}},
		{at: 2 * gap, kind: "link-up", ref: 1},
		{at: 3 * gap, kind: "stop", target: simName{name: "master"}},
	}
	if sc.duration == 0 {
		sc.duration = 4 * gap
	}
	for _, e := range all {
		if e.at <= sc.duration {
			sc.events = append(sc.events, e)
		}
	}
}

// checkLength refuses runs that would record too much.
func (sc *simScenario) checkLength() error {
	iv := sc.routers[0].cfg.AdvertInterval
	for _, r := range sc.routers {
		iv = min(iv, r.cfg.AdvertInterval)
	}
	if sc.duration/iv > simMaxIntervals {
		return fmt.Errorf("--duration %v is more than %d advert intervals (%v); shorten it", sc.duration, simMaxIntervals, iv)
	}
	return nil
}

// --- the scenario file ---

type simParser struct {
	file string
	errs []simErr
}

type simErr struct {
	line, col int
	msg       string
}

func (p *simParser) fail(n *yaml.Node, format string, a ...any) {
	p.errs = append(p.errs, simErr{n.Line, n.Column, fmt.Sprintf(format, a...)})
}

// messages are the errors in file order, as FILE:LINE:COL: what.
func (p *simParser) messages() []string {
	slices.SortStableFunc(p.errs, func(a, b simErr) int { return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col)) })
	var out []string
	for _, e := range p.errs {
		pos := fmt.Sprintf("%s:%d", p.file, e.line)
		if e.col > 0 {
			pos += ":" + strconv.Itoa(e.col)
		}
		out = append(out, pos+": "+e.msg)
	}
	return out
}

var simYAMLLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseSimFile reads a scenario; flags overrides its top-level settings
// before the routers are built from them.
func parseSimFile(file string, data []byte, flags func(*simScenario)) (*simScenario, []string) {
	p := &simParser{file: file}
	sc := simDefaults()
	sc.file = file
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(line, "yaml: unmarshal errors:"))
			if m := simYAMLLine.FindStringSubmatch(line); m != nil {
				n, _ := strconv.Atoi(m[1])
				p.errs = append(p.errs, simErr{n, 0, "YAML syntax near here: " + m[2]})
			} else if line != "" {
				p.errs = append(p.errs, simErr{1, 0, "YAML syntax: " + line})
			}
		}
		return nil, p.messages()
	}
	if len(doc.Content) == 0 {
		return nil, []string{file + ":1:1: the file is empty; it needs routers: (see govrrp help simulate)"}
	}
	root := doc.Content[0]
	var routersNode, eventsNode, addressesNode *yaml.Node
	p.mapping(root, "the scenario", []string{"version", "family", "interval", "preempt", "preempt_delay", "loss",
		"delay", "seed", "duration", "addresses", "routers", "events"}, func(k, v *yaml.Node) {
		switch k.Value {
		case "version":
			if x, ok := p.version(v); ok {
				sc.version = x
			}
		case "family":
			if f, ok := parseFamily(v.Value); ok && v.Kind == yaml.ScalarNode {
				sc.family = f
			} else {
				p.fail(v, "family %q: must be ipv4 or ipv6", v.Value)
			}
		case "interval":
			if d, ok := p.dur(v, false); ok {
				sc.interval = d
			}
		case "preempt":
			if b, ok := p.boolean(v); ok {
				sc.preempt = b
			}
		case "preempt_delay":
			if d, ok := p.dur(v, true); ok {
				sc.preemptDelay = d
			}
		case "loss":
			if f, ok := p.prob(v); ok {
				sc.loss = f
			}
		case "delay":
			if d, ok := p.dur(v, true); ok {
				sc.delay = d
			}
		case "seed":
			if s, err := strconv.ParseUint(v.Value, 10, 64); err == nil && v.Kind == yaml.ScalarNode {
				sc.seed = s
			} else {
				p.fail(v, "seed %q: must be a whole number 0..%d", v.Value, uint64(1<<64-1))
			}
		case "duration":
			if d, ok := p.dur(v, false); ok {
				sc.duration = d
			}
		case "addresses":
			sc.addresses, addressesNode = p.addrs(v), v
		case "routers":
			routersNode = v
		case "events":
			eventsNode = v
		}
	})
	flags(sc)
	for _, a := range sc.addresses {
		if vrrp.FamilyOf(a) != sc.family {
			p.fail(addressesNode, "virtual address %v is not %s (the family of this scenario)", a, familyName(sc.family))
			return nil, p.messages()
		}
	}
	if routersNode == nil {
		p.fail(root, "no routers: add routers: with at least one {name: ..., priority: ...}")
		return nil, p.messages()
	}
	names := map[string]bool{}
	for _, n := range p.seq(routersNode, "routers") {
		r, ok := p.router(n)
		if names[r.name] {
			p.fail(n, "router name %q is used twice", r.name)
			continue
		}
		if r.name != "" {
			names[r.name] = true // events may name it, even if it has errors
		}
		if ok {
			sc.routers = append(sc.routers, r)
		}
	}
	if len(names) == 0 && len(p.errs) == 0 {
		p.fail(routersNode, "routers is empty: add at least one {name: ..., priority: ...}")
	}
	if len(sc.routers) > simMaxRouters {
		p.fail(routersNode, "%d routers: at most %d", len(sc.routers), simMaxRouters)
	}
	if eventsNode != nil {
		for _, n := range p.seq(eventsNode, "events") {
			if e, ok := p.event(n, len(sc.events)); ok {
				sc.events = append(sc.events, e)
			}
		}
	}
	sc.resolve(p.fail)
	p.checkNames(sc, names)
	if len(p.errs) > 0 {
		return nil, p.messages()
	}
	for i, r := range sc.routers {
		if r.start > 0 && !r.never {
			sc.events = append(sc.events, simEvent{at: r.start, kind: "start", target: simName{name: r.name}, seq: -len(sc.routers) + i})
		}
	}
	slices.SortStableFunc(sc.events, func(a, b simEvent) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
	})
	last := time.Duration(0)
	for _, e := range sc.events {
		last = max(last, e.at)
	}
	if sc.duration == 0 {
		sc.duration = last + sc.settle()
	}
	for _, e := range sc.events {
		if e.at > sc.duration && e.atNode != nil {
			p.fail(e.atNode, "event at %v comes after the end of the run (duration %v)", e.at, sc.duration)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.messages()
	}
	return sc, nil
}

// checkNames checks the routers the events name.
func (p *simParser) checkNames(sc *simScenario, names map[string]bool) {
	check := func(n simName, master bool) {
		if n.name == "" || n.node == nil {
			return
		}
		if !names[n.name] && !(master && n.name == "master") {
			p.fail(n.node, "no router is named %q", n.name)
		}
	}
	for _, e := range sc.events {
		check(e.target, true)
		for _, pr := range e.prios {
			check(pr.simName, true)
		}
		seen := map[string]bool{}
		for _, g := range e.groups {
			for _, n := range g {
				check(n, false)
				if seen[n.name] {
					p.fail(n.node, "router %q is in two groups", n.name)
				}
				seen[n.name] = true
			}
		}
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (p *simParser) router(n *yaml.Node) (simRouter, bool) {
	r := simRouter{node: n}
	bad := len(p.errs)
	var prioNode, ownerNode *yaml.Node
	owner := false
	p.mapping(n, "a router", []string{"name", "priority", "owner", "address", "addresses", "interval", "version",
		"preempt", "preempt_delay", "start"}, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			r.name = v.Value
			if v.Kind != yaml.ScalarNode || !nameRE.MatchString(v.Value) || v.Value == "master" {
				p.fail(v, "router name %q: use letters, digits, '.', '-', '_' (and not \"master\")", v.Value)
			}
		case "priority":
			prioNode = v
			if x, err := strconv.ParseUint(v.Value, 10, 8); err == nil && x > 0 && v.Kind == yaml.ScalarNode {
				r.priority = uint8(x)
			} else {
				p.fail(v, "priority %q: must be 1..255 (255 is the address owner)", v.Value)
			}
		case "owner":
			ownerNode = v
			owner, _ = p.boolean(v)
		case "address":
			if a := p.addrs(v); len(a) == 1 {
				r.address = a[0]
			} else if len(a) > 1 {
				p.fail(v, "address is the router's one primary address; the virtual ones go in addresses")
			}
		case "addresses":
			r.addresses = p.addrs(v)
		case "interval":
			if d, ok := p.dur(v, false); ok {
				r.interval = &d
			}
		case "version":
			if x, ok := p.version(v); ok {
				r.version = &x
			}
		case "preempt":
			if b, ok := p.boolean(v); ok {
				r.preempt = &b
			}
		case "preempt_delay":
			if d, ok := p.dur(v, true); ok {
				r.preemptDelay = &d
			}
		case "start":
			if v.Value == "never" {
				r.never = true
			} else if d, ok := p.dur(v, true); ok {
				r.start = d
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return r, false
	}
	switch {
	case r.name == "" && len(p.errs) == bad:
		p.fail(n, "a router needs a name")
	case owner && prioNode != nil && r.priority != vrrp.PriorityOwner:
		p.fail(ownerNode, "owner: true means priority 255, but priority is %d", r.priority)
	case owner:
		r.priority = vrrp.PriorityOwner
	case prioNode == nil && len(p.errs) == bad:
		p.fail(n, "router %s needs a priority (1..255)", r.name)
	}
	return r, len(p.errs) == bad
}

func (p *simParser) event(n *yaml.Node, seq int) (simEvent, bool) {
	e := simEvent{seq: seq}
	bad := len(p.errs)
	var actions []*yaml.Node
	p.mapping(n, "an event", append([]string{"at"}, simActions...), func(k, v *yaml.Node) {
		if k.Value == "at" {
			e.atNode = v
			if d, ok := p.dur(v, true); ok {
				e.at = d
			}
			return
		}
		actions = append(actions, k)
		e.kind = k.Value
		switch k.Value {
		case "crash", "restart", "stop", "start", "link-down", "link-up":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				p.fail(v, "%s: name one router, e.g. %s: r1", k.Value, k.Value)
			}
			e.target = simName{v.Value, v}
		case "priority":
			if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
				p.fail(v, "priority: write {ROUTER: PRIORITY, ...}, e.g. {r2: 250}")
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				rk, rv := v.Content[i], v.Content[i+1]
				x, err := strconv.ParseUint(rv.Value, 10, 8)
				if err != nil || x == 0 || x == vrrp.PriorityOwner || rv.Kind != yaml.ScalarNode {
					p.fail(rv, "priority %q: must be 1..254 (the owner's 255 is fixed)", rv.Value)
					continue
				}
				e.prios = append(e.prios, simPrio{simName{rk.Value, rk}, uint8(x)})
			}
		case "partition":
			for _, g := range p.seq(v, "partition") {
				var group []simName
				for _, m := range p.seq(g, "a partition group") {
					if m.Kind != yaml.ScalarNode {
						p.fail(m, "a partition group lists router names")
						continue
					}
					group = append(group, simName{m.Value, m})
				}
				e.groups = append(e.groups, group)
			}
			if len(e.groups) == 0 && len(p.errs) == bad {
				p.fail(v, "partition: write the groups, e.g. [[r1], [r2, r3]]")
			}
		case "heal":
			if b, ok := p.boolean(v); ok && !b {
				p.fail(v, "heal: write heal: true")
			}
		case "loss":
			if f, ok := p.prob(v); ok {
				e.loss = f
			}
		case "delay":
			if d, ok := p.dur(v, true); ok {
				e.delay = d
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return e, false
	}
	switch {
	case len(p.errs) > bad:
	case e.atNode == nil:
		p.fail(n, "an event needs at: (when it happens, e.g. at: 10s)")
	case len(actions) == 0:
		p.fail(n, "an event needs one action: %s", strings.Join(simActions, ", "))
	case len(actions) > 1:
		p.fail(actions[1], "one action per event (this one also has %s); write another event at the same time", actions[0].Value)
	}
	return e, len(p.errs) == bad
}

// mapping calls fn for each key of n, refusing unknown and repeated keys.
func (p *simParser) mapping(n *yaml.Node, what string, keys []string, fn func(k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "%s must be a mapping of key: value", what)
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if line, dup := seen[k.Value]; dup {
			p.fail(k, "%q is set twice (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(keys, k.Value) {
			p.fail(k, "unknown key %q in %s; valid keys: %s", k.Value, what, strings.Join(keys, ", "))
			continue
		}
		fn(k, v)
	}
}

func (p *simParser) seq(n *yaml.Node, what string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		if n.Tag != "!!null" {
			p.fail(n, "%s must be a list", what)
		}
		return nil
	}
	return n.Content
}

func (p *simParser) dur(n *yaml.Node, zero bool) (time.Duration, bool) {
	d, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode || d < 0 || (d == 0 && !zero) {
		want := "positive"
		if zero {
			want = "0 or more"
		}
		p.fail(n, "%q is not a duration %s, like 10s or 100ms", n.Value, want)
		return 0, false
	}
	return d, true
}

func (p *simParser) prob(n *yaml.Node) (float64, bool) {
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || n.Kind != yaml.ScalarNode || f < 0 || f > 1 {
		p.fail(n, "%q is not a probability 0..1", n.Value)
		return 0, false
	}
	return f, true
}

func (p *simParser) boolean(n *yaml.Node) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		return n.Value == "true", true
	}
	p.fail(n, "%q: write true or false", n.Value)
	return false, false
}

func (p *simParser) version(n *yaml.Node) (uint8, bool) {
	if n.Kind == yaml.ScalarNode && (n.Value == "2" || n.Value == "3") {
		return n.Value[0] - '0', true
	}
	p.fail(n, "version %q: must be 2 or 3", n.Value)
	return 0, false
}

func (p *simParser) addrs(n *yaml.Node) []netip.Addr {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []netip.Addr
	for _, it := range items {
		a, err := netip.ParseAddr(it.Value)
		if err != nil || it.Kind != yaml.ScalarNode || a.Zone() != "" {
			p.fail(it, "%q is not an IP address", it.Value)
			continue
		}
		out = append(out, a.Unmap())
	}
	if len(out) == 0 && len(items) == 0 {
		p.fail(n, "the list of addresses is empty")
	}
	return out
}

// --- running ---

// simEntry is one line of the timeline; the JSON is the machine-readable
// timeline.
type simEntry struct {
	At     time.Duration `json:"-"`
	AtMS   float64       `json:"at_ms"`
	Type   string        `json:"type"`             // event, transition, takeover, advert, drop
	Router string        `json:"router,omitempty"` // drop: the receiver
	Event  string        `json:"event,omitempty"`  // event: for people, e.g. "link-down r1 (the Master)"
	Action string        `json:"action,omitempty"` // event: crash, link-down, partition, ...
	From   string        `json:"from,omitempty"`
	To     string        `json:"to,omitempty"`
	Reason string        `json:"reason,omitempty"`
	// Priority: the advert's (advert), the router's in the timer (takeover).
	Priority *uint8 `json:"priority,omitempty"`

	// takeover: the timer ran TookMS after what restarted it (After, from
	// AfterRouter); the RFC's value of that timer; how long no router was
	// Master, when one was before.
	After       string   `json:"after,omitempty"` // advert, priority-0 advert, startup, fault-cleared
	AfterRouter string   `json:"after_router,omitempty"`
	AfterMS     *float64 `json:"after_ms,omitempty"` // when that advert was sent, or the router started
	TookMS      *float64 `json:"took_ms,omitempty"`
	Timer       string   `json:"timer,omitempty"` // Master_Down_Interval, Skew_Time
	TimerMS     *float64 `json:"timer_ms,omitempty"`
	IntervalMS  *float64 `json:"master_adver_interval_ms,omitempty"`
	NoMasterMS  *float64 `json:"no_master_ms,omitempty"`

	// drop: a receive check refused Sender's adverts (the first of Count).
	Sender string `json:"sender,omitempty"`
	Count  int    `json:"count,omitempty"`

	text func(prec int) string // for people
}

func toMS(d time.Duration) float64 { return float64(d) / 1e6 }
func msp(d time.Duration) *float64 { f := toMS(d); return &f }

// simMaster is a router in Master at the end of a phase.
type simMaster struct {
	Router   string  `json:"router"`
	Priority uint8   `json:"priority"`
	SinceMS  float64 `json:"since_ms"`
	since    time.Duration
}

// simPhase is the time from one event (or the start) to the next.
type simPhase struct {
	At      time.Duration `json:"-"`
	AtMS    float64       `json:"at_ms"`
	Events  []string      `json:"events"`
	Masters []simMaster   `json:"masters"` // at its end; several is split brain
}

// simBase is what last (re)started a Backup's Master_Down_Timer.
type simBase struct {
	at   time.Duration
	what string
	from int
}

type simResult struct {
	sc      *simScenario
	lan     *sim.LAN
	entries []*simEntry
	phases  []*simPhase
	final   []fsm.State
	crashed []bool
}

type simRunner struct {
	simResult
	showAll bool

	state        []fsm.State
	base         []simBase
	lastPrio     []int
	lastSent     []time.Duration // of each router's last advert with a priority
	firstAdvert  []bool
	masterSince  []time.Duration
	hadMaster    bool
	masterless   bool
	noMasterFrom time.Duration
	drops        map[[2]int]map[string]*simEntry
	acted        []int // per event: the router it acted on, or -1
}

func (sc *simScenario) run(showAll bool) (res *simResult, err error) {
	defer func() {
		// A livelock guard in the simulator panics rather than hang.
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("the simulation stopped: %v", p)
		}
	}()
	n := len(sc.routers)
	r := &simRunner{
		simResult: simResult{sc: sc, lan: sim.New(sc.seed), crashed: make([]bool, n)},
		showAll:   showAll,
		state:     make([]fsm.State, n), base: make([]simBase, n), lastPrio: make([]int, n), lastSent: make([]time.Duration, n),
		firstAdvert: make([]bool, n), masterSince: make([]time.Duration, n),
		drops: map[[2]int]map[string]*simEntry{}, acted: make([]int, len(sc.events)),
	}
	l := r.lan
	for i, rt := range sc.routers {
		if _, err := l.Add(rt.cfg); err != nil {
			return nil, fmt.Errorf("router %s: %w", rt.name, err)
		}
		r.state[i], r.lastPrio[i] = fsm.Initialize, -1
	}
	l.SetLoss(sc.loss)
	l.SetDelay(sc.delay)
	l.OnTransition = r.transition
	l.OnAdvert = r.advert
	l.OnDelivery = r.delivery
	r.phases = []*simPhase{{Events: []string{"start"}}}
	for i, rt := range sc.routers {
		if rt.start == 0 && !rt.never {
			l.Start(i)
		}
	}
	for k := range sc.events {
		l.At(sc.events[k].at, func() { r.fire(k) })
	}
	l.Run(sc.duration)
	r.closePhase()
	r.final = slices.Clone(r.state)
	return &r.simResult, nil
}

func (r *simRunner) name(i int) string { return r.sc.routers[i].name }

func (r *simRunner) add(e *simEntry) *simEntry {
	e.AtMS = toMS(e.At)
	r.entries = append(r.entries, e)
	return e
}

func (r *simRunner) liveMasters() int {
	n := 0
	for i, s := range r.state {
		if s == fsm.Master && !r.crashed[i] {
			n++
		}
	}
	return n
}

// noteMasters starts the count of time without a Master.
func (r *simRunner) noteMasters() {
	if r.hadMaster && !r.masterless && r.liveMasters() == 0 {
		r.masterless, r.noMasterFrom = true, r.lan.Now()
	}
}

func (r *simRunner) transition(t sim.Transition) {
	i := t.Router
	r.state[i] = t.To
	r.add(&simEntry{At: t.At, Type: "transition", Router: r.name(i), From: t.From.String(), To: t.To.String(), Reason: t.Reason.String()})
	if t.To == fsm.Backup && t.From != fsm.Master {
		what := "startup"
		if t.Reason == fsm.ReasonFaultCleared {
			what = "fault-cleared"
		}
		r.base[i] = simBase{at: t.At, what: what, from: i}
	}
	if t.To != fsm.Master {
		r.noteMasters()
		return
	}
	r.firstAdvert[i], r.masterSince[i] = true, t.At
	switch t.Reason {
	case fsm.ReasonMasterNoResponse, fsm.ReasonPriorityZero, fsm.ReasonPreempted:
		r.takeover(t)
	}
	r.masterless, r.hadMaster = false, true
}

// takeover measures a Master_Down_Timer that ran out.
func (r *simRunner) takeover(t sim.Transition) {
	i := t.Router
	st := r.lan.Node(i).Router.Status()
	b := r.base[i]
	prio := st.Priority
	e := &simEntry{At: t.At, Type: "takeover", Router: r.name(i), Priority: &prio, After: b.what,
		TookMS: msp(t.At - b.at), Timer: "Master_Down_Interval", TimerMS: msp(st.MasterDownInterval),
		IntervalMS: msp(st.MasterAdverInterval)}
	timer := st.MasterDownInterval
	if t.Reason == fsm.ReasonPriorityZero {
		e.Timer, e.TimerMS, timer = "Skew_Time", msp(st.SkewTime), st.SkewTime
	}
	e.AfterMS = msp(b.at)
	took, from, heardLast := t.At-b.at, "", true
	if b.what == "advert" || b.what == "priority-0 advert" {
		from = r.name(b.from)
		e.AfterRouter = from
		heardLast = b.what != "advert" || r.lastSent[b.from] == b.at
	}
	verb := "took over"
	if !r.hadMaster {
		verb = "became Master"
	}
	var noMaster string
	if r.masterless {
		e.NoMasterMS = msp(t.At - r.noMasterFrom)
		noMaster = fmt.Sprintf("; no Master for %v", t.At-r.noMasterFrom)
	}
	interval := st.MasterAdverInterval
	e.text = func(prec int) string {
		var after string
		switch {
		case b.what == "startup":
			after = "its startup"
		case b.what == "fault-cleared":
			after = "it left Fault"
		case b.what == "priority-0 advert":
			after = from + "'s priority-0 advert"
		case heardLast:
			after = from + "'s last advert"
		default: // lost, partitioned away, or discarded to preempt
			after = "the last advert it accepted from " + from + ", at " + simStamp(b.at, prec)
		}
		return fmt.Sprintf("%s %s %v after %s (%s for priority %d at %v: %v)%s",
			e.Router, verb, took, after, e.Timer, prio, interval, timer, noMaster)
	}
	r.add(e)
}

func (r *simRunner) advert(a sim.Advert) {
	i := a.Router
	show := r.showAll || a.Priority == 0 || r.firstAdvert[i] || int(a.Priority) != r.lastPrio[i]
	r.firstAdvert[i], r.lastPrio[i] = false, int(a.Priority)
	if a.Priority > 0 {
		r.lastSent[i] = a.At
	}
	if show {
		p := a.Priority
		r.add(&simEntry{At: a.At, Type: "advert", Router: r.name(i), Priority: &p})
	}
}

// delivery follows what restarts each Backup's Master_Down_Timer
// [5798-6.4.2-h] [5798-6.4.2-i] [5798-6.4.3-j], and reports receive checks
// that refuse adverts.
func (r *simRunner) delivery(d sim.Delivery) {
	if d.Err != nil {
		key := [2]int{d.To, d.From}
		if r.drops[key] == nil {
			r.drops[key] = map[string]*simEntry{}
		}
		reason := vrrp.Reason(d.Err)
		e := r.drops[key][reason]
		if e == nil {
			text := strings.TrimPrefix(d.Err.Error(), "vrrp: ")
			e = r.add(&simEntry{At: d.At, Type: "drop", Router: r.name(d.To), Sender: r.name(d.From), Reason: reason,
				text: func(int) string { return text }})
			r.drops[key][reason] = e
		}
		e.Count++
		return
	}
	n := r.lan.Node(d.To)
	st := n.Router.Status()
	switch st.State {
	case fsm.Backup:
		preempt := (n.Config.Preempt || st.Owner) && !st.PreemptHold
		switch {
		case d.Priority == 0:
			r.base[d.To] = simBase{at: d.Sent, what: "priority-0 advert", from: d.From}
		case !preempt || d.Priority >= st.Priority:
			r.base[d.To] = simBase{at: d.Sent, what: "advert", from: d.From}
		}
	case fsm.Master:
		src := r.lan.Node(d.From).Config.Primary
		if d.Priority > st.Priority || (d.Priority == st.Priority && src.Compare(st.Primary) > 0) {
			r.base[d.To] = simBase{at: d.Sent, what: "advert", from: d.From}
		}
	}
}

// best is the Master that "master" names: the best of the live Masters.
func (r *simRunner) best() int {
	w := -1
	for _, i := range r.lan.Masters() {
		if w < 0 || r.better(i, w) {
			w = i
		}
	}
	return w
}

func (r *simRunner) better(a, b int) bool {
	pa, pb := r.lan.Node(a).Router.Status().Priority, r.lan.Node(b).Router.Status().Priority
	if pa != pb {
		return pa > pb
	}
	return r.lan.Node(a).Config.Primary.Compare(r.lan.Node(b).Config.Primary) > 0
}

func (r *simRunner) index(name string) int {
	return slices.IndexFunc(r.sc.routers, func(rt simRouter) bool { return rt.name == name })
}

func (r *simRunner) closePhase() {
	ph := r.phases[len(r.phases)-1]
	ph.Masters = []simMaster{}
	for _, i := range r.lan.Masters() {
		ph.Masters = append(ph.Masters, simMaster{Router: r.name(i), Priority: r.lan.Node(i).Router.Status().Priority,
			SinceMS: toMS(r.masterSince[i]), since: r.masterSince[i]})
	}
}

// fire runs event k at its time.
func (r *simRunner) fire(k int) {
	ev := &r.sc.events[k]
	l := r.lan
	now := l.Now()
	if ph := r.phases[len(r.phases)-1]; ph.At < now {
		r.closePhase()
		r.phases = append(r.phases, &simPhase{At: now, AtMS: toMS(now)})
	}
	r.acted[k] = -1
	target, label := -1, ev.kind
	switch ev.kind {
	case "crash", "restart", "stop", "start", "link-down", "link-up":
		switch {
		case ev.ref > 0:
			target = r.acted[ev.ref-1]
			if target < 0 {
				label += ": nothing to do (no router was taken down)"
			}
		case ev.target.name == "master":
			target = r.best()
			if target < 0 {
				label += " master: there is no Master"
			}
		default:
			target = r.index(ev.target.name)
		}
		if target >= 0 {
			label += " " + r.name(target)
			if ev.target.name == "master" {
				label += " (the Master)"
			}
		}
	case "priority":
		var parts []string
		for _, p := range ev.prios {
			name := p.name
			if name == "master" {
				if i := r.best(); i >= 0 {
					name = r.name(i) + " (the Master)"
				}
			}
			parts = append(parts, fmt.Sprintf("%s %d", name, p.prio))
		}
		label += " " + strings.Join(parts, ", ")
	case "partition":
		for _, g := range ev.groups {
			var names []string
			for _, n := range g {
				names = append(names, n.name)
			}
			label += " [" + strings.Join(names, " ") + "]"
		}
	case "loss":
		label += " " + strconv.FormatFloat(ev.loss, 'g', -1, 64)
	case "delay":
		label += " " + ev.delay.String()
	}
	ph := r.phases[len(r.phases)-1]
	ph.Events = append(ph.Events, label)
	ee := r.add(&simEntry{At: now, Type: "event", Event: label, Action: ev.kind})
	if target >= 0 {
		ee.Router = r.name(target)
	}
	r.acted[k] = target

	switch ev.kind {
	case "crash":
		if target >= 0 {
			r.crashed[target] = true
			l.Crash(target)
			r.noteMasters()
		}
	case "restart":
		if target >= 0 {
			r.crashed[target], r.state[target] = false, fsm.Initialize
			l.Restart(target)
		}
	case "stop":
		if target >= 0 {
			l.Stop(target)
		}
	case "start":
		if target >= 0 {
			l.Start(target)
		}
	case "link-down":
		if target >= 0 {
			l.LinkDown(target)
		}
	case "link-up":
		if target >= 0 {
			l.LinkUp(target)
		}
	case "priority":
		for _, p := range ev.prios {
			i := r.index(p.name)
			if p.name == "master" {
				i = r.best()
			}
			if i >= 0 {
				l.SetPriority(i, p.prio)
			}
		}
	case "partition":
		var groups [][]int
		for _, g := range ev.groups {
			var ids []int
			for _, n := range g {
				ids = append(ids, r.index(n.name))
			}
			groups = append(groups, ids)
		}
		l.Partition(groups...)
	case "heal":
		l.Heal()
	case "loss":
		l.SetLoss(ev.loss)
	case "delay":
		l.SetDelay(ev.delay)
	}
}

// --- output ---

// precision is the number of decimals that shows every time exactly, at
// least microseconds.
func (res *simResult) precision() int {
	prec := 6
	need := func(d time.Duration) {
		ns := int64(d % time.Second)
		digits := 9
		for ns != 0 && ns%10 == 0 {
			ns /= 10
			digits--
		}
		if ns != 0 {
			prec = max(prec, digits)
		}
	}
	for _, e := range res.entries {
		need(e.At)
	}
	for _, p := range res.phases {
		need(p.At)
		for _, m := range p.Masters {
			need(m.since)
		}
	}
	need(res.sc.duration)
	return prec
}

func simStamp(d time.Duration, prec int) string {
	frac := int64(d%time.Second) / pow10(9-prec)
	return fmt.Sprintf("+%d.%0*ds", int64(d/time.Second), prec, frac)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func (sc *simScenario) describe() string {
	if sc.file != "" {
		return sc.file
	}
	var parts []string
	for _, e := range sc.events {
		switch e.kind {
		case "link-down":
			parts = append(parts, fmt.Sprintf("pull the Master's cable at +%v", e.at))
		case "link-up":
			parts = append(parts, fmt.Sprintf("plug it back at +%v", e.at))
		case "stop":
			parts = append(parts, fmt.Sprintf("stop the Master gracefully at +%v", e.at))
		}
	}
	return "the demo's: elect a Master" + strings.Join(append([]string{""}, parts...), "; ")
}

func (res *simResult) writeText(w io.Writer, showAll bool) error {
	sc := res.sc
	prec := res.precision()
	bw := &errWriter{w: w}
	preempt := "preempt on"
	if !sc.preempt {
		preempt = "preempt off"
	} else if sc.preemptDelay > 0 {
		preempt = fmt.Sprintf("preempt after %v", sc.preemptDelay)
	}
	var vips []string
	for _, a := range sc.vips() {
		vips = append(vips, a.String())
	}
	bw.printf("Simulation of %s on one LAN: VRID %d, VRRPv%d, %s, virtual addresses %s\n",
		plural(len(sc.routers), "router", "routers"), simVRID, sc.version, familyName(sc.family), strings.Join(vips, ", "))
	bw.printf("advert interval %v, %s, loss %s, delay %v, seed %d, %v of virtual time\n",
		sc.interval, preempt, strconv.FormatFloat(sc.loss, 'g', -1, 64), sc.delay, sc.seed, sc.duration)
	bw.printf("Scenario: %s\n\n", sc.describe())

	mixed := slices.ContainsFunc(sc.routers, func(r simRouter) bool { return r.cfg.Version != sc.version })
	late := slices.ContainsFunc(sc.routers, func(r simRouter) bool { return r.start > 0 || r.never })
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	head := "  ROUTER\tPRIORITY\tADDRESS\tINTERVAL\tPREEMPT\tSKEW_TIME\tMASTER_DOWN_INTERVAL"
	if mixed {
		head += "\tVERSION"
	}
	if late {
		head += "\tSTART"
	}
	fmt.Fprintln(tw, head)
	for _, r := range sc.routers {
		c := r.cfg
		prio := strconv.Itoa(int(c.Priority))
		if c.Owner() {
			prio += " (owner)"
		}
		pre := "no"
		switch {
		case c.Owner():
			pre = "always"
		case c.Preempt && c.PreemptDelay > 0:
			pre = "after " + c.PreemptDelay.String()
		case c.Preempt:
			pre = "yes"
		}
		line := fmt.Sprintf("  %s\t%s\t%v\t%v\t%s\t%v\t%v", r.name, prio, c.Primary, c.AdvertInterval, pre,
			fsm.SkewTime(c.Version, c.Priority, c.AdvertInterval), fsm.MasterDownInterval(c.Version, c.Priority, c.AdvertInterval))
		if mixed {
			line += fmt.Sprintf("\tv%d", c.Version)
		}
		if late && r.never {
			line += "\ton a start event"
		} else if late {
			line += "\t" + simStamp(r.start, prec)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if slices.ContainsFunc(sc.routers, func(r simRouter) bool { return r.cfg.AdvertInterval != sc.routers[0].cfg.AdvertInterval }) {
		bw.printf("(at each router's own interval; a VRRPv3 Backup computes them from the Master's)\n")
	}

	what := "events, state transitions, the first advert of each new Master, priority changes, dropped adverts"
	if showAll {
		what = "events, state transitions, every advert, dropped adverts"
	}
	bw.printf("\nTimeline (%s):\n", what)
	width := len(simStamp(sc.duration, prec))
	nameW := 0
	for _, r := range sc.routers {
		nameW = max(nameW, len(r.name))
	}
	for _, e := range res.entries {
		ts := fmt.Sprintf("%*s", width, simStamp(e.At, prec))
		switch e.Type {
		case "event":
			bw.printf("  %s  ── %s ──\n", ts, e.Event)
		case "transition":
			bw.printf("  %s  %-*s  %s → %s  (%s)\n", ts, nameW, e.Router, e.From, e.To, e.Reason)
		case "takeover":
			bw.printf("  %*s  %*s  ↳ %s\n", width, "", nameW, "", e.text(prec))
		case "advert":
			bw.printf("  %s  %-*s  advert, priority %d\n", ts, nameW, e.Router, *e.Priority)
		case "drop":
			bw.printf("  %s  %-*s  drops %s's adverts: %s (%s; %d in all)\n", ts, nameW, e.Router, e.Sender, e.text(prec), e.Reason, e.Count)
		}
	}

	bw.printf("\nElection results (the Master at the end of each phase):\n")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, p := range res.phases {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", simStamp(p.At, prec), strings.Join(p.Events, ", "), mastersText(p.Masters, prec))
	}
	tw.Flush()
	var states []string
	for i, s := range res.final {
		if s == fsm.Master && !res.crashed[i] {
			continue
		}
		st := s.String()
		if res.crashed[i] {
			st = "crashed"
		} else if res.lan.Node(i).LinkDown {
			st += " (link down)"
		}
		states = append(states, res.sc.routers[i].name+" "+st)
	}
	end := res.phases[len(res.phases)-1].Masters
	others := ""
	if len(states) > 0 {
		others = "; " + strings.Join(states, ", ")
	}
	bw.printf("At the end (%s): %s%s.\n", simStamp(sc.duration, prec), mastersText(end, prec), others)
	return bw.err
}

func mastersText(ms []simMaster, prec int) string {
	switch len(ms) {
	case 0:
		return "no Master"
	case 1:
		return fmt.Sprintf("%s is Master (priority %d) since %s", ms[0].Router, ms[0].Priority, simStamp(ms[0].since, prec))
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Router)
	}
	return "split brain: " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are Master"
}

type simRouterJSON struct {
	Name               string   `json:"name"`
	Priority           uint8    `json:"priority"`
	Address            string   `json:"address"`
	Version            uint8    `json:"version"`
	AdvertIntervalMS   float64  `json:"advert_interval_ms"`
	Preempt            bool     `json:"preempt"`
	PreemptDelayMS     float64  `json:"preempt_delay_ms"`
	SkewMS             float64  `json:"skew_ms"`
	MasterDownMS       float64  `json:"master_down_ms"`
	StartMS            *float64 `json:"start_ms"` // null: never
	FinalState         string   `json:"final_state"`
	Crashed            bool     `json:"crashed,omitempty"`
	AdvertsSent        uint64   `json:"adverts_sent"`
	MasterTransitions  uint32   `json:"master_transitions"`
	ReceiveCheckDrops  int      `json:"receive_check_drops"`
	VirtualAddressesUp bool     `json:"virtual_addresses_installed"`
}

type simJSON struct {
	Scenario       string          `json:"scenario"`
	VRID           int             `json:"vrid"`
	Version        uint8           `json:"version"`
	Family         string          `json:"family"`
	Addresses      []string        `json:"addresses"`
	AdvertInterval float64         `json:"advert_interval_ms"`
	Preempt        bool            `json:"preempt"`
	PreemptDelayMS float64         `json:"preempt_delay_ms"`
	Loss           float64         `json:"loss"`
	DelayMS        float64         `json:"delay_ms"`
	Seed           uint64          `json:"seed"`
	DurationMS     float64         `json:"duration_ms"`
	Routers        []simRouterJSON `json:"routers"`
	Timeline       []*simEntry     `json:"timeline"`
	Phases         []*simPhase     `json:"phases"`
	Masters        []simMaster     `json:"masters"` // at the end
}

func (res *simResult) writeJSON(w io.Writer) error {
	sc := res.sc
	out := simJSON{Scenario: sc.file, VRID: simVRID, Version: sc.version, Family: strings.ToLower(familyName(sc.family)),
		AdvertInterval: toMS(sc.interval), Preempt: sc.preempt, PreemptDelayMS: toMS(sc.preemptDelay), Loss: sc.loss,
		DelayMS: toMS(sc.delay), Seed: sc.seed, DurationMS: toMS(sc.duration), Timeline: res.entries, Phases: res.phases,
		Masters: res.phases[len(res.phases)-1].Masters}
	if out.Scenario == "" {
		out.Scenario = "demo"
	}
	for _, a := range sc.vips() {
		out.Addresses = append(out.Addresses, a.String())
	}
	for i, r := range sc.routers {
		c := r.cfg
		n := res.lan.Node(i)
		st := n.Router.Status()
		drops := 0
		for _, v := range n.Drops {
			drops += v
		}
		rj := simRouterJSON{Name: r.name, Priority: c.Priority, Address: c.Primary.String(), Version: c.Version,
			AdvertIntervalMS: toMS(c.AdvertInterval), Preempt: c.Preempt || c.Owner(), PreemptDelayMS: toMS(c.PreemptDelay),
			SkewMS: toMS(fsm.SkewTime(c.Version, c.Priority, c.AdvertInterval)), MasterDownMS: toMS(fsm.MasterDownInterval(c.Version, c.Priority, c.AdvertInterval)),
			FinalState: res.final[i].String(), Crashed: res.crashed[i], AdvertsSent: st.Counters.SentAdvertisements,
			MasterTransitions: st.Counters.MasterTransitions, ReceiveCheckDrops: drops, VirtualAddressesUp: n.Installed}
		if !r.never {
			rj.StartMS = msp(r.start)
		}
		out.Routers = append(out.Routers, rj)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }
