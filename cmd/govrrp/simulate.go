package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"govrrp/fsm"
	"govrrp/internal/config"
	"govrrp/sim/scenario"
)

// govrrp simulate: flags and rendering. What a scenario is, how a file or a
// govrrpd configuration becomes one, and how it is played and measured is
// sim/scenario's.

const simulateUsage = `Usage: govrrp simulate [FLAGS] [-f FILE]
       govrrp simulate [FLAGS] -c FILE -c FILE ... [--fail NODE[@TIME]]

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
                      the Masters at the end; with -c, one object
                      {"lans": [...], "notes": [...]} holding that document
                      for each LAN and every note once
  -f, --file FILE     run the scenario in FILE; the flags above given beside
                      it override its top-level settings (--routers cannot)
  -c, --config FILE   a govrrpd configuration (as govrrpd --config reads
                      it): one simulated box per -c, named after the file
                      without its extension, or NAME=FILE. Routers of
                      several boxes with the same interface, VRID and family
                      are one virtual router on one LAN; each LAN is
                      simulated and printed in turn. A box's address is its
                      router's unicast_source or multicast_source, or
                      10.77.0.N (fe80::N) for the Nth -c. Keys the
                      simulator does not play (tracking, hooks, vmac, ...)
                      are listed on stderr as notes. --loss, --delay,
                      --seed and --duration apply; the rest comes from the
                      files.
  --fail NODE[@TIME]  with -c: NODE crashes (power cut) at TIME; without a
                      time, a step after the start or the fault before
  --stop NODE[@TIME]  with -c: NODE shuts down gracefully (priority 0)

Scenario file (YAML; /usr/share/doc/govrrp/examples/simulate-partition.yaml
is an example):

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

Top-level keys also include vrid (default 1). Router keys: name and
priority (1..255; or owner: true for 255) are required; address (primary;
default 10.77.0.N or fe80::N for the Nth router), addresses, interval,
version, preempt, preempt_delay, accept and start (a time, default 0s, or
never) are optional. As in govrrpd.yaml, advert_interval is another name
for interval, and an address may carry a /prefix. bfd: {interval: 10ms,
multiplier: 3, successor: auto|true|false} gives a router Master-Backup BFD
(govrrpd.yaml's bfd_master; sessions run under the virtual clock, their
state changes are in the timeline).

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
scenario or configuration file (FILE:LINE:COL: what is wrong; what to
write instead).
`

// stringsFlag is a flag given any number of times.
type stringsFlag []string

