// Package demo is `make demo`: a small VRRP LAN in network namespaces (a
// bridge, three routers running a real govrrpd each, one host, all built
// with internal/lab and its govrrpd harness), driven
// through an election, a cable pull, preemption and a graceful stop while
// the host pings the virtual addresses, and narrated live from the
// daemons' control APIs.
//
// Network safety: everything happens inside namespaces the lab creates
// (named lab.Prefix<pid>-...), on veths and a bridge inside them, with
// 10.77.0.0/24, fd77::/64 and link-local addresses. Nothing on the host's
// own interfaces, routes or sysctls is touched, and everything is removed
// at the end, on failure and on Ctrl-C (unless kept with --keep); a later
// run sweeps what a killed run left behind.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"govrrp/fsm"
	"govrrp/internal/api"
	"govrrp/internal/lab"
	"govrrp/internal/lab/probe"
)

// The lab's virtual routers: the same VRID for both families.
const (
	VRID  = 51
	Name4 = "gw4" // the IPv4 virtual router's name in each daemon
	Name6 = "gw6"
)

var (
	// VIPs4 and VIPs6 are the virtual addresses as configured.
	VIPs4 = []string{"10.77.0.254/24"}
	VIPs6 = []string{"fe80::51", "fd77::254/64"}
	// VIP4 and VIP6 are what the host pings.
	VIP4 = netip.MustParseAddr("10.77.0.254")
	VIP6 = netip.MustParseAddr("fd77::254")
	// Priorities of r1, r2, r3.
	Priorities = []int{200, 150, 100}
)

var famNames = [2]string{"IPv4", "IPv6"}

// Options configure a run.
type Options struct {
	Govrrpd   string        // the daemon binary
	Interval  time.Duration // advert interval, 10ms..1s in 10 ms steps
	Keep      bool          // leave the lab up at the end
	Out       io.Writer     // narration
	TTY       bool          // Out is a terminal: redraw the table in place
	Color     bool          // ANSI colours (only with TTY)
	Hold      time.Duration // how long each step shows the steady state; 0: max(1.5 s, 3 × Interval)
	PingEvery time.Duration // 0: 3 ms
	CLI       string        // the govrrp CLI, for the hints; "" derives it from Govrrpd
}

// CheckInterval refuses intervals the demo does not support.
func CheckInterval(iv time.Duration) error {
	if iv < 10*time.Millisecond || iv > time.Second || iv%(10*time.Millisecond) != 0 {
		return fmt.Errorf("--interval %v: want 10ms..1s in 10 ms steps (VRRPv3 counts centiseconds)", iv)
	}
	return nil
}

// Step is what one event of the scenario measured.
type Step struct {
	Name     string           // "cable pull", ...
	Master   string           // the box that took over
	Takeover [2]time.Duration // per family: from the event to the new master's transition
	Outage   [2]probe.Gap     // per family: the outage the host saw (probe.LongestGap)
	Bound    string           // the RFC interval it compares with, named
	BoundDur time.Duration
}

// Result is what a run did.
type Result struct {
	Base       string   // namespace prefix, gvlab<pid>-<n>
	Dir        string   // configurations, sockets, logs
	Namespaces []string // created
	Steps      []Step
	Elapsed    time.Duration
	Kept       bool
}

type boxEvent struct {
	box int
	ev  api.Event
}

type demo struct {
	o        Options
	scr      *Screen
	nw       *Network
	ds       []*Daemon
	ping     *probe.Prober
	evc      chan boxEvent
	start    time.Time
	unplug   map[int]bool
	unsub    map[int]context.CancelFunc // per box: ends its event subscription
	res      *Result
	fresh    time.Duration // a reply younger than this counts as "replying"
	tornDown bool
}

// snap is one poll of the lab.
type snap struct {
	at    time.Time
	st    [][2]*api.RouterStatus // per box, per family; nil when unknown
	neigh [2]string              // the host's neighbour entry for VIP4, VIP6
}

