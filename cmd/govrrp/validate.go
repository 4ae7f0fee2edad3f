package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"govrrp/internal/config"
)

const validateUsage = `Usage: govrrp validate [--no-host] [FILE]

Checks a govrrpd configuration (default ` + config.DefaultFile + `) with
the checks govrrpd makes when it starts or reloads, without contacting
govrrpd or changing anything: first the file itself, then against this
machine (no virtual address is already an address of the host unless the
router owns it with priority 255, and an owner's interface has them; adverts
fit the interface's MTU; control_group exists). Prints "FILE: OK (N routers)"
and one line per router, or the problems as FILE:LINE:COL: what is wrong;
what to write instead (the first 50, then how many more).

Warnings, for what may appear later, do not fail the file: an interface
that does not exist yet (govrrpd runs the router when it appears), a track
script or notify command that is not installed.

  --no-host   skip the checks against this machine, e.g. on a build box
              that lacks the routers' interfaces

Exit status: 0 valid (warnings or not), 1 the file has errors or cannot be read, 2 usage error.
`

// host is the machine validate checks against; tests replace it.
var host config.Host = config.System{}

// defaultFile is what validate reads without FILE: govrrpd's default. A
// variable so tests need not depend on the machine's /etc.
var defaultFile = config.DefaultFile

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, validateUsage) }
	noHost := fs.Bool("no-host", false, "skip the checks against this machine")
	pos, err := parseInterspersed(fs, args)
	if err == flag.ErrHelp {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	file := defaultFile
	switch len(pos) {
	case 0:
	case 1:
		file = pos[0]
	default:
		fmt.Fprintln(stderr, "govrrp validate: need at most one configuration file")
		fmt.Fprint(stderr, validateUsage)
		return exitUsage
	}
	h := host
	if *noHost {
		h = nil
	}
	c, warns, err := config.LoadAndCheck(file, h)
	for _, w := range warns {
		fmt.Fprintf(stderr, "%s (warning)\n", w)
	}
	if err != nil {
		var errs *config.Errors
		if !errors.As(err, &errs) {
			fmt.Fprintf(stderr, "govrrp validate: %v\n", err)
			return exitFail
		}
		fmt.Fprintln(stderr, errs)
		fmt.Fprintf(stderr, "%s: %s\n", file, plural(errs.Len(), "error", "errors"))
		return exitFail
	}
	note := ""
	if *noHost {
		note = ", host checks skipped"
	}
	if len(warns) > 0 {
		note += ", " + plural(len(warns), "warning", "warnings")
	}
	fmt.Fprintf(stdout, "%s: OK (%s%s)\n", file, plural(len(c.Routers), "router", "routers"), note)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for i := range c.Routers {
		fmt.Fprintln(tw, routerSummary(&c.Routers[i]))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "govrrp validate: %v\n", err)
		return exitFail
	}
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// routerSummary is one tab-separated line about r: where it runs, what it
// announces, and the options that change its behaviour.
func routerSummary(r *config.Router) string {
	addrs := make([]string, len(r.Addresses))
	for i, a := range r.Addresses {
		if a.IsSingleIP() {
			addrs[i] = a.Addr().String()
		} else {
			addrs[i] = a.String()
		}
	}
	var opts []string
	if r.Owner() {
		opts = append(opts, "address owner")
	}
	switch {
	case !r.Preempt:
		opts = append(opts, "no preempt")
	case r.PreemptDelay > 0:
		opts = append(opts, fmt.Sprintf("preempt after %v", r.PreemptDelay))
	}
	if r.Version == 2 && r.AuthType != 0 {
		opts = append(opts, "auth "+r.AuthType.String())
	}
	if len(r.UnicastPeers) > 0 {
		peers := make([]string, len(r.UnicastPeers))
		for i, p := range r.UnicastPeers {
			peers[i] = p.String()
		}
		opts = append(opts, "unicast to "+strings.Join(peers, ","))
	}
	if r.VMAC {
		opts = append(opts, "vmac")
	}
	if r.Accept {
		opts = append(opts, "accept")
	}
	if n := len(r.Track.Interfaces) + len(r.Track.Scripts); n > 0 {
		opts = append(opts, "tracks "+plural(n, "object", "objects"))
	}
	line := fmt.Sprintf("  %s\t%s\tvrid %d\t%v\tv%s\tpriority %d\tevery %v\t%s",
		r.Name, r.Interface, r.VRID, r.Family, versionText(r.Version, r.V2Compat, "+v"), r.Priority, r.AdvertInterval, strings.Join(addrs, ", "))
	if len(opts) > 0 {
		line += "\t" + strings.Join(opts, ", ")
	}
	return line
}