func (f *stringsFlag) String() string     { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(s string) error { *f = append(*f, s); return nil }

func runSimulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, simulateUsage) }
	d := scenario.Defaults()
	routers := fs.String("routers", "200,150,100", "priorities of r1, r2, ...")
	interval := fs.Duration("interval", d.Interval, "advert interval")
	version := fs.Uint("version", uint(d.Version), "VRRP version")
	family := fs.String("family", "ipv4", "ipv4 or ipv6")
	preempt := fs.Bool("preempt", d.Preempt, "Preempt_Mode")
	preemptDelay := fs.Duration("preempt-delay", 0, "preempt delay")
	loss := fs.Float64("loss", 0, "probability that an advert copy is lost")
	delay := fs.Duration("delay", 0, "one-way LAN delay")
	seed := fs.Uint64("seed", d.Seed, "seed of the loss draws")
	duration := fs.Duration("duration", 0, "virtual time to run")
	adverts := fs.Bool("adverts", false, "print every advert")
	asJSON := fs.Bool("json", false, "print JSON")
	var file string
	fs.StringVar(&file, "f", "", "scenario file")
	fs.StringVar(&file, "file", "", "scenario file")
	var configs, fails, stops stringsFlag
	fs.Var(&configs, "c", "govrrpd configuration of a node")
	fs.Var(&configs, "config", "govrrpd configuration of a node")
	fs.Var(&fails, "fail", "NODE[@TIME] crashes")
	fs.Var(&stops, "stop", "NODE[@TIME] stops gracefully")
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
	// fileErr prints a file's errors, -f's or -c's, as govrrp validate
	// does: one FILE:LINE:COL line each, which need no command name.
	fileErr := func(err error) int {
		var located *config.Errors
		if !errors.As(err, &located) {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q (a scenario file goes after -f)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// Flags first, so that a bad flag is reported even with a file; the
	// rest (interval steps, v2 and IPv6) fsm.Config.Check says.
	if *version != 2 && *version != 3 {
		return usageErr("--version %d: must be 2 or 3", *version)
	}
	fam, ok := scenario.ParseFamily(*family)
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
	apply := func(s *scenario.Settings, all bool) {
		for name, f := range map[string]func(){
			"interval": func() { s.Interval = *interval }, "version": func() { s.Version = uint8(*version) },
			"family": func() { s.Family = fam }, "preempt": func() { s.Preempt = *preempt },
			"preempt-delay": func() { s.PreemptDelay = *preemptDelay }, "loss": func() { s.Loss = *loss },
			"delay": func() { s.Delay = *delay }, "seed": func() { s.Seed = *seed }, "duration": func() { s.Duration = *duration },
		} {
			if all || set[name] {
				f()
			}
		}
	}

	var scs []*scenario.Scenario
	switch {
	case len(configs) > 0:
		for _, f := range []string{"f", "file", "routers", "interval", "version", "family", "preempt", "preempt-delay"} {
			if set[f] {
				return usageErr("%s and -c do not mix: the configurations say it", flagName(f))
			}
		}
		var err error
		if scs, err = configScenarios(configs, fails, stops, func(s *scenario.Settings) { apply(s, false) }); err != nil {
			return fileErr(err)
		}
	case len(fails)+len(stops) > 0:
		return usageErr("--fail and --stop name nodes of -c configurations; a scenario file has events")
	case file != "":
		if set["routers"] {
			return usageErr("--routers and -f do not mix: the file lists the routers")
		}
		data, err := readLimited(file)
		if err != nil {
			return usageErr("%v", err)
		}
		sc, err := scenario.Parse(file, data, func(s *scenario.Settings) { apply(s, false) })
		if err != nil {
			return fileErr(err)
		}
		scs = append(scs, sc)
	default:
		s := scenario.Defaults()
		apply(&s, true)
		prios, err := parsePriorities(*routers)
		if err != nil {
			return usageErr("--routers %q: %v", *routers, err)
		}
		sc, err := scenario.Demo(s, prios)
		if err != nil {
			return usageErr("%v", err)
		}
		scs = append(scs, sc)
	}

	// With -c, --json prints one document holding every LAN, after all of
	// them ran: several documents back to back are not JSON.
	multi := simMultiJSON{LANs: []simJSON{}, Notes: []string{}}
	for i, sc := range scs {
		res, err := scenario.Run(sc, scenario.Options{AllAdverts: *adverts})
		if err != nil {
			fmt.Fprintf(stderr, "govrrp simulate: %v\n", err)
			return exitFail
		}
		for _, n := range sc.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
			if !slices.Contains(multi.Notes, n) {
				multi.Notes = append(multi.Notes, n)
			}
		}
		switch {
		case *asJSON && len(configs) > 0:
			multi.LANs = append(multi.LANs, simJSONOf(res))
		case *asJSON:
			err = writeJSON(stdout, simJSONOf(res))
		default:
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			err = writeSimText(stdout, res, *adverts)
		}
		if err != nil {
			fmt.Fprintf(stderr, "govrrp simulate: %v\n", err)
			return exitFail
		}
	}
	if *asJSON && len(configs) > 0 {
		if err := writeJSON(stdout, multi); err != nil {
			fmt.Fprintf(stderr, "govrrp simulate: %v\n", err)
			return exitFail
		}
	}
	return exitOK
}

// flagName is how the usage writes flag f.
func flagName(f string) string {
	if len(f) == 1 {
		return "-" + f
	}
	return "--" + f
}

// readLimited reads a file of at most config.MaxFileSize bytes (a larger
// one is refused by the parser).
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, config.MaxFileSize+1))
}