func (o *Options) defaults() {
	if o.Interval == 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.Hold == 0 {
		o.Hold = max(1500*time.Millisecond, 3*o.Interval)
	}
	if o.PingEvery == 0 {
		o.PingEvery = 3 * time.Millisecond
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.CLI == "" {
		o.CLI = filepath.Join(filepath.Dir(o.Govrrpd), "govrrp")
	}
}

// Run plays the whole scenario. It removes the lab before returning, also
// on error and when ctx is cancelled (Ctrl-C), unless o.Keep and it
// succeeded.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	o.defaults()
	if err := CheckInterval(o.Interval); err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.Govrrpd); err != nil {
		return nil, fmt.Errorf("govrrpd binary: %w (run `make build`)", err)
	}
	d := &demo{
		o:      o,
		scr:    NewScreen(o.Out, o.TTY, o.Color),
		evc:    make(chan boxEvent, 4096),
		start:  time.Now(),
		unplug: map[int]bool{},
		unsub:  map[int]context.CancelFunc{},
		res:    &Result{},
		fresh:  max(50*time.Millisecond, 10*o.PingEvery),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	for _, li := range lab.SweepStale() {
		d.scr.Printf("%s", d.scr.Style(dim, fmt.Sprintf("(removed the leftovers of an earlier run that died: %s, %d namespaces)", li.Base, len(li.Namespaces))))
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", lab.Prefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	d.res.Dir = dir
	defer func() {
		if d.tornDown || (err == nil && o.Keep) {
			return
		}
		cancel()
		d.teardown(err)
	}()

	d.intro()
	if err := d.build(); err != nil {
		return d.res, err
	}
	for _, step := range []func(context.Context) error{d.startDaemons, d.startPings, d.cablePull, d.cableBack, d.gracefulStop} {
		if err := ctx.Err(); err != nil {
			return d.res, err
		}
		if err := step(ctx); err != nil {
			return d.res, err
		}
	}
	d.res.Elapsed = time.Since(d.start)
	d.summary()
	if o.Keep {
		return d.res, d.keep(ctx)
	}
	cancel()
	d.teardown(nil)
	d.next()
	return d.res, nil
}

func (d *demo) intro() {
	s := d.scr
	s.Println(s.Style(bold, "govrrp lab") + ": a VRRP LAN in network namespaces, narrated live")
	s.Printf("  three routers run a real govrrpd each (%s), VRID %d over IPv4 and IPv6,", display(d.o.Govrrpd), VRID)
	s.Printf("  adverts every %s; a host pings the virtual addresses every %s.", FormatDur(d.o.Interval), FormatDur(d.o.PingEvery))
}

func (d *demo) header(n int, text string) {
	d.scr.Println("")
	d.scr.Println(d.scr.Style(bold+";"+cyan, fmt.Sprintf("▸ %d/6 ", n)) + d.scr.Style(bold, text))
}

func (d *demo) note(format string, args ...any) {
	d.scr.Println("    " + fmt.Sprintf(format, args...))
}

func (d *demo) build() error {
	d.header(1, "Building the LAN")
	t0 := time.Now()
	nw, err := BuildNetwork(len(Priorities))
	if err != nil {
		return fmt.Errorf("build the LAN: %w", err)
	}
	d.nw = nw
	d.res.Base, d.res.Namespaces = nw.Base, nw.Names()
	d.note("namespaces %s-{br,r1,r2,r3,host} in %s; bridge br0 (multicast snooping off)", d.res.Base, FormatDur(time.Since(t0).Round(time.Millisecond)))
	for i, r := range nw.Routers {
		d.note("%-5s %-15s %-13s priority %d", r.Short, r.V4, r.V6, Priorities[i])
	}
	d.note("%-5s %-15s %s", "host", nw.Host.V4, nw.Host.V6)
	d.note("VIPs  %s  and  %s  (accept: true: the master answers pings)",
		strings.Join(VIPs4, ", "), strings.Join(VIPs6, " + "))
	d.note("%s", d.scr.Style(dim, "configurations, control sockets and logs in "+d.res.Dir))
	return nil
}

func (d *demo) startDaemons(ctx context.Context) error {
	d.header(2, "Starting govrrpd on r1, r2, r3")
	t0 := time.Now()
	for i, r := range d.nw.Routers {
		dm, err := StartDaemon(d.o.Govrrpd, r, d.res.Dir, Priorities[i], d.o.Interval, !d.o.Keep)
		if err != nil {
			return err
		}
		d.ds = append(d.ds, dm)
	}
	for i, dm := range d.ds {
		if err := dm.WaitAPI(ctx, 10*time.Second); err != nil {
			return err
		}
		d.subscribe(ctx, i)
	}
	s, err := d.waitFor(ctx, "r1 to win the election", t0, d.within(), d.expect("Master", "Backup", "Backup"))
	if err != nil {
		return err
	}
	d.hold(ctx, t0, d.o.Hold/2)
	d.scr.Commit(true)
	el := d.since(s, 0, t0)
	d.note("r1 is master of both virtual routers after %s: the highest priority wins, as its",
		FormatDur(max(el[0], el[1]).Round(time.Millisecond)))
	d.note("Master_Down_Timer (%s at priority 200) runs out first.",
		FormatDur(fsm.MasterDownInterval(3, 200, d.o.Interval)))
	return nil
}

func (d *demo) startPings(ctx context.Context) error {
	d.header(3, fmt.Sprintf("The host pings %s and %s", VIP4, VIP6))
	t0 := time.Now()
	p, err := probe.Start(probe.Host{Do: d.nw.Host.Do, IfName: "eth0"}, d.o.PingEvery, VIP4, VIP6)
	if err != nil {
		return fmt.Errorf("ping from the host: %w", err)
	}
	d.ping = p
	if _, err := d.waitFor(ctx, "the host's pings to reach r1", t0, 10*time.Second, d.served(0, t0)); err != nil {
		return err
	}
	d.hold(ctx, t0, d.o.Hold)
	d.scr.Commit(true)
	_, got, sent := p.Targets[0].Last()
	d.note("r1 answers: the host's ARP and neighbour entries for the VIPs hold r1's MAC %s.", d.nw.Routers[0].MAC)
	if lost := sent - got; lost > 0 {
		d.note("(%d of %d IPv4 echoes answered so far; the first ones waited for ARP)", got, sent)
	}
	return nil
}

func (d *demo) cablePull(ctx context.Context) error {
	d.header(4, "Cable pull: r1's port on the bridge goes down")
	step, err := d.cable(ctx, false, "r2 to take over from r1", "cable pull", 1, 150, "Master_Down_Interval ", d.expect("Fault", "Master", "Backup"))
	if err != nil {
		return err
	}
	iv, mdi := d.o.Interval, step.BoundDur
	d.note("r1 lost carrier and went to Fault; r2 heard no more adverts and took over")
	d.note("at %s (IPv4) and %s (IPv6) after the pull.", FormatOffset(step.Takeover[0]), FormatOffset(step.Takeover[1]))
	d.outage(step, true)
	d.note("RFC 5798 Master_Down_Interval for r2 (priority 150) = 3 × %s + Skew_Time %s = %s,",
		FormatDur(iv), FormatDur(fsm.SkewTime(3, 150, iv)), d.scr.Style(bold, FormatDur(mdi)))
	d.note("counted from r1's last advert, which left 0–%s before the pull: expect %s to %s.",
		FormatDur(iv), FormatDur(mdi-iv), FormatDur(mdi))
	return nil
}

func (d *demo) cableBack(ctx context.Context) error {
	d.header(5, "Cable back: r1 returns and preempts r2")
	step, err := d.cable(ctx, true, "r1 to preempt r2", "cable back", 0, 200, "its Master_Down_Interval ", d.expect("Master", "Backup", "Backup"))
	if err != nil {
		return err
	}
	d.note("r1 came back as Backup, discarded r2's lower-priority adverts (Preempt_Mode) and took")
	d.note("over when its own Master_Down_Timer ran out (%s at priority 200): at %s (IPv4)",
		FormatDur(step.BoundDur), FormatOffset(step.Takeover[0]))
	d.note("and %s (IPv6) after the plug. r2 stepped down on r1's first advert.", FormatOffset(step.Takeover[1]))
	d.outage(step, false)
	return nil
}

// cable pulls r1's cable (in false) or plugs it back, waits until want holds
// and box master serves the host, and measures the step against the
// Master_Down_Interval of the taker at priority prio.
func (d *demo) cable(ctx context.Context, in bool, what, name string, master, prio int, bound string, want cond) (Step, error) {
	t0 := time.Now()
	if err := d.nw.SetCable(d.nw.Routers[0], in); err != nil {
		return Step{}, err
	}
	d.unplug[0] = !in
	st, err := d.waitFor(ctx, what, t0, d.within(), d.all(want, d.served(master, t0)))
	if err != nil {
		return Step{}, err
	}
	d.hold(ctx, t0, d.o.Hold)
	d.scr.Commit(true)
	mdi := fsm.MasterDownInterval(3, uint8(prio), d.o.Interval)
	step := d.measure(name, master, st, t0)
	step.Bound, step.BoundDur = bound+FormatDur(mdi), mdi
	d.res.Steps = append(d.res.Steps, step)
	return step, nil
}

func (d *demo) gracefulStop(ctx context.Context) error {
	d.header(6, "Graceful stop: SIGTERM to r1's govrrpd")
	t0 := time.Now()
	// Our event stream from r1 stays open on purpose: govrrpd resigns at
	// once on SIGTERM whatever its API clients do.
	stopped := make(chan error, 1)
	go func() { stopped <- d.ds[0].Stop(5 * time.Second) }()
	st, err := d.waitFor(ctx, "r2 to take over from the stopped r1", t0, d.within(), d.all(d.expect("stopped", "Master", "Backup"), d.served(1, t0)))
	if err != nil {
		return err
	}
	if err := <-stopped; err != nil {
		return err
	}
	d.hold(ctx, t0, d.o.Hold*2/3)
	d.scr.Commit(true)
	iv := d.o.Interval
	skew := fsm.SkewTime(3, 150, iv)
	step := d.measure("graceful stop", 1, st, t0)
	step.Bound, step.BoundDur = "Skew_Time "+FormatDur(skew), skew
	d.res.Steps = append(d.res.Steps, step)
	d.note("r1 sent a priority-0 advert and released the VIPs; r2 took over")
	d.note("at %s (IPv4) and %s (IPv6) after the signal.", FormatOffset(step.Takeover[0]), FormatOffset(step.Takeover[1]))
	d.outage(step, true)
	d.note("RFC 5798 Skew_Time for r2 = (256 − 150) / 256 × %s = %s: a resigning master costs",
		FormatDur(iv), d.scr.Style(bold, FormatDur(skew)))
	d.note("Skew_Time instead of Master_Down_Interval (%s).", FormatDur(fsm.MasterDownInterval(3, 150, iv)))
	return nil
}

// measure reads the takeover times from the new master's state and the
// outage from the echo replies since the event.
func (d *demo) measure(name string, master int, s *snap, t0 time.Time) Step {
	step := Step{Name: name, Master: d.nw.Routers[master].Short, Takeover: d.since(s, master, t0)}
	now := time.Now()
	for f, t := range d.ping.Targets {
		step.Outage[f] = t.Outage(t0, now).Gap
	}
	return step
}

func (d *demo) outage(step Step, compare bool) {
	parts := make([]string, 2)
	for f, g := range step.Outage {
		parts[f] = fmt.Sprintf("%s %s", famNames[f], d.scr.Style(bold, FormatDur(g.Len)))
	}
	worst := max(step.Outage[0].Len, step.Outage[1].Len)
	verdict := ""
	switch {
	case worst <= d.o.PingEvery*5/2: // at most one echo missing
		verdict = ": no outage"
	case !compare:
	case worst <= step.BoundDur:
		verdict = d.scr.Style(green, " ≤ "+step.Bound)
	default:
		verdict = fmt.Sprintf(" = %s + %s", step.Bound, FormatDur(worst-step.BoundDur))
	}
	d.note("outage at the host: %s, %s%s", parts[0], parts[1], verdict)
	d.note("%s", d.scr.Style(dim, fmt.Sprintf("(the last echo reply before the event to the first after it; echoes every %s, so ≤ %s over)",
		FormatDur(d.o.PingEvery), FormatDur(2*d.o.PingEvery))))
}

// since returns when box i entered its current state, per family, relative
// to t0.
func (d *demo) since(s *snap, i int, t0 time.Time) [2]time.Duration {
	var out [2]time.Duration
	for f := range 2 {
		if st := s.st[i][f]; st != nil {
			out[f] = st.Since.Sub(t0)
		}
	}
	return out
}

func (d *demo) within() time.Duration {
	return 5*time.Second + 10*fsm.MasterDownInterval(3, 1, d.o.Interval)
}

func (d *demo) summary() {
	s := d.scr
	s.Println("")
	s.Println(s.Style(bold, "Summary") + fmt.Sprintf("  (adverts every %s, echoes every %s)", FormatDur(d.o.Interval), FormatDur(d.o.PingEvery)))
	w := []int{17, 9, 19, 19}
	s.Println(pad(false, w, cell{"  event", ""}, cell{"master", ""}, cell{"takeover v4 / v6", ""}, cell{"outage v4 / v6", ""}, cell{"RFC", ""}))
	for _, st := range d.res.Steps {
		s.Println(pad(false, w,
			cell{"  " + st.Name, ""},
			cell{"→ " + st.Master, ""},
			cell{fmt.Sprintf("%s / %s", FormatDur(st.Takeover[0].Round(time.Millisecond)), FormatDur(st.Takeover[1].Round(time.Millisecond))), ""},
			cell{fmt.Sprintf("%s / %s", FormatDur(st.Outage[0].Len.Round(time.Millisecond)), FormatDur(st.Outage[1].Len.Round(time.Millisecond))), ""},
			cell{st.Bound, ""}))
	}
	s.Printf("  the demo took %s", FormatDur(d.res.Elapsed.Round(10*time.Millisecond)))
}

func (d *demo) next() {
	s := d.scr
	s.Println("")
	s.Println(s.Style(bold, "Next:"))
	for _, l := range [][2]string{
		{"sudo make demo ARGS=--keep", "leave the lab up to explore (govrrp status -s, ip netns exec)"},
		{`sudo make demo ARGS="--interval 1s"`, "slower adverts: every time above scales with the interval"},
		{"bin/govrrp simulate", "the same scenario in the simulator, no privileges needed"},
	} {
		s.Printf("  %-38s %s", l[0], s.Style(dim, "# "+l[1]))
	}
}

// sudo is the prefix of the hints: "sudo " when we run under sudo.
func sudo() string {
	if os.Getenv("SUDO_USER") != "" {
		return "sudo "
	}
	return ""
}

// display shortens a path to a relative one under the working directory.
func display(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		if !strings.Contains(rel, "/") {
			return "./" + rel
		}
		return rel
	}
	return p
}

