package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"govrrp/internal/api"
)

const showUsage = `Usage: govrrp [-s PATH] show [--json] NAME

Prints everything govrrpd knows about the virtual router NAME (govrrp status
lists the names): its state and why it got there, priorities, the master it
hears, split brains, duplicate owners and peers on the other VRRP version
it has seen (Conflicts, shown once there was one), the timers in use (Master_Down_Interval, Skew_Time), addresses and
options, tracked objects (failed ones marked FAILED), counters, discarded
adverts by reason (most first; reasons with none left out), the last
state transitions, and what its interface dropped for no router at all:
adverts for VRIDs nobody here is configured with (a peer with another VRID
shows only there), with the latest VRID and source.

  --json      print the router as one JSON object for scripts
  -s PATH     govrrpd's control socket (see govrrp help)

Exit status: 0 done, 1 no router has that name or govrrpd cannot be reached
(the message says why), 2 usage error.
`

func runShow(g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code, ok := parseDaemonFlags(fs, g, args, showUsage, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		fmt.Fprintln(stderr, "govrrp show: need exactly one router name (govrrp status lists them)")
		return exitUsage
	}
	name := pos[0]
	ctx, cancel := requestContext()
	defer cancel()
	c := api.NewClient(g.socket)
	d, err := c.Router(ctx, name)
	if api.IsNotFound(err) {
		msg := fmt.Sprintf("govrrp show: govrrpd runs no router named %q", name)
		if rs, err := c.Routers(ctx); err == nil {
			names := make([]string, len(rs))
			for i, r := range rs {
				names[i] = r.Name
			}
			if len(names) == 0 {
				msg += "; it runs none"
			} else {
				msg += "; it runs " + strings.Join(names, ", ")
			}
		}
		fmt.Fprintln(stderr, msg)
		return exitFail
	}
	if err != nil {
		return fail(stderr, "show", err)
	}
	if *asJSON {
		err = writeJSON(stdout, d)
	} else {
		err = showDetail(stdout, d)
		if ifs, ierr := c.Interfaces(ctx); err == nil && ierr == nil {
			err = showInterface(stdout, d, ifs)
		}
	}
	if err != nil {
		return fail(stderr, "show", err)
	}
	return exitOK
}

// detailWriter prints "key   value" lines, aligned within a section.
type detailWriter struct {
	w   io.Writer
	err error
}

func (d *detailWriter) section(title string) {
	d.printf("\n%s\n", title)
}

func (d *detailWriter) kv(key, format string, args ...any) {
	d.printf("  %-18s%s\n", key, fmt.Sprintf(format, args...))
}

func (d *detailWriter) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