// configScenarios loads each -c file (NAME=FILE, or FILE named by its base
// name) as a node and builds the scenarios of their virtual routers.
func configScenarios(files, fails, stops []string, override func(*scenario.Settings)) ([]*scenario.Scenario, error) {
	var nodes []scenario.Node
	for _, arg := range files {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			path = arg
			name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		}
		c, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, scenario.Node{Name: name, Config: c})
	}
	var faults []scenario.Fault
	for _, l := range []struct {
		args []string
		kind scenario.Kind
		flag string
	}{{fails, scenario.Crash, "--fail"}, {stops, scenario.Stop, "--stop"}} {
		for _, a := range l.args {
			node, at, timed := strings.Cut(a, "@")
			f := scenario.Fault{Node: node, Kind: l.kind, At: -1}
			if timed {
				d, err := time.ParseDuration(at)
				if err != nil || d < 0 {
					return nil, fmt.Errorf("%s %q: write NODE or NODE@TIME, e.g. r1@10s", l.flag, a)
				}
				f.At = d
			}
			faults = append(faults, f)
		}
	}
	s := scenario.Defaults()
	override(&s)
	return scenario.FromConfigs(nodes, faults, s)
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
	if len(out) > scenario.MaxRouters {
		return nil, fmt.Errorf("at most %d routers", scenario.MaxRouters)
	}
	return out, nil
}

// --- output ---