// keep restarts r1 so the kept lab is whole, then says how to explore it.
func (d *demo) keep(ctx context.Context) error {
	s := d.scr
	s.Println("")
	s.Println(s.Style(bold, "Keeping the lab") + ": restarting r1's govrrpd so it is whole again")
	t0 := time.Now()
	if err := restart(d.ds[0], false); err != nil {
		return err
	}
	if err := d.ds[0].WaitAPI(ctx, 10*time.Second); err != nil {
		return err
	}
	d.subscribe(ctx, 0)
	if _, err := d.waitFor(ctx, "r1 to be master again", t0, d.within(), d.expect("Master", "Backup", "Backup")); err != nil {
		return err
	}
	d.scr.Commit(true)
	d.ping.Stop()
	d.nw.Release()
	if err := os.WriteFile(filepath.Join(d.res.Dir, lab.KeptMarker), []byte(strings.Join(d.res.Namespaces, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	d.res.Kept = true
	cli, b, dir, su := display(d.o.CLI), d.res.Base, d.res.Dir, sudo()
	s.Println("")
	s.Println(s.Style(bold, "The lab is up.") + " Explore it:")
	for _, l := range [][2]string{
		{fmt.Sprintf("%s%s status -s %s/r1.sock", su, cli, dir), "who is master, as r1's daemon sees it"},
		{fmt.Sprintf("%s%s watch -s %s/r2.sock", su, cli, dir), "transitions as they happen"},
		{fmt.Sprintf("%sip netns exec %s-host ping %s", su, b, VIP4), "the host reaching the VIP"},
		{fmt.Sprintf("%sip netns exec %s-r2 tcpdump -ni eth0 vrrp", su, b), "adverts on the wire"},
		{fmt.Sprintf("%sip -n %s-br link set %s down", su, b, d.nw.Routers[0].Port), "pull r1's cable (up: plug it back)"},
		{fmt.Sprintf("%skill -TERM $(%sip netns pids %s-r1)", su, su, b), "stop r1's govrrpd gracefully"},
	} {
		s.Printf("  %-64s %s", l[0], s.Style(dim, "# "+l[1]))
	}
	s.Printf("  configurations and logs: %s/r{1,2,3}.{yaml,log}", dir)
	s.Printf("Remove it: %s%s --clean   (or: %smake demo ARGS=--clean)", su, display(filepath.Join(filepath.Dir(d.o.Govrrpd), "govrrp-lab")), su)
	return nil
}

// teardown stops everything and removes the lab.
func (d *demo) teardown(runErr error) {
	d.tornDown = true
	d.scr.Commit(runErr != nil)
	if d.ping != nil {
		d.ping.Stop()
	}
	interrupted := errors.Is(runErr, context.Canceled)
	if interrupted {
		d.scr.Println("")
		d.scr.Println(d.scr.Style(yellow, "Interrupted: stopping the daemons and removing the lab…"))
	} else if runErr != nil {
		for _, dm := range d.ds {
			d.scr.Println(d.scr.Style(dim, fmt.Sprintf("--- %s (last 25 lines) ---", dm.Log)))
			for _, l := range strings.Split(dm.LogTail(25), "\n") {
				d.scr.Println(d.scr.Style(dim, l))
			}
		}
	}
	for _, unsub := range d.unsub {
		unsub()
	}
	for _, dm := range d.ds {
		if err := dm.Stop(3 * time.Second); err != nil && runErr == nil {
			d.scr.Println(d.scr.Style(yellow, "warning: "+err.Error()))
		}
	}
	if d.nw != nil {
		d.nw.Destroy()
	}
	_ = os.RemoveAll(d.res.Dir)
	d.scr.Println(d.scr.Style(dim, fmt.Sprintf("lab removed: %d namespaces (%s-*) and %s", len(d.res.Namespaces), d.res.Base, d.res.Dir)))
}

// subscribe follows box i's transitions through its event stream, history
// included (the transitions before the subscription).
func (d *demo) subscribe(ctx context.Context, i int) {
	c := d.ds[i].Client
	ctx, d.unsub[i] = context.WithCancel(ctx)
	go func() {
		_ = c.Events(ctx, 1024, func(ev api.Event) {
			if ev.Type != "transition" {
				return
			}
			select {
			case d.evc <- boxEvent{i, ev}:
			default:
			}
		})
	}()
}

var reasons = map[string]string{
	"startup":                "startup",
	"shutdown":               "shutdown: sent priority 0",
	"master-no-response":     "Master_Down_Timer ran out",
	"priority-zero-advert":   "master resigned, Skew_Time ran out",
	"preempted":              "preempted a lower priority",
	"higher-priority-advert": "heard a higher priority",
	"address-tie-break":      "lost the address tie-break",
	"link-down":              "carrier lost",
	"fault-cleared":          "carrier back",
	"track-fault":            "tracked object failed",
}

// EventLine formats a transition for the narration.
func EventLine(t0 time.Time, box string, ev api.Event) string {
	fam := "IPv4"
	if ev.Router == Name6 {
		fam = "IPv6"
	}
	why := reasons[ev.Reason]
	if why == "" {
		why = ev.Reason
	}
	return fmt.Sprintf("    %s  %-3s %s  %s → %s  (%s)", FormatOffset(ev.Time.Sub(t0)), box, fam, ev.From, ev.To, why)
}

func (d *demo) drainEvents(t0 time.Time) {
	var evs []boxEvent
	for {
		select {
		case e := <-d.evc:
			evs = append(evs, e)
			continue
		default:
		}
		break
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ev.Time.Before(evs[j].ev.Time) })
	for _, e := range evs {
		line := EventLine(t0, d.nw.Routers[e.box].Short, e.ev)
		if e.ev.To == "Master" {
			line = d.scr.Style(green, line)
		} else {
			line = d.scr.Style(dim, line)
		}
		d.scr.Println(line)
	}
}

// poll asks every running daemon for its routers and the host for its
// neighbour entries.
func (d *demo) poll(ctx context.Context) *snap {
	s := &snap{at: time.Now(), st: make([][2]*api.RouterStatus, len(d.ds))}
	for i, dm := range d.ds {
		if !dm.Running() {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		rs, err := dm.Client.Routers(c)
		cancel()
		if err != nil {
			continue
		}
		for j := range rs {
			switch rs[j].Name {
			case Name4:
				s.st[i][0] = &rs[j]
			case Name6:
				s.st[i][1] = &rs[j]
			}
		}
	}
	s.neigh = [2]string{d.nw.Host.Neighbour(VIP4), d.nw.Host.Neighbour(VIP6)}
	return s
}

// boxOf names the box an address or MAC belongs to.
func (d *demo) boxOf(addrOrMAC string) string {
	for _, r := range d.nw.Routers {
		if addrOrMAC == r.V4.Addr().String() || addrOrMAC == r.LL.String() || addrOrMAC == r.MAC.String() {
			return r.Short
		}
	}
	return addrOrMAC
}

func (d *demo) view(s *snap) []string {
	boxes := make([]BoxView, len(d.nw.Routers))
	for i, r := range d.nw.Routers {
		b := BoxView{Name: r.Short, Prio: Priorities[i], CableOut: d.unplug[i]}
		switch {
		case i >= len(d.ds):
			b.Daemon = "not started"
		case !d.ds[i].Running():
			b.Daemon = "stopped"
		}
		for f := range 2 {
			if st := s.st[i][f]; st != nil {
				b.Fams[f] = FamView{State: st.State, Master: d.boxOf(st.Master), MasterPrio: st.MasterPriority}
			}
		}
		boxes[i] = b
	}
	var pings []PingView
	if d.ping != nil {
		for f, t := range d.ping.Targets {
			last, _, _ := t.Last()
			pv := PingView{VIP: t.Addr.String(), Started: true, Silent: s.at.Sub(last)}
			if last.IsZero() {
				pv.Silent = s.at.Sub(d.start)
			}
			pv.Replied = !last.IsZero() && pv.Silent < d.fresh
			if s.neigh[f] != "" {
				pv.Via = d.boxOf(s.neigh[f])
			}
			pings = append(pings, pv)
		}
	}
	return RenderTable(boxes, pings, d.scr.color)
}

type cond func(*snap) bool

func (d *demo) all(cs ...cond) cond {
	return func(s *snap) bool {
		for _, c := range cs {
			if !c(s) {
				return false
			}
		}
		return true
	}
}

// expect holds when every box is in the given state for both families
// ("stopped": its daemon is not running), and each Backup sees the Master.
func (d *demo) expect(states ...string) cond {
	return func(s *snap) bool {
		master := -1
		for i, want := range states {
			if want == "Master" {
				master = i
			}
		}
		for i, want := range states {
			if want == "stopped" {
				if d.ds[i].Running() {
					return false
				}
				continue
			}
			for f := range 2 {
				st := s.st[i][f]
				if st == nil || st.State != want {
					return false
				}
				if want == "Backup" && master >= 0 && d.boxOf(st.Master) != d.nw.Routers[master].Short {
					return false
				}
			}
		}
		return true
	}
}

// served holds when box i answers the host's pings on both families: the
// host's neighbour entries point at it and replies arrived after it became
// master (and after t0).
func (d *demo) served(i int, t0 time.Time) cond {
	return func(s *snap) bool {
		if d.ping == nil {
			return false
		}
		for f, t := range d.ping.Targets {
			st := s.st[i][f]
			if st == nil || st.State != "Master" || s.neigh[f] != d.nw.Routers[i].MAC.String() {
				return false
			}
			last, _, _ := t.Last()
			if !last.After(st.Since) || !last.After(t0) || s.at.Sub(last) > d.fresh {
				return false
			}
		}
		return true
	}
}

// waitFor polls the lab, narrating transitions and redrawing the table,
// until c holds.
func (d *demo) waitFor(ctx context.Context, what string, t0 time.Time, within time.Duration, c cond) (*snap, error) {
	deadline := time.Now().Add(within)
	tk := time.NewTicker(25 * time.Millisecond)
	defer tk.Stop()
	for {
		s := d.poll(ctx)
		d.drainEvents(t0)
		d.scr.Live(d.view(s))
		if c(s) {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("timed out after %v waiting for %s", within, what)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tk.C:
		}
	}
}

// hold shows the live table for dur (the steady state after a step).
func (d *demo) hold(ctx context.Context, t0 time.Time, dur time.Duration) {
	end := time.Now().Add(dur)
	_, _ = d.waitFor(ctx, "", t0, dur+time.Second, func(*snap) bool { return !time.Now().Before(end) })
}