// table prints rows of tab-separated cells, aligned, indented by two.
func (d *detailWriter) table(rows []string) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\n", r)
	}
	tw.Flush()
	// tabwriter pads the last cell of a row only when a later row has more
	// cells; trim what it leaves at line ends.
	for _, l := range strings.SplitAfter(b.String(), "\n") {
		if l != "" {
			d.printf("%s\n", strings.TrimRight(l, " \n"))
		}
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func showDetail(w io.Writer, r api.RouterDetail) error {
	d := &detailWriter{w: w}
	d.printf("%s: %s on %s, VRID %d, VRRPv%s %s\n", r.Name, r.State, r.Interface, r.VRID, versionText(r.Version, r.V2Compat, "+v"), r.Family)

	d.section("State")
	d.kv("state", "%s", r.State)
	if r.FaultReason != "" {
		d.kv("fault", "%s", r.FaultReason)
	}
	if r.Disabled {
		d.kv("disabled", "yes: out of service until govrrp enable %s (or a restart of govrrpd)", r.Name)
	}
	if !r.Since.IsZero() {
		d.kv("since", "%s (%s ago)", stamp(r.Since), since(r.Since))
	}
	if r.NewMasterReason != "" {
		d.kv("reason", "%s", r.NewMasterReason)
	}

	d.section("Priority")
	d.kv("configured", "%d", r.Priority)
	eff := fmt.Sprint(r.EffectivePriority)
	if r.EffectivePriority != r.Priority {
		eff += fmt.Sprintf(" (%+d from tracking)", int(r.EffectivePriority)-int(r.Priority))
	}
	d.kv("effective", "%s", eff)
	switch {
	case !r.Preempt:
		d.kv("preempt", "no")
	case r.PreemptDelayMS > 0:
		d.kv("preempt", "yes, after %v", ms(r.PreemptDelayMS))
	default:
		d.kv("preempt", "yes")
	}

	d.section("Master")
	d.kv("address", "%s", masterColumn(r.RouterStatus))
	if r.MasterPriority != 0 || r.Master != "" {
		d.kv("priority", "%d", r.MasterPriority)
	}

	if r.SplitBrain != nil || r.TwoOwners != nil || r.VersionMismatch != nil {
		d.section("Conflicts")
		if c := r.SplitBrain; c != nil {
			d.kv("split brain", "%s", conflictLine("another Master", c))
		}
		if c := r.TwoOwners; c != nil {
			d.kv("two owners", "%s", conflictLine("priority 255", c))
		}
		if v := r.VersionMismatch; v != nil {
			d.kv("version mismatch", "%s", versionMismatchLine(v))
		}
	}

	d.section("Timers")
	adv := interval(r.AdvertIntervalMS)
	if r.ConfiguredInterval > 0 && r.ConfiguredInterval != r.AdvertIntervalMS {
		adv += fmt.Sprintf(" (configured %v; a VRRPv3 backup uses the master's)", ms(r.ConfiguredInterval))
	}
	d.kv("advert interval", "%s", adv)
	d.kv("master down", "%s", interval(r.MasterDownMS))
	d.kv("skew", "%s", interval(r.SkewMS))

	d.section("Addresses")
	if len(r.Addresses) == 0 {
		d.kv("virtual", "(none)")
	}
	for i, a := range r.Addresses {
		key := ""
		if i == 0 {
			key = "virtual"
		}
		d.kv(key, "%s", a)
	}
	if r.Primary != "" {
		d.kv("primary (source)", "%s", r.Primary)
	}
	d.kv("vmac", "%s", yesNo(r.VMAC))
	d.kv("accept", "%s", yesNo(r.Accept))
	d.kv("unicast", "%s", yesNo(r.Unicast))
	if r.SyncGroup != "" {
		d.kv("sync group", "%s", r.SyncGroup)
	}

	d.section("Tracking")
	if len(r.Tracked) == 0 {
		d.printf("  (nothing tracked)\n")
	} else {
		rows := make([]string, len(r.Tracked))
		for i, t := range r.Tracked {
			effect := fmt.Sprintf("weight %+d", t.Weight)
			if t.Weight == 0 {
				effect = "fault when failed"
			}
			if t.Reverse {
				effect += " (reverse: failed while Up)"
			}
			status := "ok"
			if t.Failed {
				status = "FAILED"
			}
			if t.State != "" {
				status += " (session " + t.State + ")"
			}
			rows[i] = fmt.Sprintf("%s %s\t%s\t%s", t.Kind, t.Name, effect, status)
		}
		d.table(rows)
	}

	d.section("Counters")
	d.table(countRows(r.Counters, false, "(none)"))

	d.section("Discarded adverts")
	discards := make(map[string]uint64, len(r.Discards))
	for k, v := range r.Discards {
		if v > 0 {
			discards[k] = v
		}
	}
	d.table(countRows(discards, true, "(none)"))

	d.section("Transitions (newest last)")
	if len(r.Transitions) == 0 {
		d.printf("  (none)\n")
	} else {
		rows := make([]string, len(r.Transitions))
		for i, ev := range r.Transitions {
			rows[i] = fmt.Sprintf("%s\t%s\t%s ago", stamp(ev.Time), eventBody(ev), since(ev.Time))
		}
		d.table(rows)
	}
	return d.err
}

// countRows lists a counter map by name, or with byCount by count (most
// first, then by name).
func countRows(m map[string]uint64, byCount bool, none string) []string {
	if len(m) == 0 {
		return []string{none}
	}
	keys := slices.Sorted(maps.Keys(m))
	if byCount {
		slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	}
	rows := make([]string, len(keys))
	for i, k := range keys {
		rows[i] = fmt.Sprintf("%s\t%d", k, m[k])
	}
	return rows
}

// showInterface prints what the router's interface dropped for no router.
func showInterface(w io.Writer, r api.RouterDetail, ifs []api.InterfaceStatus) error {
	for _, s := range ifs {
		if s.Interface != r.Interface || s.Family != r.Family {
			continue
		}
		d := &detailWriter{w: w}
		d.section(fmt.Sprintf("Interface %s %s (adverts no router here took)", s.Interface, s.Family))
		d.kv("unknown VRID", "%s", unknownVRID(s))
		d.kv("other drops", "%s", otherDrops(s))
		return d.err
	}
	return nil
}