// simPrecision is the number of decimals that shows every time exactly, at
// least microseconds.
func simPrecision(res *scenario.Result) int {
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
	for _, e := range res.Timeline {
		need(e.At)
	}
	for _, p := range res.Phases {
		need(p.At)
		for _, m := range p.Masters {
			need(m.Since)
		}
	}
	need(res.Scenario.Duration)
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

func describe(sc *scenario.Scenario) string {
	var parts []string
	for _, e := range sc.Events {
		switch {
		case sc.Name != "":
		case e.Kind == scenario.LinkDown:
			parts = append(parts, fmt.Sprintf("pull the Master's cable at +%v", e.At))
		case e.Kind == scenario.LinkUp:
			parts = append(parts, fmt.Sprintf("plug it back at +%v", e.At))
		case e.Kind == scenario.Stop:
			parts = append(parts, fmt.Sprintf("stop the Master gracefully at +%v", e.At))
		}
	}
	if sc.Name != "" {
		return sc.Name
	}
	return "the demo's: elect a Master" + strings.Join(append([]string{""}, parts...), "; ")
}

// takeoverText is a takeover for people: how long it took after what, next
// to the RFC's timer.
func takeoverText(e *scenario.Entry, prec int) string {
	var after string
	switch {
	case e.After == scenario.SinceStartup:
		after = "its startup"
	case e.After == scenario.SinceFaultCleared:
		after = "it left Fault"
	case e.After == scenario.SincePriorityZero:
		after = e.AfterRouter + "'s priority-0 advert"
	case e.HeardLast:
		after = e.AfterRouter + "'s last advert"
	default: // lost, partitioned away, or discarded to preempt
		after = "the last advert it accepted from " + e.AfterRouter + ", at " + simStamp(e.AfterAt, prec)
	}
	verb := "took over"
	if e.FirstEver {
		verb = "became Master"
	}
	var noMaster string
	if e.NoMasterMS != nil {
		noMaster = fmt.Sprintf("; no Master for %v", e.NoMaster)
	}
	if e.Timer == "BFD detection time" {
		return fmt.Sprintf("%s %s %v after %s: its BFD session to the Master failed (detection time %v)%s",
			e.Router, verb, e.Took, after, e.TimerVal, noMaster)
	}
	return fmt.Sprintf("%s %s %v after %s (%s for priority %d at %v: %v)%s",
		e.Router, verb, e.Took, after, e.Timer, *e.Priority, e.Interval, e.TimerVal, noMaster)
}

func writeSimText(w io.Writer, res *scenario.Result, showAll bool) error {
	sc := res.Scenario
	prec := simPrecision(res)
	bw := &errWriter{w: w}
	preempt := "preempt on"
	if !sc.Preempt {
		preempt = "preempt off"
	} else if sc.PreemptDelay > 0 {
		preempt = fmt.Sprintf("preempt after %v", sc.PreemptDelay)
	}
	var vips []string
	for _, a := range sc.VIPs() {
		vips = append(vips, a.String())
	}
	bw.printf("Simulation of %s on one LAN: VRID %d, VRRPv%d, %s, virtual addresses %s\n",
		plural(len(sc.Routers), "router", "routers"), sc.VRID, sc.Version, scenario.FamilyName(sc.Family), strings.Join(vips, ", "))
	bw.printf("advert interval %v, %s, loss %s, delay %v, seed %d, %v of virtual time\n",
		sc.Interval, preempt, strconv.FormatFloat(sc.Loss, 'g', -1, 64), sc.Delay, sc.Seed, sc.Duration)
	bw.printf("Scenario: %s\n\n", describe(sc))

	mixed := slices.ContainsFunc(sc.Routers, func(r scenario.Router) bool { return r.Config.Version != sc.Version })
	late := slices.ContainsFunc(sc.Routers, func(r scenario.Router) bool { return r.Start > 0 || r.Never })
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	head := "  ROUTER\tPRIORITY\tADDRESS\tINTERVAL\tPREEMPT\tSKEW_TIME\tMASTER_DOWN_INTERVAL"
	if mixed {
		head += "\tVERSION"
	}
	if late {
		head += "\tSTART"
	}
	fmt.Fprintln(tw, head)
	for _, r := range sc.Routers {
		c := r.Config
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
		line := fmt.Sprintf("  %s\t%s\t%v\t%v\t%s\t%v\t%v", r.Name, prio, c.Primary, c.AdvertInterval, pre,
			fsm.SkewTime(c.Version, c.Priority, c.AdvertInterval), fsm.MasterDownInterval(c.Version, c.Priority, c.AdvertInterval))
		if mixed {
			line += fmt.Sprintf("\tv%d", c.Version)
		}
		if late && r.Never {
			line += "\ton a start event"
		} else if late {
			line += "\t" + simStamp(r.Start, prec)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	if slices.ContainsFunc(sc.Routers, func(r scenario.Router) bool {
		return r.Config.AdvertInterval != sc.Routers[0].Config.AdvertInterval
	}) {
		bw.printf("(at each router's own interval; a VRRPv3 Backup computes them from the Master's)\n")
	}

	what := "events, state transitions, the first advert of each new Master, priority changes, dropped adverts"
	if showAll {
		what = "events, state transitions, every advert, dropped adverts"
	}
	bw.printf("\nTimeline (%s):\n", what)
	width := len(simStamp(sc.Duration, prec))
	nameW := 0
	for _, r := range sc.Routers {
		nameW = max(nameW, len(r.Name))
	}
	for _, e := range res.Timeline {
		ts := fmt.Sprintf("%*s", width, simStamp(e.At, prec))
		switch e.Type {
		case scenario.EventEntry:
			bw.printf("  %s  ── %s ──\n", ts, e.Event)
		case scenario.TransitionEntry:
			bw.printf("  %s  %-*s  %s → %s  (%s)\n", ts, nameW, e.Router, e.From, e.To, e.Reason)
		case scenario.TakeoverEntry:
			bw.printf("  %*s  %*s  ↳ %s\n", width, "", nameW, "", takeoverText(e, prec))
		case scenario.AdvertEntry:
			bw.printf("  %s  %-*s  advert, priority %d\n", ts, nameW, e.Router, *e.Priority)
		case scenario.DropEntry:
			bw.printf("  %s  %-*s  drops %s's adverts: %s (%s; %d in all)\n", ts, nameW, e.Router, e.Sender, e.Text, e.Reason, e.Count)
		case scenario.BFDEntry:
			bw.printf("  %s  %-*s  BFD session to %s %s → %s  (%s)\n", ts, nameW, e.Router, e.Sender, e.From, e.To, e.Reason)
		}
	}

	bw.printf("\nElection results (the Master at the end of each phase):\n")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, p := range res.Phases {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", simStamp(p.At, prec), strings.Join(p.Events, ", "), mastersText(p.Masters, prec))
	}
	tw.Flush()
	var states []string
	for i, o := range res.Routers {
		if o.Final == fsm.Master && !o.Crashed {
			continue
		}
		st := o.Final.String()
		if o.Crashed {
			st = "crashed"
		} else if o.LinkDown {
			st += " (link down)"
		}
		states = append(states, sc.Routers[i].Name+" "+st)
	}
	others := ""
	if len(states) > 0 {
		others = "; " + strings.Join(states, ", ")
	}
	bw.printf("At the end (%s): %s%s.\n", simStamp(sc.Duration, prec), mastersText(res.Masters(), prec), others)
	return bw.err
}

func mastersText(ms []scenario.MasterAt, prec int) string {
	switch len(ms) {
	case 0:
		return "no Master"
	case 1:
		return fmt.Sprintf("%s is Master (priority %d) since %s", ms[0].Router, ms[0].Priority, simStamp(ms[0].Since, prec))
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
	Scenario       string              `json:"scenario"`
	VRID           uint8               `json:"vrid"`
	Version        uint8               `json:"version"`
	Family         string              `json:"family"`
	Addresses      []string            `json:"addresses"`
	AdvertInterval float64             `json:"advert_interval_ms"`
	Preempt        bool                `json:"preempt"`
	PreemptDelayMS float64             `json:"preempt_delay_ms"`
	Loss           float64             `json:"loss"`
	DelayMS        float64             `json:"delay_ms"`
	Seed           uint64              `json:"seed"`
	DurationMS     float64             `json:"duration_ms"`
	Routers        []simRouterJSON     `json:"routers"`
	Timeline       []*scenario.Entry   `json:"timeline"`
	Phases         []*scenario.Phase   `json:"phases"`
	Masters        []scenario.MasterAt `json:"masters"` // at the end
	Notes          []string            `json:"notes,omitempty"`
}

// simMultiJSON is --json with -c: every LAN the configurations make, and
// each note once (a note about a whole box is in each of its LANs).
type simMultiJSON struct {
	LANs  []simJSON `json:"lans"`
	Notes []string  `json:"notes"`
}

func simJSONOf(res *scenario.Result) simJSON {
	sc := res.Scenario
	ms := scenario.MS
	out := simJSON{Scenario: cmp.Or(sc.Name, "demo"), VRID: sc.VRID, Version: sc.Version, Family: strings.ToLower(scenario.FamilyName(sc.Family)),
		AdvertInterval: ms(sc.Interval), Preempt: sc.Preempt, PreemptDelayMS: ms(sc.PreemptDelay), Loss: sc.Loss,
		DelayMS: ms(sc.Delay), Seed: sc.Seed, DurationMS: ms(sc.Duration), Timeline: res.Timeline, Phases: res.Phases,
		Masters: res.Masters(), Notes: sc.Notes}
	for _, a := range sc.VIPs() {
		out.Addresses = append(out.Addresses, a.String())
	}
	for i, r := range sc.Routers {
		c, o := r.Config, res.Routers[i]
		rj := simRouterJSON{Name: r.Name, Priority: c.Priority, Address: c.Primary.String(), Version: c.Version,
			AdvertIntervalMS: ms(c.AdvertInterval), Preempt: c.Preempt || c.Owner(), PreemptDelayMS: ms(c.PreemptDelay),
			SkewMS: ms(fsm.SkewTime(c.Version, c.Priority, c.AdvertInterval)), MasterDownMS: ms(fsm.MasterDownInterval(c.Version, c.Priority, c.AdvertInterval)),
			FinalState: o.Final.String(), Crashed: o.Crashed, AdvertsSent: o.AdvertsSent,
			MasterTransitions: o.MasterTransitions, ReceiveCheckDrops: o.Drops, VirtualAddressesUp: o.Installed}
		if !r.Never {
			start := ms(r.Start)
			rj.StartMS = &start
		}
		out.Routers = append(out.Routers, rj)
	}
	return out
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
